/**
 * Device identity takeover (issue 12, findings 1, 2 and 9), against the real in-process daemon
 * with certificates its CA issued over SCEP. Every device certificate the daemon issues has the
 * same subject, so an enrolled device could renew its own certificate and act as any other UDID,
 * or send Authenticate with a bound UDID and rebind it. Each attack is refused (400, never 401),
 * the victim keeps its binding, queue and push token, and each legal path that moves a binding
 * (identity renewal, RenewalReq, re-enrollment after CheckOut, an administrator's window) is
 * tested beside the attack it must not open.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { normaliseSerial } from '../../src/index.js';
import {
  commandOf,
  DeviceEmulator,
  expectOk,
  type EmulatorResponse,
} from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';
import { scepEnroller, type ScepDevice, type ScepEnroller } from './scep-enroll.js';

const STATIC_CHALLENGE = 'static-challenge-for-new-devices';
const INFO = { RequestType: 'DeviceInformation', Queries: ['DeviceName'] };

let h: Harness;
let scep: ScepEnroller;

beforeAll(async () => {
  h = await startHarness({ scepChallenge: STATIC_CHALLENGE });
  scep = await scepEnroller(h);
}, 60_000);

afterAll(async () => {
  await h.close();
});

const codeOf = (res: EmulatorResponse): unknown =>
  (JSON.parse(res.body.toString()) as { code?: unknown }).code;

/** A device speaking for `victim`'s UDID with another identity. */
function impostor(
  victim: ScepDevice,
  identity: { certificate: X509Certificate; privateKey: ScepDevice['privateKey'] },
): DeviceEmulator {
  return new DeviceEmulator({
    baseUrl: h.daemon.url,
    topic: h.topic,
    identity,
    keys: victim.device.keys,
  });
}

/** What a takeover must not change: the binding, a queued command, the push token. */
async function victimState(victim: ScepDevice) {
  const id = victim.device.enrollmentId;
  const identity = await h.api('GET', `/api/v1/enrollments/${id}/identity`);
  const commands = await h.api('GET', `/api/v1/enrollments/${id}/commands`);
  const enrollment = await h.api('GET', `/api/v1/enrollments/${id}`);
  // Last-seen times of the victim's own earlier requests are written behind; they are not state
  // an attacker could change (refused requests are never seen).
  const { lastSeenAt: _seen, ...rest } = enrollment.body as Record<string, unknown>;
  return { identity: identity.body, commands: commands.body, enrollment: rest };
}

/** Sends every device route an attacker would try; each must be 400 `ERR_CERT_BINDING`. */
async function expectRefusedEverywhere(attacker: DeviceEmulator): Promise<void> {
  const answers = [
    await attacker.idle(),
    await attacker.tokenUpdate({ PushMagic: 'attacker-magic', Token: Buffer.alloc(32, 7) }),
    await attacker.checkin('GetBootstrapToken'),
    await attacker.authenticate(),
    await attacker.checkin('CheckOut', { Topic: h.topic }),
  ];
  for (const res of answers) {
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('ERR_CERT_BINDING');
  }
}

async function queued(victim: ScepDevice): Promise<string> {
  const res = await h.api(
    'POST',
    `/api/v1/enrollments/${victim.device.enrollmentId}/commands`,
    INFO,
  );
  expect(res.status).toBe(201);
  return res.body.commandUuid as string;
}

describe('identity takeover (issue 12)', () => {
  test('fail/takeover by subject: a renewed certificate of device B cannot act as device A', async () => {
    const a = await scep.enrollDevice();
    const b = await scep.enrollDevice();
    await queued(a);
    const before = await victimState(a);
    // B renews its own certificate (RenewalReq, no challenge): same subject and issuer as A's.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rep = await scep.pkiOperation(privateKey, {
      renew: { certificate: b.certificate, privateKey: b.privateKey },
    });
    expect(rep.status).toBe('SUCCESS');
    const renewed = rep.certificate as X509Certificate;
    expect(renewed.subject).toBe(a.certificate.subject);
    await expectRefusedEverywhere(impostor(a, { certificate: renewed, privateKey }));
    expect(await victimState(a)).toEqual(before);
    expectOk(await a.device.idle(), 'Idle of A');
    const audit = await h.api('GET', '/api/v1/audit?limit=50');
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ action: 'identity.refused', target: a.device.enrollmentId }),
    );
  });

  test('fail/takeover at Authenticate: another enrollment’s certificate cannot rebind a bound UDID', async () => {
    const a = await scep.enrollDevice();
    const b = await scep.enrollDevice();
    await queued(a);
    const before = await victimState(a);
    await expectRefusedEverywhere(impostor(a, b));
    expect(await victimState(a)).toEqual(before);
    expectOk(await a.device.idle(), 'Idle of A');
    expectOk(await b.device.idle(), 'Idle of B');
  });

  test('fail/a certificate from another, unused link cannot take over at Authenticate', async () => {
    const a = await scep.enrollDevice();
    await queued(a);
    const before = await victimState(a);
    const fresh = await scep.certificateFor(await scep.challengeFromLink());
    await expectRefusedEverywhere(impostor(a, fresh));
    expect(await victimState(a)).toEqual(before);
  });

  test('fail/a certificate from the static --scep-challenge only creates new enrollments', async () => {
    const a = await scep.enrollDevice();
    const before = await victimState(a);
    const fromStatic = await scep.certificateFor(STATIC_CHALLENGE);
    await expectRefusedEverywhere(impostor(a, fromStatic));
    expect(await victimState(a)).toEqual(before);
    const newcomer = new DeviceEmulator({
      baseUrl: h.daemon.url,
      topic: h.topic,
      identity: await scep.certificateFor(STATIC_CHALLENGE),
    });
    await newcomer.enroll();
    expectOk(await newcomer.idle(), 'Idle of a new device');
  });

  test('ok/a RenewalReq signed by A’s bound certificate moves A’s binding; the old one stops', async () => {
    const a = await scep.enrollDevice();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rep = await scep.pkiOperation(privateKey, {
      renew: { certificate: a.certificate, privateKey: a.privateKey },
    });
    expect(rep.status).toBe('SUCCESS');
    const certificate = rep.certificate as X509Certificate;
    const renewed = impostor(a, { certificate, privateKey });
    expectOk(await renewed.idle(), 'Idle with the renewed certificate');
    const identity = await h.api('GET', `/api/v1/enrollments/${a.device.enrollmentId}/identity`);
    const serial = normaliseSerial(certificate.serialNumber);
    expect(identity.body.serial).toBe(serial);
    const record = await h.api('GET', `/api/v1/certificates/${serial}`);
    expect(record.body).toMatchObject({
      renewalOf: a.serial,
      boundEnrollmentId: a.device.enrollmentId,
      certId: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
    // The id is in the certificate itself, as a urn:uuid subjectAltName.
    expect(certificate.subjectAltName).toBe(`URI:urn:uuid:${String(record.body.certId)}`);
    const old = await a.device.idle();
    expect(old.status).toBe(400);
    expect(codeOf(old)).toBe('ERR_CERT_BINDING');
  });

  test('ok/identity renewal: the InstallProfile’s certificate takes over at Authenticate, the queue stays', async () => {
    const a = await scep.enrollDevice();
    const renew = await h.api(
      'POST',
      `/api/v1/enrollments/${a.device.enrollmentId}/identity/renew`,
    );
    expect(renew.status).toBe(202);
    const pending = await h.api('GET', `/api/v1/enrollments/${a.device.enrollmentId}/identity`);
    expect(pending.body.renewal).toMatchObject({ commandUuid: renew.body.commandUuid });
    const poll = await a.device.idle();
    expect(commandOf(poll)).toEqual({
      uuid: renew.body.commandUuid,
      requestType: 'InstallProfile',
    });
    const command = poll.plist?.Command as { Payload: Uint8Array };
    expectOk(await a.device.answer(renew.body.commandUuid as string, 'Acknowledged'), 'ack');
    const other = await queued(a);
    const identity = await scep.certificateFor(scep.challengeOf(command.Payload));
    const renewed = impostor(a, identity);
    expectOk(await renewed.authenticate(), 'Authenticate with the renewed identity');
    expectOk(await renewed.tokenUpdate(), 'TokenUpdate with the renewed identity');
    const after = await h.api('GET', `/api/v1/enrollments/${a.device.enrollmentId}/identity`);
    expect(after.body).toMatchObject({
      serial: normaliseSerial(identity.certificate.serialNumber),
      renewal: null,
    });
    expect(commandOf(await renewed.idle())?.uuid).toBe(other);
    expect((await a.device.idle()).status).toBe(400);
  });

  test('fail/a renewal certificate minted for A cannot act as, or enroll, another UDID', async () => {
    const a = await scep.enrollDevice();
    const b = await scep.enrollDevice();
    const renew = await h.api(
      'POST',
      `/api/v1/enrollments/${a.device.enrollmentId}/identity/renew`,
    );
    expect(renew.status).toBe(202);
    const poll = await a.device.idle();
    const payload = (poll.plist?.Command as { Payload: Uint8Array }).Payload;
    const forA = await scep.certificateFor(scep.challengeOf(payload));
    await expectRefusedEverywhere(impostor(b, forA));
    const stranger = new DeviceEmulator({
      baseUrl: h.daemon.url,
      topic: h.topic,
      identity: forA,
      keys: { UDID: randomUUID().toUpperCase() },
    });
    const res = await stranger.authenticate();
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('ERR_CERT_BINDING');
  });

  test('ok/re-enrollment after CheckOut binds the new certificate', async () => {
    const a = await scep.enrollDevice();
    expectOk(await a.device.checkin('CheckOut', { Topic: h.topic }), 'CheckOut');
    const again = await scep.enrollDevice(a.device.keys);
    expectOk(await again.device.idle(), 'Idle after re-enrollment');
    expect((await a.device.idle()).status).toBe(400);
  });

  test('ok/an administrator’s window lets a re-enrolling device bind a new certificate, once', async () => {
    const a = await scep.enrollDevice();
    const wiped = impostor(a, await scep.certificateFor(await scep.challengeFromLink()));
    expect((await wiped.authenticate()).status).toBe(400);
    const path = `/api/v1/enrollments/${a.device.enrollmentId}/identity/reenrollment`;
    const open = await h.api('POST', path, { expiresInSeconds: 600 });
    expect(open.status).toBe(200);
    expectOk(await wiped.authenticate(), 'Authenticate in the window');
    expectOk(await wiped.tokenUpdate(), 'TokenUpdate in the window');
    const identity = await h.api('GET', `/api/v1/enrollments/${a.device.enrollmentId}/identity`);
    expect(identity.body.reenrollUntil).toBeNull();
    const late = impostor(a, await scep.certificateFor(await scep.challengeFromLink()));
    expect((await late.authenticate()).status).toBe(400);
  });

  test('fail/bad input on the identity routes is 4xx with a code', async () => {
    const a = await scep.enrollDevice();
    const base = `/api/v1/enrollments/${a.device.enrollmentId}/identity`;
    for (const body of [null, [], { expiresInSeconds: 1 }, { expiresInSeconds: 'x' }, { x: 1 }]) {
      const res = await h.api('POST', `${base}/reenrollment`, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    }
    const missing = await h.api('GET', `/api/v1/enrollments/${randomUUID()}/identity`);
    expect(missing.status).toBe(404);
  });
});

describe('one-time SCEP challenge and the CA policy (issue 12, finding 9)', () => {
  test('fail/a request the CA refuses for a weak key does not use up the challenge', async () => {
    const challenge = await scep.challengeFromLink();
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const refused = await scep.pkiOperation(weak, { challenge });
    expect(refused).toMatchObject({ status: 'FAILURE', failInfo: 'badAlg' });
    const issued = await scep.pkiOperation(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      {
        challenge,
      },
    );
    expect(issued.status).toBe('SUCCESS');
    const reused = await scep.pkiOperation(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      {
        challenge,
      },
    );
    expect(reused).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
  });
});

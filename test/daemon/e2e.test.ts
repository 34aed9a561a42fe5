/**
 * End to end through HTTP only, like a real device and a real operator: an enrollment link from
 * the API, the signed profile verified against the CA from GetCACert, a simulated device
 * (`src/sim`) that enrolls from the link over SCEP with the profile's one-time challenge and sends
 * Authenticate and TokenUpdate signed with that identity, a DeviceInformation command queued with
 * the API, the push at the simulator's APNs endpoint, which makes the device connect, poll and
 * acknowledge, the result read back; then a restart and everything still there. Debian's
 * scepclient checks that the spent challenge issues nothing more. The daemon's whole log (at
 * debug level) must contain no key, token, challenge or push magic.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyProfile, type PlistDict } from '../../src/index.js';
import {
  createKeyPool,
  createSimApns,
  createSimDevice,
  type SimApns,
  type SimDeviceHandle,
  type SimKeyPool,
  type SimSessionResult,
} from '../../src/sim/index.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { newTopic } from '../push/pki.js';

/** A push the APNs endpoint accepted, with the session it made the pushed device run. */
interface Pushed {
  token: string;
  topic: string;
  pushMagic: string;
  session: Promise<SimSessionResult>;
}

const secrets: string[] = [];
let daemon: TestDaemon;
let apns: SimApns;
let keys: SimKeyPool;
let topic: string;
const devices = new Map<string, SimDeviceHandle>();
const waiting: ((p: Pushed) => void)[] = [];

/**
 * A pushed device connects, as a real one does; the next waiter gets the push and the session.
 * A push nobody waits for still makes the device connect; its outcome is not asserted.
 */
function onPush(token: string, payload: { mdm: string }, pushTopic: string): void {
  const device = devices.get(token);
  if (device === undefined) return;
  const session = device.connect();
  const waiter = waiting.shift();
  if (waiter === undefined) session.catch(() => undefined);
  else waiter({ token, topic: pushTopic, pushMagic: payload.mdm, session });
}

function nextPush(): Promise<Pushed> {
  return new Promise((resolve) => waiting.push(resolve));
}

beforeAll(async () => {
  [apns, keys] = await Promise.all([createSimApns({ onPush }), createKeyPool(1)]);
  topic = newTopic();
  const push = await apns.issuePushIdentity(topic);
  const dir = mkdtempSync(join(tmpdir(), 'orchard-e2e-'));
  writeFileSync(join(dir, 'push.pem'), push.certPem);
  writeFileSync(join(dir, 'push.key'), push.keyPem);
  writeFileSync(join(dir, 'apns-ca.pem'), apns.caPem);
  daemon = await spawnDaemon({
    args: [
      ...['--push-cert', join(dir, 'push.pem'), '--push-key', join(dir, 'push.key')],
      ...[
        '--apns-url',
        apns.url,
        '--apns-ca',
        join(dir, 'apns-ca.pem'),
        '--log-level',
        'debug',
        '--scep-allow-des',
      ],
    ],
  });
  secrets.push(daemon.apiKey ?? '');
}, 90_000);

afterAll(async () => {
  await daemon.cleanup();
  await apns.close();
});

async function fetchCa(): Promise<X509Certificate> {
  const res = await fetch(`${daemon.url}/scep?operation=GetCACert`);
  expect(res.status).toBe(200);
  return new X509Certificate(Buffer.from(await res.arrayBuffer()));
}

function payloadOf(profile: PlistDict, type: string): PlistDict {
  const found = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === type);
  if (!found) throw new Error(`no ${type} payload`);
  return found;
}

function scepclientEnroll(challenge: string): { certificate: X509Certificate; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-scepclient-'));
  try {
    execFileSync(
      'scepclient',
      [
        ...['-server-url', `${daemon.url}/scep`, '-challenge', challenge, '-cn', 'e2e-device'],
        ...['-private-key', join(dir, 'key.pem'), '-certificate', join(dir, 'cert.pem')],
      ],
      { timeout: 60_000, stdio: 'pipe' },
    );
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`scepclient failed: ${String(e.stdout)}${String(e.stderr)}`, { cause: error });
  }
  return {
    certificate: new X509Certificate(readFileSync(join(dir, 'cert.pem'))),
    keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}

describe('orchard serve end to end', () => {
  let device: SimDeviceHandle;
  let commandUuid: string;
  let caDer: Buffer;

  test('ok/enrollment profile is signed by a CA-issued identity and carries the MDM payload', async () => {
    const link = await daemon.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    expect(link.status).toBe(201);
    const token = String(link.body.url).split('/enroll/')[1] ?? '';
    secrets.push(token);
    const res = await fetch(link.body.url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-apple-aspen-config');
    const ca = await fetchCa();
    caDer = ca.raw;
    const verified = verifyProfile(Buffer.from(await res.arrayBuffer()), { roots: [ca] });
    expect(verified.chain?.at(-1)?.fingerprint256).toBe(ca.fingerprint256);
    const mdm = payloadOf(verified.profile, 'com.apple.mdm');
    expect(mdm).toMatchObject({
      Topic: topic,
      ServerURL: `${daemon.url}/mdm`,
      CheckInURL: `${daemon.url}/mdm/checkin`,
      SignMessage: true,
      AccessRights: 8191,
      CheckOutWhenRemoved: true,
    });
    const scep = payloadOf(verified.profile, 'com.apple.security.scep');
    expect(mdm.IdentityCertificateUUID).toBe(scep.PayloadUUID);
    const challenge = (scep.PayloadContent as PlistDict).Challenge as string;
    secrets.push(challenge);
    // A single-use link is spent by the enrollment, not by the download.
    const again = await fetch(link.body.url as string);
    expect(again.status).toBe(200);
    await again.arrayBuffer();

    device = createSimDevice({
      platform: 'iOS',
      osVersion: '18.1',
      keys,
      serialNumber: 'EMU0001',
      deviceName: 'E2E Phone',
    });
    devices.set(device.pushToken, device);
    apns.register(device.pushToken);
    secrets.push(device.pushMagic, device.pushToken);
    await device.enroll({ url: link.body.url as string });
    expect(device.enrolled).toBe(true);
    expect(device.topic).toBe(topic);
    expect((await fetch(link.body.url as string)).status).toBe(404);
    expect(device.certificate?.checkIssued(ca)).toBe(true);
  }, 90_000);

  test('fail/the used challenge does not issue a second certificate', () => {
    const used = secrets[2] ?? '';
    expect(() => scepclientEnroll(used)).toThrow(/failInfo: badRequest/);
  }, 60_000);

  test('ok/a command queued with the API is pushed, polled, acknowledged and read back', async () => {
    const id = device.enrollmentId;
    const pushed = nextPush();
    const listed = await daemon.api('GET', '/api/v1/enrollments?enrolled=true');
    expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(id);
    const queued = await daemon.api('POST', `/api/v1/enrollments/${id}/commands`, {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    expect(queued.status).toBe(201);
    commandUuid = queued.body.commandUuid as string;
    const push = await pushed;
    expect(push).toMatchObject({ token: device.pushToken, topic, pushMagic: device.pushMagic });

    // The pushed device polled, got the command, and acknowledged it.
    const session = await push.session;
    expect(session.errors).toEqual([]);
    expect(session.requestTypes).toEqual({ DeviceInformation: 1 });
    expect(session.commands).toEqual({ Acknowledged: 1 });
    const read = await daemon.api('GET', `/api/v1/commands/${commandUuid}`);
    expect(read.body.targets).toEqual([
      expect.objectContaining({
        enrollmentId: id,
        status: 'Acknowledged',
        result: expect.objectContaining({ QueryResponses: { DeviceName: 'E2E Phone' } }),
      }),
    ]);
  }, 60_000);

  test('ok/after a restart everything is still there', async () => {
    expect(await daemon.kill('SIGTERM')).toBe(0);
    await daemon.restart();
    const read = await daemon.api('GET', `/api/v1/commands/${commandUuid}`);
    expect(read.status).toBe(200);
    expect(read.body.targets[0].status).toBe('Acknowledged');
    const enrollment = await daemon.api('GET', `/api/v1/enrollments/${device.enrollmentId}`);
    expect(enrollment.body).toMatchObject({ enrolled: true, serialNumber: 'EMU0001' });
    expect((await fetchCa()).raw.equals(caDer)).toBe(true);
    const after = await device.connect();
    expect(after.errors).toEqual([]);
    expect(after.commands).toEqual({});
    const audit = await daemon.api('GET', '/api/v1/audit');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['enrollment-token.create', 'enrollment-token.use', 'command.create']),
    );
  }, 90_000);

  test('ok/the log holds no key, token, challenge or push magic', () => {
    const text = daemon.stdout.join('\n') + daemon.stderr();
    expect(daemon.stdout.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/BEGIN (CERTIFICATE|PRIVATE KEY)/);
  });
});

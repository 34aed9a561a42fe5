/**
 * Enrollment links against a delayed install (issue 13, item 1), on the in-process daemon with an
 * injected clock that the CA, the one-time challenges, the certificate checks and the admin
 * records all run on. Apple's Stolen Device Protection may hold a manual enrollment for an hour,
 * and users are slow: a profile's challenge lives as long as its link, a single-use link stays
 * downloadable until a device enrolls with it, and from then on every challenge it gave out is
 * refused.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { createCsr } from '../../src/crypto/csr.js';
import {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
  verifyProfile,
  type CertRepResult,
  type PlistDict,
} from '../../src/index.js';
import { commandOf, DeviceEmulator, expectOk } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';
import { DEVICE_SUBJECT } from './scep-enroll.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let h: Harness;
let ca: X509Certificate;
let now = Date.now();
const clock = (): Date => new Date(now);
const advance = (ms: number): void => {
  now += ms;
};

beforeAll(async () => {
  h = await startHarness({}, { clock });
  const res = await fetch(`${h.daemon.url}/scep?operation=GetCACert`);
  ca = new X509Certificate(Buffer.from(await res.arrayBuffer()));
}, 60_000);

afterAll(async () => {
  await h.close();
});

interface Link {
  id: string;
  url: string;
}

async function createLink(body: object = {}): Promise<Link> {
  const res = await h.api('POST', '/api/v1/enrollment-tokens', body);
  expect(res.status).toBe(201);
  return res.body as Link;
}

function challengeOf(signed: Uint8Array): string {
  const { profile } = verifyProfile(signed, { roots: [ca] });
  const scep = (profile.PayloadContent as PlistDict[]).find(
    (p) => p.PayloadType === 'com.apple.security.scep',
  );
  return (scep?.PayloadContent as PlistDict).Challenge as string;
}

/** Downloads the link's profile; resolves its challenge, or the HTTP status when refused. */
async function download(link: Link): Promise<string | number> {
  const res = await fetch(link.url);
  if (res.status !== 200) return res.status;
  return challengeOf(Buffer.from(await res.arrayBuffer()));
}

async function challengeFrom(link: Link): Promise<string> {
  const challenge = await download(link);
  if (typeof challenge !== 'string') throw new Error(`download answered ${String(challenge)}`);
  return challenge;
}

/** A PKCSReq signed at the daemon's time, as a device whose clock agrees would send it. */
async function pkcsReq(challenge: string): Promise<CertRepResult & { privateKey: KeyObject }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = {
    certificate: createTransientCertificate(privateKey, 'CN=transient', clock()),
    privateKey,
  };
  const request = createScepRequest({
    messageType: 'PKCSReq',
    content: createCsr({ subject: DEVICE_SUBJECT, privateKey, challengePassword: challenge }),
    signer,
    recipient: ca,
    signingTime: clock(),
  });
  const reply = await fetch(`${h.daemon.url}/scep?operation=PKIOperation`, {
    method: 'POST',
    body: request.der,
  });
  expect(reply.status).toBe(200);
  const rep = readCertRep(Buffer.from(await reply.arrayBuffer()), request, {
    privateKey,
    responders: [ca],
  });
  return { ...rep, privateKey };
}

/** Enrolls a device with `challenge`: SCEP, then Authenticate and TokenUpdate. */
async function enrollWith(challenge: string): Promise<DeviceEmulator> {
  const rep = await pkcsReq(challenge);
  expect(rep.status).toBe('SUCCESS');
  const device = new DeviceEmulator({
    baseUrl: h.daemon.url,
    topic: h.topic,
    identity: { certificate: rep.certificate as X509Certificate, privateKey: rep.privateKey },
  });
  await device.enroll();
  return device;
}

async function linkView(id: string): Promise<Record<string, unknown>> {
  const listed = await h.api('GET', '/api/v1/enrollment-tokens?limit=1000');
  return (listed.body.items as { id: string }[]).find((t) => t.id === id) as Record<
    string,
    unknown
  >;
}

describe('a profile installed late still enrolls (Stolen Device Protection)', () => {
  test.each([
    ['61 minutes', 61 * MINUTE],
    ['23 hours', 23 * HOUR],
  ])('ok/single-use link: download, wait %s, enroll; the link is then spent', async (_, wait) => {
    const link = await createLink({ singleUse: true });
    const challenge = await challengeFrom(link);
    advance(wait);
    const device = await enrollWith(challenge);
    expect((await h.api('GET', `/api/v1/enrollments/${device.enrollmentId}`)).status).toBe(200);
    expect(await download(link)).toBe(404);
    expect(await linkView(link.id)).toMatchObject({ uses: 1, enrollments: 1 });
  });
});

describe('single-use links are spent by enrollment, not by download', () => {
  test.each([
    ['the first download', 0],
    ['the second download', 1],
  ])('ok/a re-download works; %s enrolls and every other challenge is refused', async (_, n) => {
    const link = await createLink({ singleUse: true });
    const first = await challengeFrom(link);
    advance(2 * HOUR);
    const second = await challengeFrom(link);
    expect(second).not.toBe(first);
    const [used, other] = n === 0 ? [first, second] : [second, first];
    await enrollWith(used);
    expect(await pkcsReq(other)).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
    expect(await download(link)).toBe(404);
    const audit = await h.api('GET', '/api/v1/audit?limit=1000');
    const enrolled = (audit.body.items as { action: string; target: string }[]).filter(
      (e) => e.action === 'enrollment-token.enroll' && e.target === link.id,
    );
    expect(enrolled).toHaveLength(1);
  });

  test('ok/a multi-use link mints a fresh one-time challenge per download', async () => {
    const link = await createLink({ singleUse: false });
    const a = await challengeFrom(link);
    const b = await challengeFrom(link);
    expect(a).not.toBe(b);
    advance(3 * HOUR);
    await enrollWith(a);
    await enrollWith(b);
    expect(await pkcsReq(a)).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
    expect(await linkView(link.id)).toMatchObject({ uses: 2, enrollments: 2 });
    expect(typeof (await download(link))).toBe('string');
  });
});

describe('a link that ends takes its challenges with it', () => {
  test('fail/an expired link answers 404 and its challenge is refused', async () => {
    const link = await createLink({ expiresInSeconds: 2 * 3600 });
    const challenge = await challengeFrom(link);
    advance(2 * HOUR + 1000);
    expect(await download(link)).toBe(404);
    expect(await pkcsReq(challenge)).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
  });

  test('fail/a revoked link answers 404 and its challenge is refused', async () => {
    const link = await createLink({});
    const challenge = await challengeFrom(link);
    expect((await h.api('DELETE', `/api/v1/enrollment-tokens/${link.id}`)).status).toBe(200);
    expect(await download(link)).toBe(404);
    expect(await pkcsReq(challenge)).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
  });

  test('ok/a never-expiring link gives 7-day challenges; a fresh download after that works', async () => {
    const link = await createLink({ singleUse: false, expiresInSeconds: 0 });
    const late = await challengeFrom(link);
    const early = await challengeFrom(link);
    advance(6 * DAY + 23 * HOUR);
    await enrollWith(early);
    advance(2 * HOUR);
    expect(await pkcsReq(late)).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
    await enrollWith(await challengeFrom(link));
  });
});

describe('identity renewal challenges', () => {
  test('ok/a renewal profile answered hours later still renews (its challenge lives the lead time)', async () => {
    const device = await enrollWith(await challengeFrom(await createLink({})));
    const renew = await h.api('POST', `/api/v1/enrollments/${device.enrollmentId}/identity/renew`);
    expect(renew.status).toBe(202);
    const poll = await device.idle();
    expect(commandOf(poll)?.requestType).toBe('InstallProfile');
    expectOk(await device.answer(renew.body.commandUuid as string, 'Acknowledged'), 'ack');
    const payload = (poll.plist?.Command as { Payload: Uint8Array }).Payload;
    advance(2 * HOUR);
    expect((await pkcsReq(challengeOf(payload))).status).toBe('SUCCESS');
  });
});

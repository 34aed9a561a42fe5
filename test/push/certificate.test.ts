import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrchardError } from '../../src/errors.js';
import {
  daysLeft,
  loadPushCertificate,
  summarizePushCertificate,
  type PushCertificateSource,
} from '../../src/push/apns/certificate.js';
import {
  createApnsTestPki,
  issuePushCertificate,
  newTopic,
  type ApnsTestPki,
  type PemPair,
} from './pki.js';

let pki: ApnsTestPki;
let topic: string;
let good: PemPair;
let rsa: PemPair;
let dir: string;
const DAY = 86_400_000;

beforeAll(async () => {
  pki = await createApnsTestPki();
  topic = newTopic();
  good = await issuePushCertificate(pki, { topic });
  rsa = await issuePushCertificate(pki, { topic, rsa: true });
  dir = mkdtempSync(join(tmpdir(), 'orchard-push-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A real PKCS#12 from the openssl CLI. */
function p12(pair: PemPair, password: string, extra: string[] = []): Buffer {
  writeFileSync(join(dir, 'c.pem'), pair.certPem + pki.ca.certPem);
  writeFileSync(join(dir, 'k.pem'), pair.keyPem);
  const out = join(dir, 'p.p12');
  execFileSync('openssl', [
    'pkcs12',
    '-export',
    '-in',
    join(dir, 'c.pem'),
    '-inkey',
    join(dir, 'k.pem'),
    '-out',
    out,
    '-passout',
    `pass:${password}`,
    ...extra,
  ]);
  return readFileSync(out);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof OrchardError ? error.code : `not an OrchardError: ${String(error)}`;
  }
  return undefined;
}

describe('push certificate loading', () => {
  test('ok/PEM pair: topic, dates, key', () => {
    const cert = loadPushCertificate(good);
    expect(cert.topic).toBe(topic);
    expect(cert.notAfter.getTime()).toBeGreaterThan(Date.now() + 364 * DAY);
    expect(cert.certificate.checkPrivateKey(cert.privateKey)).toBe(true);
  });

  test('ok/PEM with the chain first still finds the leaf by its key', () => {
    const cert = loadPushCertificate({
      certPem: pki.ca.certPem + good.certPem,
      keyPem: good.keyPem,
    });
    expect(cert.topic).toBe(topic);
    expect(cert.certPem.indexOf(cert.certificate.toString())).toBe(0);
  });

  test.each([
    ['ok/PKCS#12 from openssl 3 defaults (AES-256, PBKDF2)', []],
    [
      'ok/PKCS#12 in the legacy 3DES/SHA-1 format Keychain exports',
      ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
    ],
  ])('%s', (_name, extra) => {
    const cert = loadPushCertificate({ pkcs12: p12(rsa, 'secret', extra), password: 'secret' });
    expect(cert.topic).toBe(topic);
    expect(cert.certificate.checkPrivateKey(cert.privateKey)).toBe(true);
  });

  test('fail/PKCS#12 with a wrong password', () => {
    expect(
      codeOf(() => loadPushCertificate({ pkcs12: p12(rsa, 'secret'), password: 'nope' })),
    ).toBe('ERR_PKCS12');
  });

  test.each<[string, () => Promise<PushCertificateSource>, string, number?]>([
    ['fail/no subject UID', async () => issuePushCertificate(pki, {}), 'ERR_PUSH_NO_TOPIC'],
    [
      'fail/key of another certificate',
      () => Promise.resolve({ certPem: good.certPem, keyPem: rsa.keyPem }),
      'ERR_PUSH_KEY_MISMATCH',
    ],
    [
      'fail/expired',
      async () => issuePushCertificate(pki, { topic, fromDays: -400, toDays: -1 }),
      'ERR_CERT_EXPIRED',
    ],
    [
      'fail/not yet valid',
      async () => issuePushCertificate(pki, { topic, fromDays: 2, toDays: 30 }),
      'ERR_CERT_NOT_YET_VALID',
    ],
    [
      'fail/garbage instead of a certificate',
      () => Promise.resolve({ certPem: 'hello', keyPem: good.keyPem }),
      'ERR_CERT_FORMAT',
    ],
    [
      'fail/garbage instead of a key',
      () => Promise.resolve({ certPem: good.certPem, keyPem: 'nope' }),
      'ERR_KEY_FORMAT',
    ],
  ])('%s', async (_name, make, code) => {
    const source = await make();
    expect(codeOf(() => loadPushCertificate(source))).toBe(code);
  });

  test('ok/allowExpired loads an expired certificate for inspection', async () => {
    const old = await issuePushCertificate(pki, { topic, fromDays: -400, toDays: -3 });
    const cert = loadPushCertificate(old, { allowExpired: true });
    expect(cert.notAfter.getTime()).toBeLessThan(Date.now());
  });

  test.each([
    ['ok/1.5 days before expiry is 1 day left', -1.5 * DAY, 1],
    ['ok/1 ms before expiry is 0 days left', -1, 0],
    ['ok/1 ms after expiry is -1', 1, -1],
    ['ok/3 days after expiry is -3', 3 * DAY, -3],
  ])('%s', (_name, offset, expected) => {
    const notAfter = new Date(1_800_000_000_000);
    expect(daysLeft(notAfter, notAfter.getTime() + offset)).toBe(expected);
  });

  test('ok/summary without the key', () => {
    const now = Date.now();
    const s = summarizePushCertificate(good.certPem, now);
    expect(s).toMatchObject({ topic, expired: false });
    expect(s.daysLeft).toBe(daysLeft(new Date(s.notAfter), now));
    expect(s.subject).toContain(`UID=${topic}`);
  });
});

/**
 * The enrollment profile's CAFingerprint against GetCACert (issue 13, item 3), on a daemon whose
 * EC root delegates to an RSA RA and an RSA issuing CA (the default layout, as with rsa-4096).
 * Our SCEP client does what Apple's does (SecSCEP.c): reads GetCACert, takes the top of the chain,
 * compares its SHA-1 with the profile's CAFingerprint, encrypts to the RA and enrolls. Debian's
 * `scepclient -ca-fingerprint` means something else, the hex SHA-256 of the certificate to encrypt
 * to; it works with the RA's, and fails with the profile's value.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr } from '../../src/crypto/csr.js';
import { verifyCertificateChain } from '../../src/crypto/chain.js';
import {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
  verifyProfile,
  type PlistDict,
} from '../../src/index.js';
import {
  readScepCaCertificates,
  type ScepCaCertificates,
} from '../../src/identity/scep/ca-certs.js';
import { ScepContentType } from '../../src/identity/scep/constants.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';
import { DEVICE_SUBJECT } from './scep-enroll.js';

const STATIC = 'static-challenge-for-scepclient';
let h: Harness;
let getCaCert: { body: Buffer; type: string };
let root: X509Certificate;
let ra: X509Certificate;
let issuing: X509Certificate;

beforeAll(async () => {
  h = await startHarness({ caKeyType: 'ec-p384', scepAllowDes: 'true', scepChallenge: STATIC });
  const res = await fetch(`${h.daemon.url}/scep?operation=GetCACert`);
  getCaCert = {
    body: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type') ?? '',
  };
  const pem = (name: string) => new X509Certificate(readFileSync(join(h.dataDir, 'ca', name)));
  root = pem('ca.pem');
  ra = pem('ra.pem');
  issuing = pem('issuing.pem');
}, 60_000);

afterAll(async () => {
  await h.close();
});

/** The SCEP payload of a fresh link's profile, verified against the root. */
async function scepPayload(): Promise<PlistDict> {
  const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
  const signed = Buffer.from(await (await fetch(link.body.url as string)).arrayBuffer());
  const { profile } = verifyProfile(signed, { roots: [root] });
  const scep = (profile.PayloadContent as PlistDict[]).find(
    (p) => p.PayloadType === 'com.apple.security.scep',
  );
  return scep?.PayloadContent as PlistDict;
}

describe('GetCACert and the profile agree', () => {
  test('ok/GetCACert is a certs-only CMS with the RA, the issuing CA and the root', () => {
    expect(getCaCert.type).toBe(ScepContentType.caRaCert);
    const read = readScepCaCertificates(getCaCert.body, getCaCert.type);
    const held = read.certificates.map((c) => c.fingerprint256).sort();
    expect(held).toEqual([ra, issuing, root].map((c) => c.fingerprint256).sort());
    expect(read.root.raw.equals(root.raw)).toBe(true);
    expect(read.recipient.raw.equals(ra.raw)).toBe(true);
  });

  test("ok/the profile's CAFingerprint is the SHA-1 of the root at the top of that chain", async () => {
    const fingerprint = (await scepPayload()).CAFingerprint as Uint8Array;
    expect(fingerprint).toHaveLength(20);
    expect(Buffer.from(fingerprint)).toEqual(createHash('sha1').update(root.raw).digest());
  });
});

describe("enrolling as Apple's SCEP client does", () => {
  let read: ScepCaCertificates;
  let challenge: string;

  beforeAll(async () => {
    const payload = await scepPayload();
    challenge = payload.Challenge as string;
    const res = await fetch(`${h.daemon.url}/scep?operation=GetCACert`);
    read = readScepCaCertificates(
      Buffer.from(await res.arrayBuffer()),
      res.headers.get('content-type') ?? '',
      { caFingerprint: payload.CAFingerprint as Uint8Array },
    );
  });

  test('ok/fingerprint checked, PKCSReq to the RA, CertRep signed by it, the device enrolls', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const request = createScepRequest({
      messageType: 'PKCSReq',
      content: createCsr({ subject: DEVICE_SUBJECT, privateKey, challengePassword: challenge }),
      signer: { certificate: createTransientCertificate(privateKey, 'CN=device'), privateKey },
      recipient: read.recipient,
    });
    const reply = await fetch(`${h.daemon.url}/scep?operation=PKIOperation`, {
      method: 'POST',
      body: request.der,
    });
    const rep = readCertRep(Buffer.from(await reply.arrayBuffer()), request, {
      privateKey,
      responders: [read.signer],
    });
    expect(rep.status).toBe('SUCCESS');
    const certificate = rep.certificate as X509Certificate;
    expect(() =>
      verifyCertificateChain(certificate, { roots: [read.root], intermediates: [issuing] }),
    ).not.toThrow();
    const device = new DeviceEmulator({
      baseUrl: h.daemon.url,
      topic: h.topic,
      identity: { certificate, privateKey },
    });
    await device.enroll();
  });
});

/** Runs Debian's scepclient in a fresh folder (it reuses a csr.pem beside the key). */
function scepclient(extra: string[]): Promise<{ code: number; output: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-scepclient-fp-'));
  const args = [
    ...['-server-url', `${h.daemon.url}/scep`, '-challenge', STATIC, '-cn', 'fp-device'],
    ...['-private-key', join(dir, 'key.pem'), '-certificate', join(dir, 'cert.pem'), ...extra],
  ];
  return new Promise((resolve) => {
    execFile('scepclient', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`, dir });
    });
  });
}

const hex = (algorithm: string, cert: X509Certificate): string =>
  createHash(algorithm).update(cert.raw).digest('hex');

describe("Debian's scepclient -ca-fingerprint: the hex SHA-256 of the certificate to encrypt to", () => {
  test("ok/with the RA's SHA-256 it enrolls", async () => {
    const r = await scepclient(['-ca-fingerprint', hex('sha256', ra)]);
    expect(r.output).toContain('pkiStatus=SUCCESS');
    expect(r.code).toBe(0);
    const cert = new X509Certificate(readFileSync(join(r.dir, 'cert.pem')));
    expect(cert.checkIssued(issuing)).toBe(true);
  }, 60_000);

  test.each([
    [
      "the profile's CAFingerprint (SHA-1 of the root)",
      () => hex('sha1', root),
      /invalid fingerprint/,
    ],
    // It picks the EC root as recipient and cannot encrypt to it.
    ["the root's SHA-256", () => hex('sha256', root), /ecdsa\.PublicKey/],
    ['no fingerprint (it encrypts to every certificate, the EC root too)', () => '', /ecdsa/],
  ])(
    'fail/with %s it does not enroll',
    async (_, fingerprint, output) => {
      const value = fingerprint();
      const r = await scepclient(value === '' ? [] : ['-ca-fingerprint', value]);
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(output);
      expect(existsSync(join(r.dir, 'cert.pem'))).toBe(false);
    },
    60_000,
  );
});

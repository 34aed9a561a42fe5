/**
 * mdmb's enrollment against the real daemon: the PKCSReq carries an enrollment link's one-time
 * challenge in a CSR for the device key, but is signed by a throwaway key (AES, and single DES
 * with SHA-1 under `--scep-allow-des`). The certificate is issued for the CSR's key and works as
 * the device identity for Authenticate and TokenUpdate.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request } from 'node:http';
import { readCertRep } from '../../src/index.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { throwawaySignedRequest } from '../identity/scep/throwaway.js';
import { startHarness, type Harness } from './harness.js';
import { DEVICE_SUBJECT, scepEnroller, type ScepEnroller } from './scep-enroll.js';

let h: Harness;
let scep: ScepEnroller;
let keys: KeyObject[] = [];
/** A fresh RSA-2048 key, made before the tests so that they spend their time on SCEP. */
const key = (): KeyObject => {
  const next = keys.shift();
  if (next === undefined) throw new Error('no key left');
  return next;
};

beforeAll(async () => {
  keys = Array.from(
    { length: 6 },
    () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  );
  h = await startHarness({ scepAllowDes: 'true' });
  scep = await scepEnroller(h);
}, 120_000);

afterAll(async () => {
  await h.close();
});

/**
 * POSTs a PKIOperation on a connection of its own: this suite's pauses (key generation, a
 * loaded machine) can outlast the daemon's keep-alive timeout, and a pooled fetch socket closed
 * by the server under the request fails the test for nothing SCEP did.
 */
function postScep(body: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${h.daemon.url}/scep?operation=PKIOperation`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/x-pki-message' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const spki = (key: KeyObject): Buffer =>
  (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });

describe('daemon SCEP with a throwaway signer', () => {
  test.each([['aes-256-cbc' as const], ['des-cbc' as const]])(
    'ok/%s: issued for the CSR key, and the device enrolls with it',
    async (cipher) => {
      const challenge = await scep.challengeFromLink();
      const csrKey = key();
      const signerKey = key();
      const { request, signer } = throwawaySignedRequest({
        csrKey,
        signerKey,
        recipient: scep.ca,
        challenge,
        subject: DEVICE_SUBJECT,
        cipher,
      });
      const res = await postScep(request.der);
      expect(res.status).toBe(200);
      const rep = readCertRep(res.body, request, {
        privateKey: signer.privateKey,
        responders: [scep.ca],
      });
      expect(rep).toMatchObject({ status: 'SUCCESS' });
      const certificate = rep.certificate;
      if (certificate === undefined) throw new Error('no certificate');
      expect(spki(certificate.publicKey).equals(spki(csrKey))).toBe(true);
      expect(spki(certificate.publicKey).equals(spki(signerKey))).toBe(false);
      const device = new DeviceEmulator({
        baseUrl: h.daemon.url,
        topic: h.topic,
        identity: { certificate, privateKey: csrKey },
      });
      await device.enroll();
      const found = await h.api('GET', `/api/v1/enrollments/${device.enrollmentId}`);
      expect(found.status).toBe(200);
    },
    60_000,
  );

  test('fail/badRequest: the one-time challenge is spent by the first request', async () => {
    const challenge = await scep.challengeFromLink();
    const send = async (): Promise<string | undefined> => {
      const { request, signer } = throwawaySignedRequest({
        csrKey: key(),
        recipient: scep.ca,
        challenge,
        subject: DEVICE_SUBJECT,
      });
      const res = await postScep(request.der);
      const rep = readCertRep(res.body, request, {
        privateKey: signer.privateKey,
        responders: [scep.ca],
      });
      return rep.failInfo ?? rep.status;
    };
    expect(await send()).toBe('SUCCESS');
    expect(await send()).toBe('badRequest');
  }, 60_000);
});

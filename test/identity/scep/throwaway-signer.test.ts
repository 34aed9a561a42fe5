/**
 * A PKCSReq signed by a throwaway key rather than the CSR's (RFC 8894 section 2.3: SHOULD, not
 * MUST), as mdmb sends it: issued for the CSR's key, the reply encrypted to the signer; the CSR's
 * own signature, the challenge and the bound signer of a RenewalReq are still required.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { staticChallenge, type ChallengeValidator } from '../../../src/identity/scep/challenge.js';
import {
  createTransientCertificate,
  readCertRep,
  type CertRepResult,
} from '../../../src/identity/scep/client.js';
import { createScepHandler, type ScepHandler } from '../../../src/http/scep.js';
import { clientKey, enroll, setupCa } from './helpers.js';
import { throwawaySignedRequest, type ThrowawayOptions } from './throwaway.js';

const SECRET = 'mdmb-secret';
let ca: CertificateAuthority;
let handler: ScepHandler;
let desHandler: ScepHandler;

beforeAll(async () => {
  ({ ca } = await setupCa());
  handler = createScepHandler({ ca, validator: staticChallenge(SECRET) });
  desHandler = createScepHandler(
    { ca, validator: staticChallenge(SECRET) },
    { allowSingleDes: true },
  );
});

function spki(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' });
}

async function send(
  h: ScepHandler,
  o: Omit<ThrowawayOptions, 'recipient'>,
): Promise<CertRepResult & { signerKey: KeyObject; transactionId: string }> {
  const { request, signer } = throwawaySignedRequest({ recipient: ca.responder.certificate, ...o });
  const res = await h({ method: 'POST', query: { operation: 'PKIOperation' }, body: request.der });
  expect(res.status).toBe(200);
  // Only the throwaway key opens the reply: it is encrypted to the signer's certificate.
  const rep = readCertRep(res.body, request, {
    privateKey: signer.privateKey,
    responders: [ca.responder.certificate],
  });
  return { ...rep, signerKey: signer.privateKey, transactionId: request.transactionId };
}

describe('PKCSReq signed by a throwaway key', () => {
  test.each([
    ['ok/AES-256 and SHA-256', handler, { cipher: 'aes-256-cbc' as const }],
    ['ok/AES-256 and SHA-1', handler, { cipher: 'aes-256-cbc' as const, digest: 'sha1' as const }],
    ['ok/single DES and SHA-1 (mdmb) with allowSingleDes', null, { cipher: 'des-cbc' as const }],
  ])('%s: issued for the CSR key, not the signer key', async (_name, h, o) => {
    const csrKey = clientKey('rsa-2048', 5);
    const rep = await send(h ?? desHandler, { csrKey, challenge: SECRET, ...o });
    expect(rep.status).toBe('SUCCESS');
    const cert = rep.certificate as X509Certificate;
    expect(cert.checkIssued(ca.certificate)).toBe(true);
    expect(spki(cert.publicKey).equals(spki(csrKey))).toBe(true);
    expect(spki(cert.publicKey).equals(spki(rep.signerKey))).toBe(false);
    expect(cert.subject).toContain('CN=mdmb-device');
  });

  test('ok/an EC CSR key with an RSA throwaway signer', async () => {
    const csrKey = clientKey('ec-p256', 0);
    const rep = await send(handler, { csrKey, challenge: SECRET });
    expect(rep.status).toBe('SUCCESS');
    expect(spki((rep.certificate as X509Certificate).publicKey).equals(spki(csrKey))).toBe(true);
  });

  test('fail/badAlg: single DES without allowSingleDes', async () => {
    const rep = await send(handler, {
      csrKey: clientKey('rsa-2048', 5),
      challenge: SECRET,
      cipher: 'des-cbc',
    });
    expect(rep).toMatchObject({ status: 'FAILURE', failInfo: 'badAlg' });
  });

  test.each([
    ['fail/badRequest: wrong challenge', { challenge: 'wrong' }, 'badRequest'],
    ['fail/badRequest: no challenge', {}, 'badRequest'],
  ])('%s', async (_name, o, failInfo) => {
    const rep = await send(handler, { csrKey: clientKey('rsa-2048', 5), ...o });
    expect(rep).toMatchObject({ status: 'FAILURE', failInfo });
  });

  test('fail/badMessageCheck: the CSR signature must still prove possession of its key', async () => {
    const { createCsr } = await import('../../../src/crypto/csr.js');
    const csr = createCsr({
      subject: 'CN=mdmb-device,O=Orchard',
      privateKey: clientKey('rsa-2048', 5),
      challengePassword: SECRET,
    });
    csr[csr.length - 3] = (csr[csr.length - 3] as number) ^ 0x01; // inside the signature bits
    const rep = await send(handler, { csrKey: clientKey('rsa-2048', 5), csr });
    expect(rep).toMatchObject({ status: 'FAILURE', failInfo: 'badMessageCheck' });
  });

  test('ok/the validator sees the throwaway signer', async () => {
    const seen: string[] = [];
    const validator: ChallengeValidator = (c) => {
      seen.push(c.signer.subject);
      return { outcome: 'accept' };
    };
    const h = createScepHandler({ ca, validator });
    expect((await send(h, { csrKey: clientKey('rsa-2048', 5) })).status).toBe('SUCCESS');
    expect(seen).toEqual(['CN=SCEP SIGNER']);
  });
});

describe('CertPoll after PENDING keys on the throwaway signer', () => {
  const csrKey = (): KeyObject => clientKey('rsa-2048', 5);
  const throwaway = (): { certificate: X509Certificate; privateKey: KeyObject } => ({
    certificate: createTransientCertificate(clientKey('rsa-2048', 7), 'CN=SCEP SIGNER'),
    privateKey: clientKey('rsa-2048', 7),
  });
  const poll = { messageType: 'CertPoll' as const, csr: Buffer.from([0x30, 0]) };

  test('ok/polled with the same throwaway certificate: issued for the CSR key', async () => {
    let approve = false;
    const h = createScepHandler({
      ca,
      validator: () => (approve ? { outcome: 'accept' } : { outcome: 'pending' }),
    });
    const signer = throwaway();
    const first = await send(h, { csrKey: csrKey(), signer });
    expect(first.status).toBe('PENDING');
    approve = true;
    const rep = await enroll(h, ca, { ...poll, transactionId: first.transactionId, signer });
    expect(rep.status).toBe('SUCCESS');
    expect(spki((rep.certificate as X509Certificate).publicKey).equals(spki(csrKey()))).toBe(true);
  });

  test.each([
    ['fail/badCertId: polled by a certificate of the CSR key', () => undefined],
    ['fail/badCertId: polled by another certificate of the same throwaway key', throwaway],
  ])('%s', async (_name, other) => {
    const h = createScepHandler({ ca, validator: () => ({ outcome: 'pending' }) });
    const first = await send(h, { csrKey: csrKey(), signer: throwaway() });
    expect(first.status).toBe('PENDING');
    const signer = other();
    const rep = await enroll(h, ca, {
      ...poll,
      transactionId: first.transactionId,
      key: csrKey(),
      ...(signer === undefined ? {} : { signer }),
    });
    expect(rep.failInfo).toBe('badCertId');
  });
});

describe('RenewalReq still needs the bound certificate as signer', () => {
  test('fail/badCertId: a renewal signed by a throwaway self-signed certificate', async () => {
    const rep = await enroll(handler, ca, {
      messageType: 'RenewalReq',
      key: clientKey('rsa-2048', 5),
      signerKey: clientKey('rsa-2048', 7),
    });
    expect(rep.failInfo).toBe('badCertId');
  });
});

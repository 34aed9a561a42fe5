import { describe, expect, test, beforeAll } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { certInfoFromDer } from '../../src/crypto/cert-info.js';
import { parseSignedData } from '../../src/crypto/cms-parse.js';
import { verifyCertificateChain } from '../../src/crypto/chain.js';
import { ScepError } from '../../src/errors.js';
import type { CertificateAuthority } from '../../src/identity/ca/authority.js';
import { staticChallenge } from '../../src/identity/scep/challenge.js';
import { createScepHandler, type ScepHandler } from '../../src/http/scep.js';
import { readPkiMessage } from '../../src/identity/scep/message.js';
import { testPki } from '../support/pki.js';
import { buildRequest, clientKey, enroll, setupCa } from '../identity/scep/helpers.js';

const SECRET = 'correct horse';
let ca: CertificateAuthority;
let handler: ScepHandler;

beforeAll(async () => {
  ({ ca } = await setupCa());
  handler = createScepHandler({ ca, validator: staticChallenge(SECRET) });
});

describe('GetCACaps and GetCACert', () => {
  test('ok/caps list the required capabilities', async () => {
    const res = await handler({ method: 'GET', query: { operation: 'GetCACaps' } });
    const caps = Buffer.from(res.body).toString().split('\n');
    expect(res.status).toBe(200);
    for (const cap of ['POSTPKIOperation', 'SHA-256', 'SHA-512', 'AES', 'SCEPStandard', 'Renewal'])
      expect(caps).toContain(cap);
  });

  test('ok/GetCACert without an RA is the CA certificate in DER', async () => {
    const res = await handler({ method: 'GET', query: new URLSearchParams('operation=GetCACert') });
    expect(res.headers['content-type']).toBe('application/x-x509-ca-cert');
    expect(new X509Certificate(Buffer.from(res.body)).raw.equals(ca.certificate.raw)).toBe(true);
  });

  test('ok/GetCACert with an RA is a degenerate PKCS#7 of RA and CA', async () => {
    const withRa = await setupCa({ keyType: 'ec-p384' });
    const h = createScepHandler({ ca: withRa.ca, validator: staticChallenge(SECRET) });
    const res = await h({ method: 'GET', query: { operation: 'GetCACert' } });
    expect(res.headers['content-type']).toBe('application/x-x509-ca-ra-cert');
    const p7 = parseSignedData(res.body);
    expect(p7.signerInfos).toHaveLength(0);
    const ders = p7.certificates.map((c) => c.toString('hex'));
    expect(ders).toContain(withRa.ca.certificate.raw.toString('hex'));
    expect(ders).toContain(withRa.ca.ra?.certificate.raw.toString('hex'));
    const rep = await enroll(h, withRa.ca, { challenge: SECRET });
    expect(rep.status).toBe('SUCCESS');
    const cert = rep.certificate as X509Certificate;
    expect(verifyCertificateChain(cert, { roots: [withRa.ca.certificate] })).toHaveLength(2);
  });

  test.each([
    ['fail/unknown operation', 'GET', { operation: 'Nope' }, 400, 'ERR_SCEP_OPERATION'],
    ['fail/missing operation', 'GET', {}, 400, 'ERR_SCEP_OPERATION'],
    ['fail/POST GetCACert', 'POST', { operation: 'GetCACert' }, 405, 'ERR_METHOD'],
    ['fail/PUT', 'PUT', { operation: 'PKIOperation' }, 405, 'ERR_METHOD'],
    ['fail/GET without message', 'GET', { operation: 'PKIOperation' }, 400, 'ERR_SCEP_MESSAGE'],
  ])('%s', async (_name, method, query, status, code) => {
    const res = await handler({ method, query, body: Buffer.alloc(0) });
    expect(res.status).toBe(status);
    expect(Buffer.from(res.body).toString()).toContain(code);
  });

  test.each([
    ['fail/garbage body', Buffer.from('not der'), 400],
    ['fail/empty body', Buffer.alloc(0), 400],
    ['fail/body too large', Buffer.alloc(70 * 1024, 0x30), 413],
  ])('%s', async (_name, body, status) => {
    const res = await handler({ method: 'POST', query: { operation: 'PKIOperation' }, body });
    expect(res.status).toBe(status);
  });
});

describe('PKIOperation variants (own client)', () => {
  test.each([
    ['ok/POST, AES-256, PKCS#1 v1.5, SHA-256', {}],
    ['ok/GET', { get: true }],
    ['ok/RSA-OAEP key transport', { keyTransport: 'rsa-oaep' as const }],
    ['ok/AES-128', { cipher: 'aes-128-cbc' as const }],
    ['ok/3DES', { cipher: 'des-ede3-cbc' as const }],
    ['ok/SHA-512', { digest: 'sha512' as const }],
    ['ok/SHA-1', { digest: 'sha1' as const }],
    ['ok/no signingTime', { signingTime: false as const }],
  ])('%s', async (_name, o) => {
    const rep = await enroll(handler, ca, { challenge: SECRET, ...o });
    expect(rep.status).toBe('SUCCESS');
    const cert = rep.certificate as X509Certificate;
    expect(cert.checkIssued(ca.certificate)).toBe(true);
    expect(cert.subject).toContain('CN=device-1');
    expect(await ca.findIssuedCertificate(cert.serialNumber)).toBeDefined();
  });

  test('ok/a request signer is not kept in the certificate cache (one-off, attacker-chosen)', () => {
    const { request } = buildRequest(ca, { challenge: SECRET });
    const first = readPkiMessage(request.der).verified;
    const second = readPkiMessage(request.der).verified;
    expect(first.ok && second.ok).toBe(true);
    if (first.ok && second.ok) {
      expect(second.signerInfo).not.toBe(first.signerInfo);
      expect(certInfoFromDer(first.signerInfo.der)).not.toBe(first.signerInfo);
    }
  });

  test('ok/the reply echoes the transaction and nonce and uses the request cipher', async () => {
    const { request, replyKey } = buildRequest(ca, { challenge: SECRET, cipher: 'des-ede3-cbc' });
    const res = await handler({
      method: 'POST',
      query: { operation: 'PKIOperation' },
      body: request.der,
    });
    const msg = readPkiMessage(res.body);
    expect(msg.transactionId).toBe(request.transactionId);
    expect(msg.recipientNonce?.equals(request.senderNonce)).toBe(true);
    expect(msg.senderNonce).toHaveLength(16);
    expect(msg.verified.ok).toBe(true);
    expect(replyKey).toBeDefined();
    if (msg.verified.ok) {
      const { envelopeCipherOf } = await import('../../src/identity/scep/envelope.js');
      expect(envelopeCipherOf(msg.verified.content)).toBe('des-ede3-cbc');
    }
  });
});

describe('PKIOperation failures carry the right failInfo', () => {
  test.each([
    ['fail/badRequest: wrong challenge', { challenge: 'wrong' }, 'badRequest'],
    ['fail/badRequest: no challenge', {}, 'badRequest'],
    [
      'fail/badRequest: subject attribute outside the allowlist',
      { challenge: SECRET, subject: 'CN=x,title=boss' },
      'badRequest',
    ],
    ['fail/badAlg: RSA 1024 key', { challenge: SECRET, key: clientKey('rsa-1024') }, 'badAlg'],
    [
      'fail/badTime: signingTime two days old',
      { challenge: SECRET, signingTime: new Date(Date.now() - 2 * 86_400_000) },
      'badTime',
    ],
    [
      'fail/badCertId: CertPoll for an unknown transaction',
      { messageType: 'CertPoll' as const },
      'badCertId',
    ],
  ])('%s', async (_name, o, failInfo) => {
    const rep = await enroll(handler, ca, o);
    expect(rep.status).toBe('FAILURE');
    expect(rep.failInfo).toBe(failInfo);
  });

  test('fail/badAlg: SHA-1 when SHA-1 is disabled', async () => {
    const strict = createScepHandler(
      { ca, validator: staticChallenge(SECRET) },
      { allowSha1: false },
    );
    const rep = await enroll(strict, ca, { challenge: SECRET, digest: 'sha1' });
    expect(rep.failInfo).toBe('badAlg');
  });

  test('fail/badAlg: an EC signer cannot receive the encrypted reply', async () => {
    const { request } = buildRequest(ca, { challenge: SECRET, key: clientKey('ec-p256') });
    const res = await handler({
      method: 'POST',
      query: { operation: 'PKIOperation' },
      body: request.der,
    });
    const msg = readPkiMessage(res.body);
    expect(msg.pkiStatus).toBe('FAILURE');
    expect(msg.failInfo).toBe('badAlg');
  });

  test('fail/badMessageCheck: envelope encrypted to another certificate', async () => {
    const pki = await testPki();
    const rep = await enroll(handler, ca, {
      challenge: SECRET,
      recipient: pki.rsaLeaf.certificate,
    });
    expect(rep.failInfo).toBe('badMessageCheck');
  });

  test('fail/badMessageCheck: one flipped byte in the signature', async () => {
    const { request, replyKey } = buildRequest(ca, { challenge: SECRET });
    const der = Buffer.from(request.der);
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0x01;
    const res = await handler({ method: 'POST', query: { operation: 'PKIOperation' }, body: der });
    const { readCertRep } = await import('../../src/identity/scep/client.js');
    const rep = readCertRep(res.body, request, {
      privateKey: replyKey,
      responders: [ca.responder.certificate],
    });
    expect(rep).toEqual({ status: 'FAILURE', failInfo: 'badMessageCheck' });
  });

  test('fail/the CertRep of a foreign responder is refused by the client', async () => {
    const pki = await testPki();
    const { request, replyKey } = buildRequest(ca, { challenge: SECRET });
    const res = await handler({
      method: 'POST',
      query: { operation: 'PKIOperation' },
      body: request.der,
    });
    const { readCertRep } = await import('../../src/identity/scep/client.js');
    expect(() =>
      readCertRep(res.body, request, { privateKey: replyKey, responders: [pki.rsaCa.certificate] }),
    ).toThrow(ScepError);
  });
});

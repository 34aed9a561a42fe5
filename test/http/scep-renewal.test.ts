/** RenewalReq, PENDING/CertPoll, validator failures and logging of the SCEP handler. */
import { createMemoryCertificateStore } from '../../src/index.js';
import { describe, expect, test, beforeAll } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { ScepError } from '../../src/errors.js';
import type { CertificateAuthority } from '../../src/identity/ca/authority.js';
import { createCa } from '../../src/identity/ca/authority.js';
import { staticChallenge, type ChallengeValidator } from '../../src/identity/scep/challenge.js';
import { createTransientCertificate } from '../../src/identity/scep/client.js';
import { createScepHandler, type ScepHandler } from '../../src/http/scep.js';
import { makeLeaf, testPki } from '../support/pki.js';
import { buildRequest, clientKey, enroll, setupCa } from '../identity/scep/helpers.js';

const SECRET = 'correct horse';
let ca: CertificateAuthority;
let handler: ScepHandler;

beforeAll(async () => {
  ({ ca } = await setupCa());
  handler = createScepHandler({ ca, validator: staticChallenge(SECRET) });
});

describe('renewal', () => {
  async function enrolled(): Promise<{
    certificate: X509Certificate;
    privateKey: ReturnType<typeof clientKey>;
  }> {
    const rep = await enroll(handler, ca, { challenge: SECRET });
    return { certificate: rep.certificate as X509Certificate, privateKey: clientKey() };
  }

  test('ok/RenewalReq signed by the current certificate, new key, no challenge', async () => {
    const signer = await enrolled();
    const rep = await enroll(handler, ca, {
      messageType: 'RenewalReq',
      signer,
      key: clientKey('rsa-2048', 2),
    });
    expect(rep.status).toBe('SUCCESS');
    expect(rep.certificate?.serialNumber).not.toBe(signer.certificate.serialNumber);
  });

  test('fail/badRequest: renewal into another subject', async () => {
    const signer = await enrolled();
    const rep = await enroll(handler, ca, {
      messageType: 'RenewalReq',
      signer,
      subject: 'CN=someone-else,O=Orchard',
    });
    expect(rep.failInfo).toBe('badRequest');
  });

  test('fail/badCertId: renewal with a revoked certificate', async () => {
    const signer = await enrolled();
    await ca.revoke(signer.certificate.serialNumber, 'keyCompromise');
    const rep = await enroll(handler, ca, { messageType: 'RenewalReq', signer });
    expect(rep.failInfo).toBe('badCertId');
  });

  test('fail/badCertId: renewal with a certificate of another CA', async () => {
    const pki = await testPki();
    const rep = await enroll(handler, ca, {
      messageType: 'RenewalReq',
      signer: { certificate: pki.rsaLeaf.certificate, privateKey: pki.rsaLeaf.privateKey },
    });
    expect(rep.failInfo).toBe('badCertId');
  });

  test('fail/badCertId: a certificate signed by our CA but never recorded', async () => {
    const other = createCa({
      material: { certificate: ca.certificate, privateKey: ca.responder.privateKey },
      store: createMemoryCertificateStore(),
    });
    const h = createScepHandler({ ca: other, validator: staticChallenge(SECRET) });
    const rep = await enroll(h, other, { challenge: SECRET });
    const renew = await enroll(handler, ca, {
      messageType: 'RenewalReq',
      signer: { certificate: rep.certificate as X509Certificate, privateKey: clientKey() },
    });
    expect(renew.failInfo).toBe('badCertId');
  });

  test('fail/badTime: renewal with an expired certificate', async () => {
    const expired = await makeLeaf(
      { certificate: ca.certificate, privateKey: ca.responder.privateKey, certPem: '', keyPem: '' },
      {
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      },
    );
    const rep = await enroll(handler, ca, {
      messageType: 'RenewalReq',
      signer: { certificate: expired.certificate, privateKey: expired.privateKey },
    });
    expect(rep.failInfo).toBe('badTime');
  });

  test('fail/badRequest: renewal disabled', async () => {
    const signer = await enrolled();
    const h = createScepHandler({ ca, validator: staticChallenge(SECRET) }, { renewal: false });
    expect((await enroll(h, ca, { messageType: 'RenewalReq', signer })).failInfo).toBe(
      'badRequest',
    );
  });
});

describe('validators', () => {
  test('fail/badCertId: CertPoll signed by another transient certificate', async () => {
    const validator: ChallengeValidator = () => ({ outcome: 'pending' });
    const h = createScepHandler({ ca, validator });
    const first = await enroll(h, ca, {
      transactionId: 'tx-pending-1',
      key: clientKey('rsa-2048', 3),
    });
    expect(first.status).toBe('PENDING');
    const signer = {
      certificate: createTransientCertificate(clientKey('rsa-2048', 3), 'CN=transient'),
      privateKey: clientKey('rsa-2048', 3),
    };
    // the poll must be signed by the same transient certificate: a different one is refused
    const stranger = await enroll(h, ca, {
      messageType: 'CertPoll',
      transactionId: 'tx-pending-1',
      signer,
      csr: Buffer.from([0x30, 0]),
    });
    expect(stranger.failInfo).toBe('badCertId');
  });

  test('ok/PENDING then SUCCESS with the same transient certificate', async () => {
    let approve = false;
    const validator: ChallengeValidator = () =>
      approve ? { outcome: 'accept', enrollmentId: 'enr-9' } : { outcome: 'pending' };
    const h = createScepHandler({ ca, validator });
    const key = clientKey('rsa-2048', 3);
    const signer = {
      certificate: createTransientCertificate(key, 'CN=transient'),
      privateKey: key,
    };
    const first = await enroll(h, ca, { transactionId: 'tx-pending-2', key, signer });
    expect(first.status).toBe('PENDING');
    expect(
      (await enroll(h, ca, { messageType: 'CertPoll', transactionId: 'tx-pending-2', key, signer }))
        .status,
    ).toBe('PENDING');
    approve = true;
    const done = await enroll(h, ca, {
      messageType: 'CertPoll',
      transactionId: 'tx-pending-2',
      key,
      signer,
    });
    expect(done.status).toBe('SUCCESS');
    const record = await ca.findIssuedCertificate(done.certificate?.serialNumber ?? '');
    expect(record?.enrollmentId).toBe('enr-9');
  });

  test('fail/a validator that throws gives 503, never 401', async () => {
    const h = createScepHandler({
      ca,
      validator: () => {
        throw new ScepError('ERR_SCEP_VALIDATOR', 'down');
      },
    });
    const { request } = buildRequest(ca, { challenge: SECRET });
    const res = await h({
      method: 'POST',
      query: { operation: 'PKIOperation' },
      body: request.der,
    });
    expect(res.status).toBe(503);
  });

  test('fail/an unexpected error gives 500 without details', async () => {
    const h = createScepHandler({
      ca,
      validator: () => {
        throw new Error('secret internals');
      },
    });
    const { request } = buildRequest(ca, { challenge: SECRET });
    const res = await h({
      method: 'POST',
      query: { operation: 'PKIOperation' },
      body: request.der,
    });
    expect(res.status).toBe(500);
    expect(Buffer.from(res.body).toString()).not.toContain('secret');
  });

  test('fail/an EC CA without an RA cannot serve SCEP', async () => {
    const pki = await testPki();
    const ecCa = createCa({
      material: { certificate: pki.ecCa.certificate, privateKey: pki.ecCa.privateKey },
      store: createMemoryCertificateStore(),
    });
    expect(() => createScepHandler({ ca: ecCa, validator: staticChallenge(SECRET) })).toThrow(
      TypeError,
    );
  });
});

describe('logs', () => {
  test('ok/a full enrollment never logs the challenge or keys', async () => {
    const lines: string[] = [];
    const log = (obj: object, msg: string): void => {
      lines.push(JSON.stringify(obj) + msg);
    };
    const h = createScepHandler({
      ca,
      validator: staticChallenge(SECRET),
      logger: { debug: log, info: log, warn: log, error: log },
    });
    await enroll(h, ca, { challenge: SECRET });
    await enroll(h, ca, { challenge: 'wrong-secret' });
    expect(lines.length).toBeGreaterThan(1);
    const all = lines.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('wrong-secret');
    expect(all).not.toContain('PRIVATE KEY');
  });
});

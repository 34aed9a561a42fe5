/**
 * The ACME server end to end over HTTP on 127.0.0.1, driven by the test client of
 * `test/support/acme-client.ts`: the whole RFC 8555 flow with the test-only `test-01`
 * challenge and with `device-attest-01` through an injected verifier, the certificate recorded
 * and revocable like SCEP's, and the refusals (nonce, JWS, account, identifier, finalize, CSR
 * key), each a problem document with its ACME error type.
 */
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AcmeError } from '../../src/errors.js';
import { createCsr } from '../../src/crypto/csr.js';
import {
  acmeKey,
  acmeTestClient,
  publicJwk,
  type AcmeResponse,
  type AcmeTestClient,
} from '../support/acme-client.js';
import { startAcme, type AcmeFixture } from './fixture.js';

const ERR = 'urn:ietf:params:acme:error:';

let fx: AcmeFixture;
let attestedKey: KeyObject;
beforeAll(async () => {
  attestedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  fx = await startAcme({
    verifyAttestation: (input) => {
      // The stand-in verifier: "attests" when attObj is the token's bytes.
      if (Buffer.from(input.attObj).toString() !== input.token)
        return Promise.reject(new AcmeError('ERR_ACME_BAD_ATTESTATION', 'freshness mismatch'));
      return Promise.resolve({ publicKey: attestedKey, serial: 'C02TEST', udid: 'UDID-TEST' });
    },
  });
});
afterAll(async () => {
  await fx.close();
});

function csrB64(key: KeyObject, subject = 'CN=acme-device,O=Orchard'): string {
  return createCsr({ subject, privateKey: key }).toString('base64url');
}

function pemCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

/** A client with an account and a pending order for `value`. */
async function ordered(value = `client-${String(Math.random()).slice(2)}`) {
  const client = await acmeTestClient(fx.directoryUrl);
  await client.newAccount();
  const order = await client.newOrder(value);
  const authzUrl = (order.json.authorizations as string[])[0] ?? '';
  const authz = await client.post(authzUrl, '');
  const challenges = authz.json.challenges as { type: string; url: string; token: string }[];
  const byType = (t: string) => challenges.find((c) => c.type === t) ?? { url: '', token: '' };
  return { client, order, authz, byType, orderUrl: order.headers.get('location') ?? '' };
}

function expectProblem(res: AcmeResponse, type: string, status: number): void {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.json).toMatchObject({ type: `${ERR}${type}`, status });
  expect(res.status).toBe(status);
  expect(res.headers.get('replay-nonce')).toMatch(/^[A-Za-z0-9_-]{22}$/);
}

describe('the RFC 8555 flow', () => {
  test.each(['ES256', 'ES384', 'RS256'] as const)(
    'ok/%s account: order, test-01, finalize with the bound key, download, revoke',
    async (alg) => {
      const client = await acmeTestClient(fx.directoryUrl, acmeKey(alg));
      const created = await client.newAccount({ contact: ['mailto:ops@example.com'] });
      expect(created.status).toBe(201);
      expect(client.kid).toMatch(/\/acme\/acct\//);
      expect((await client.newAccount()).status).toBe(200);
      const order = await client.newOrder('client-flow');
      expect(order.status).toBe(201);
      expect(order.json).toMatchObject({
        status: 'pending',
        identifiers: [{ type: 'permanent-identifier', value: 'client-flow' }],
      });
      const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
      const types = (authz.json.challenges as { type: string }[]).map((c) => c.type);
      expect(types).toEqual(['device-attest-01', 'test-01']);
      const test01 = (authz.json.challenges as { type: string; url: string }[])[1];
      const deviceKey = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
      const answered = await client.post(test01?.url ?? '', {
        attestKey: await publicJwk(createPublicKey(deviceKey)),
      });
      expect(answered.json).toMatchObject({ status: 'valid', type: 'test-01' });
      const orderUrl = order.headers.get('location') ?? '';
      expect((await client.post(orderUrl, '')).json.status).toBe('ready');
      const fin = await client.post(order.json.finalize as string, { csr: csrB64(deviceKey) });
      expect(fin.status).toBe(200);
      expect(fin.json.status).toBe('valid');
      const cert = await client.post(fin.json.certificate as string, '');
      expect(cert.headers.get('content-type')).toBe('application/pem-certificate-chain');
      const [leaf] = pemCertificates(cert.text);
      expect(leaf?.publicKey.equals(createPublicKey(deviceKey))).toBe(true);
      expect(leaf?.checkIssued(fx.ca.certificate)).toBe(true);
      expect(leaf?.verify(fx.ca.certificate.publicKey)).toBe(true);
      const record = await fx.ca.findIssuedCertificate(leaf?.serialNumber ?? '0');
      expect(record?.enrollmentId).toBe('enrollment-token:client-flow');
      await fx.ca.revoke(leaf?.serialNumber ?? '0', 'test');
      expect(await fx.ca.isRevoked(leaf?.serialNumber ?? '0')).toBe(true);
    },
  );

  test('ok/device-attest-01 binds the attested key; the CSR must carry it', async () => {
    const { client, byType, orderUrl } = await ordered('client-attest');
    const chall = byType('device-attest-01');
    const attObj = Buffer.from(chall.token).toString('base64url');
    const answered = await client.post(chall.url, { attObj });
    expect(answered.json.status).toBe('valid');
    const order = await client.post(orderUrl, '');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const wrong = await client.post(order.json.finalize as string, { csr: csrB64(other) });
    expectProblem(wrong, 'badCSR', 400);
    expect((await client.post(orderUrl, '')).json.status).toBe('ready');
    const fin = await client.post(order.json.finalize as string, { csr: csrB64(attestedKey) });
    expect(fin.json.status).toBe('valid');
    const event = fx.issued.find(
      (e) => e.order.id === fin.json.finalize?.toString().split('/').at(-2),
    );
    expect(event?.authorizations[0]).toMatchObject({
      attestedSerial: 'C02TEST',
      attestedUdid: 'UDID-TEST',
    });
  });

  test('fail/an attestation that does not verify leaves the challenge, authz and order invalid', async () => {
    const { client, byType, orderUrl } = await ordered();
    const res = await client.post(byType('device-attest-01').url, { attObj: 'AAAA' });
    expect(res.json).toMatchObject({
      status: 'invalid',
      error: { type: `${ERR}badAttestationStatement` },
    });
    expect((await client.post(orderUrl, '')).json.status).toBe('invalid');
  });

  test('fail/finalize before the order is ready: orderNotReady', async () => {
    const { client, order } = await ordered();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectProblem(
      await client.post(order.json.finalize as string, { csr: csrB64(key) }),
      'orderNotReady',
      403,
    );
  });

  test('fail/finalize twice: the second is orderNotReady', async () => {
    const { client, byType, orderUrl } = await ordered();
    await client.post(byType('test-01').url, {});
    const order = await client.post(orderUrl, '');
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect((await client.post(order.json.finalize as string, { csr: csrB64(key) })).status).toBe(
      200,
    );
    expectProblem(
      await client.post(order.json.finalize as string, { csr: csrB64(key) }),
      'orderNotReady',
      403,
    );
  });

  test('fail/a CSR with the account key, or one the CA policy refuses: badCSR', async () => {
    const { client, byType, orderUrl } = await ordered();
    await client.post(byType('test-01').url, {});
    const fin = (await client.post(orderUrl, '')).json.finalize as string;
    expectProblem(await client.post(fin, { csr: csrB64(client.key.privateKey) }), 'badCSR', 400);
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectProblem(await client.post(fin, { csr: csrB64(key, 'CN=x,1.2.3.4=bad') }), 'badCSR', 400);
    expectProblem(await client.post(fin, { csr: 'AAAA' }), 'badCSR', 400);
  });
});

describe('orders and identifiers', () => {
  let client: AcmeTestClient;
  beforeAll(async () => {
    client = await acmeTestClient(fx.directoryUrl);
    await client.newAccount();
  });

  test.each([
    ['dns', 'example.com', 'unsupportedIdentifier'],
    ['ip', '127.0.0.1', 'unsupportedIdentifier'],
    ['permanent-identifier', 'not-allowed-by-policy', 'rejectedIdentifier'],
    ['permanent-identifier', 'client with spaces', 'rejectedIdentifier'],
  ])('fail/identifier %s %s: %s', async (type, value, problem) => {
    expectProblem(await client.newOrder(value, type), problem, 400);
  });

  test('fail/two identifiers, notAfter, or no payload are refused', async () => {
    const two = {
      identifiers: [1, 2].map((n) => ({
        type: 'permanent-identifier',
        value: `client-${String(n)}`,
      })),
    };
    expectProblem(
      await client.post(client.directory.newOrder ?? '', two),
      'rejectedIdentifier',
      400,
    );
    const dated = {
      identifiers: [{ type: 'permanent-identifier', value: 'client-1' }],
      notAfter: '2030-01-01T00:00:00Z',
    };
    expectProblem(await client.post(client.directory.newOrder ?? '', dated), 'malformed', 400);
    expectProblem(await client.post(client.directory.newOrder ?? '', ''), 'malformed', 400);
  });

  test("fail/another account's order, authorization and challenge: unauthorized", async () => {
    const { order, byType, orderUrl } = await ordered();
    expectProblem(await client.post(orderUrl, ''), 'unauthorized', 403);
    expectProblem(
      await client.post((order.json.authorizations as string[])[0] ?? '', ''),
      'unauthorized',
      403,
    );
    expectProblem(await client.post(byType('test-01').url, {}), 'unauthorized', 403);
  });

  test('ok/an order past its expiry is invalid, and the sweep deletes it', async () => {
    const { client: owner, orderUrl } = await ordered();
    fx.advance(3601_000);
    try {
      expect((await owner.post(orderUrl, '')).json).toMatchObject({ status: 'invalid' });
      const swept = await fx.acme.sweep();
      expect(swept.orders).toBeGreaterThanOrEqual(1);
      expectProblem(await owner.post(orderUrl, ''), 'malformed', 404);
    } finally {
      fx.advance(-3601_000);
    }
  });
});

describe('nonces', () => {
  test('fail/an unknown nonce is badNonce and the client retries with the fresh one', async () => {
    const client = await acmeTestClient(fx.directoryUrl);
    const res = await client.post(
      client.directory.newAccount ?? '',
      {},
      { jwk: true, nonce: 'made-up-nonce' },
    );
    expect(res.status).toBe(201);
    expect(client.posts).toBe(2);
  });

  test('fail/a replayed request is badNonce', async () => {
    const client = await acmeTestClient(fx.directoryUrl);
    await client.newAccount();
    const nonce = await client.nonce();
    const first = await client.post(client.kid ?? '', '', { nonce });
    expect(first.status).toBe(200);
    const { signJws, postRaw } = await import('../support/acme-client.js');
    const jws = await signJws(client.key, '', {
      url: client.kid ?? '',
      nonce,
      kid: client.kid ?? '',
    });
    expectProblem(await postRaw(client.kid ?? '', JSON.stringify(jws)), 'badNonce', 400);
  });

  test('fail/a nonce past its lifetime is badNonce', async () => {
    const client = await acmeTestClient(fx.directoryUrl);
    const nonce = await client.nonce();
    fx.advance(601_000);
    try {
      const { signJws, postRaw } = await import('../support/acme-client.js');
      const jws = await signJws(client.key, {}, { url: client.directory.newAccount ?? '', nonce });
      expectProblem(
        await postRaw(client.directory.newAccount ?? '', JSON.stringify(jws)),
        'badNonce',
        400,
      );
    } finally {
      fx.advance(-601_000);
    }
  });

  test('ok/new-nonce answers HEAD 200 and GET 204, each with a fresh nonce', async () => {
    const url = `${fx.base}/new-nonce`;
    const head = await fetch(url, { method: 'HEAD' });
    const get = await fetch(url);
    expect([head.status, get.status]).toEqual([200, 204]);
    expect(head.headers.get('replay-nonce')).not.toBe(get.headers.get('replay-nonce'));
    expect(get.headers.get('cache-control')).toBe('no-store');
  });
});

describe('accounts', () => {
  test('fail/an account that does not exist: accountDoesNotExist', async () => {
    const client = await acmeTestClient(fx.directoryUrl);
    client.kid = `${fx.base}/acct/AAAAAAAAAAAAAAAAAAAAAA`;
    expectProblem(await client.newOrder('client-1'), 'accountDoesNotExist', 400);
    const fresh = await acmeTestClient(fx.directoryUrl);
    expectProblem(await fresh.newAccount({ onlyReturnExisting: true }), 'accountDoesNotExist', 400);
  });

  test('ok/a deactivated account can do nothing more', async () => {
    const client = await acmeTestClient(fx.directoryUrl);
    await client.newAccount();
    expect((await client.post(client.kid ?? '', { status: 'deactivated' })).json.status).toBe(
      'deactivated',
    );
    expectProblem(await client.newOrder('client-1'), 'unauthorized', 403);
  });
});

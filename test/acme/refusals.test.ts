/**
 * What the ACME edge refuses, and how: bad JWS (signature, algorithm, url, key placement,
 * private or weak keys), account key rollover misuse, wrong media type, oversized and junk
 * bodies, unknown paths and methods. Every answer is a problem document with a Replay-Nonce,
 * never a 5xx, a stack trace or a 401.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { exportJWK, FlattenedSign } from 'jose';
import {
  acmeKey,
  acmeTestClient,
  postRaw,
  publicJwk,
  signJws,
  type AcmeResponse,
  type AcmeTestClient,
} from '../support/acme-client.js';
import { startAcme, type AcmeFixture } from './fixture.js';

const ERR = 'urn:ietf:params:acme:error:';

let fx: AcmeFixture;
let client: AcmeTestClient;
beforeAll(async () => {
  fx = await startAcme();
  client = await acmeTestClient(fx.directoryUrl);
  await client.newAccount();
});
afterAll(async () => {
  await fx.close();
});

function expectProblem(res: AcmeResponse, type: string, status: number): void {
  expect({ status: res.status, type: res.json.type }).toEqual({ status, type: `${ERR}${type}` });
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('replay-nonce')).toBeTruthy();
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

function newOrderUrl(): string {
  return client.directory.newOrder ?? '';
}

const ORDER = { identifiers: [{ type: 'permanent-identifier', value: 'client-x' }] };

describe('bad JWS', () => {
  test('fail/a signature altered by one character: malformed', async () => {
    const jws = await signJws(client.key, ORDER, {
      url: newOrderUrl(),
      nonce: await client.nonce(),
      kid: client.kid ?? '',
    });
    const sig = jws.signature;
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    expectProblem(
      await postRaw(newOrderUrl(), JSON.stringify({ ...jws, signature: flipped })),
      'malformed',
      400,
    );
  });

  test('fail/a payload swapped under a valid signature: malformed', async () => {
    const jws = await signJws(client.key, ORDER, {
      url: newOrderUrl(),
      nonce: await client.nonce(),
      kid: client.kid ?? '',
    });
    const payload = Buffer.from(JSON.stringify({ identifiers: [] })).toString('base64url');
    expectProblem(
      await postRaw(newOrderUrl(), JSON.stringify({ ...jws, payload })),
      'malformed',
      400,
    );
  });

  test('fail/signed by another key than the account: malformed', async () => {
    const other = acmeKey('ES256');
    const jws = await signJws(other, ORDER, {
      url: newOrderUrl(),
      nonce: await client.nonce(),
      kid: client.kid ?? '',
    });
    expectProblem(await postRaw(newOrderUrl(), JSON.stringify(jws)), 'malformed', 400);
  });

  test.each(['HS256', 'none', 'ES512', 'PS256'])(
    'fail/alg %s: badSignatureAlgorithm',
    async (alg) => {
      const header = Buffer.from(
        JSON.stringify({ alg, url: newOrderUrl(), nonce: await client.nonce(), kid: client.kid }),
      ).toString('base64url');
      const body = JSON.stringify({ protected: header, payload: '', signature: 'AAAA' });
      const res = await postRaw(newOrderUrl(), body);
      expectProblem(res, 'badSignatureAlgorithm', 400);
      expect(res.json.algorithms).toEqual(['ES256', 'ES384', 'RS256']);
    },
  );

  test('fail/ES256 header over a P-384 key: badPublicKey', async () => {
    const p384 = acmeKey('ES384');
    const header = {
      alg: 'ES256',
      url: client.directory.newAccount,
      nonce: await client.nonce(),
      jwk: await exportJWK(p384.publicKey),
    };
    const jws = await new FlattenedSign(Buffer.from('{}'))
      .setProtectedHeader(header)
      .sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    expectProblem(
      await postRaw(client.directory.newAccount ?? '', JSON.stringify(jws)),
      'badPublicKey',
      400,
    );
  });

  test('fail/an RSA key of 1024 bits: badPublicKey', async () => {
    // jose refuses to sign with such a key, so the JWS is assembled by hand.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const url = client.directory.newAccount ?? '';
    const header = {
      alg: 'RS256',
      url,
      nonce: await client.nonce(),
      jwk: await exportJWK(weak.publicKey),
    };
    const p = Buffer.from(JSON.stringify(header)).toString('base64url');
    const payload = Buffer.from('{}').toString('base64url');
    const signature = sign('sha256', Buffer.from(`${p}.${payload}`), weak.privateKey).toString(
      'base64url',
    );
    const body = JSON.stringify({ protected: p, payload, signature });
    expectProblem(await postRaw(url, body), 'badPublicKey', 400);
  });

  test('fail/a private JWK in the header: malformed', async () => {
    const key = acmeKey('ES256');
    const jws = await signJws(
      key,
      {},
      {
        url: client.directory.newAccount ?? '',
        nonce: await client.nonce(),
        extra: { jwk: await exportJWK(key.privateKey) },
      },
    );
    expectProblem(
      await postRaw(client.directory.newAccount ?? '', JSON.stringify(jws)),
      'malformed',
      400,
    );
  });

  test('fail/the url of another resource: unauthorized', async () => {
    const jws = await signJws(client.key, ORDER, {
      url: client.directory.newAccount ?? '',
      nonce: await client.nonce(),
      kid: client.kid ?? '',
    });
    expectProblem(await postRaw(newOrderUrl(), JSON.stringify(jws)), 'unauthorized', 403);
  });

  test('fail/jwk and kid together, jwk on new-order, kid on new-account: malformed', async () => {
    const both = await signJws(client.key, ORDER, {
      url: newOrderUrl(),
      nonce: await client.nonce(),
      kid: client.kid ?? '',
      extra: { jwk: await exportJWK(client.key.publicKey) },
    });
    expectProblem(await postRaw(newOrderUrl(), JSON.stringify(both)), 'malformed', 400);
    const jwkOrder = await signJws(client.key, ORDER, {
      url: newOrderUrl(),
      nonce: await client.nonce(),
    });
    expectProblem(await postRaw(newOrderUrl(), JSON.stringify(jwkOrder)), 'malformed', 400);
    const kidAccount = await signJws(
      client.key,
      {},
      {
        url: client.directory.newAccount ?? '',
        nonce: await client.nonce(),
        kid: client.kid ?? '',
      },
    );
    expectProblem(
      await postRaw(client.directory.newAccount ?? '', JSON.stringify(kidAccount)),
      'malformed',
      400,
    );
  });

  test('fail/a missing nonce: badNonce', async () => {
    const jws = await signJws(client.key, ORDER, { url: newOrderUrl(), kid: client.kid ?? '' });
    expectProblem(await postRaw(newOrderUrl(), JSON.stringify(jws)), 'badNonce', 400);
  });

  test('fail/a forged request does not spend the nonce it names', async () => {
    const nonce = await client.nonce();
    const forged = await signJws(acmeKey('ES256'), ORDER, {
      url: newOrderUrl(),
      nonce,
      kid: client.kid ?? '',
    });
    expectProblem(await postRaw(newOrderUrl(), JSON.stringify(forged)), 'malformed', 400);
    const real = await signJws(client.key, ORDER, {
      url: newOrderUrl(),
      nonce,
      kid: client.kid ?? '',
    });
    expect((await postRaw(newOrderUrl(), JSON.stringify(real))).status).toBe(201);
  });
});

describe('account key rollover', () => {
  async function rollover(
    c: AcmeTestClient,
    inner: {
      key: ReturnType<typeof acmeKey>;
      payload: unknown;
      extra?: Record<string, unknown>;
      signWith?: ReturnType<typeof acmeKey>;
    },
  ) {
    const url = c.directory.keyChange ?? '';
    const jws = await signJws(inner.signWith ?? inner.key, inner.payload, {
      url,
      extra: { jwk: await exportJWK(inner.key.publicKey), ...(inner.extra ?? {}) },
    });
    return c.post(url, jws);
  }

  test('ok/the key changes; the old key no longer signs for the account', async () => {
    const c = await acmeTestClient(fx.directoryUrl);
    await c.newAccount();
    const old = c.key;
    const next = acmeKey('ES256');
    const res = await rollover(c, {
      key: next,
      payload: { account: c.kid, oldKey: await publicJwk(old.publicKey) },
    });
    expect(res.status).toBe(200);
    expectProblem(await c.newOrder('client-1'), 'malformed', 400);
    c.key = next;
    expect((await c.newOrder('client-1')).status).toBe(201);
    const again = await acmeTestClient(fx.directoryUrl, old);
    expectProblem(await again.newAccount({ onlyReturnExisting: true }), 'accountDoesNotExist', 400);
  });

  test('fail/misuse: wrong oldKey, other account, inner not signed by the new key, inner nonce, same key: malformed', async () => {
    const c = await acmeTestClient(fx.directoryUrl);
    await c.newAccount();
    const oldKey = await publicJwk(c.key.publicKey);
    const next = acmeKey('ES256');
    const cases = [
      { key: next, payload: { account: c.kid, oldKey: await publicJwk(acmeKey().publicKey) } },
      { key: next, payload: { account: client.kid, oldKey } },
      { key: next, payload: { account: c.kid, oldKey }, signWith: acmeKey('ES256') },
      { key: next, payload: { account: c.kid, oldKey }, extra: { nonce: 'x' } },
      { key: c.key, payload: { account: c.kid, oldKey } },
    ];
    for (const inner of cases) expectProblem(await rollover(c, inner), 'malformed', 400);
    expectProblem(await c.post(c.directory.keyChange ?? '', { not: 'a jws' }), 'malformed', 400);
    expect((await c.newOrder('client-1')).status).toBe(201);
  });

  test('fail/a new key another account holds: 409 with its location', async () => {
    const c = await acmeTestClient(fx.directoryUrl);
    await c.newAccount();
    const res = await rollover(c, {
      key: client.key,
      payload: { account: c.kid, oldKey: await publicJwk(c.key.publicKey) },
    });
    expect(res.status).toBe(409);
    expect(res.json.type).toBe(`${ERR}malformed`);
  });
});

describe('junk at the edge', () => {
  test('fail/a wrong media type: 415 problem', async () => {
    const jws = await signJws(client.key, ORDER, {
      url: newOrderUrl(),
      nonce: await client.nonce(),
      kid: client.kid ?? '',
    });
    expectProblem(
      await postRaw(newOrderUrl(), JSON.stringify(jws), 'application/json'),
      'malformed',
      415,
    );
  });

  test('fail/a body past 64 KiB: 413 problem', async () => {
    expectProblem(await postRaw(newOrderUrl(), Buffer.alloc(70 * 1024, 0x7b)), 'malformed', 413);
  });

  test.each([
    ['not json', 'hello'],
    ['an array', '[]'],
    ['a general JWS', JSON.stringify({ payload: '', signatures: [] })],
    ['a bad protected header', JSON.stringify({ protected: '!!', payload: '', signature: '' })],
    [
      'a protected header that is not JSON',
      JSON.stringify({ protected: 'aGVsbG8', payload: '', signature: '' }),
    ],
    ['numbers', JSON.stringify({ protected: 1, payload: 2, signature: 3 })],
  ])('fail/%s: malformed', async (_name, body) => {
    expectProblem(await postRaw(newOrderUrl(), body), 'malformed', 400);
  });

  test('fail/unknown paths 404 and wrong methods 405, as problems', async () => {
    for (const path of [
      '/nothing',
      '/order/short',
      '/order/AAAAAAAAAAAAAAAAAAAAAA/x',
      '/acct/AAAAAAAAAAAAAAAAAAAAAA/orders/1',
      '/',
    ])
      expectProblem(await postRaw(`${fx.base}${path}`, '{}'), 'malformed', 404);
    const get = await fetch(newOrderUrl());
    expect(get.status).toBe(405);
    expect(get.headers.get('replay-nonce')).toBeTruthy();
    expect((await fetch(fx.directoryUrl, { method: 'POST' })).status).toBe(405);
  });

  test('ok/random bodies on every POST route never give 5xx, and nothing is logged as an error', async () => {
    const urls = [
      newOrderUrl(),
      client.directory.newAccount ?? '',
      client.directory.keyChange ?? '',
      client.kid ?? '',
      `${fx.base}/order/AAAAAAAAAAAAAAAAAAAAAA/finalize`,
    ];
    for (let i = 0; i < 40; i++) {
      const url = urls[i % urls.length] ?? '';
      const res = await postRaw(url, randomBytes(1 + ((i * 37) % 300)));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(fx.logger.errors).toEqual([]);
  });

  test('ok/the directory links every resource under the base URL', async () => {
    const dir = (await (await fetch(fx.directoryUrl)).json()) as Record<string, unknown>;
    expect(dir).toMatchObject({
      newNonce: `${fx.base}/new-nonce`,
      newAccount: `${fx.base}/new-account`,
      newOrder: `${fx.base}/new-order`,
      keyChange: `${fx.base}/key-change`,
    });
  });
});

describe('test-01 is off by default', () => {
  test('ok/without the option only device-attest-01 is offered', async () => {
    const plain = await startAcme({ testChallenge: false });
    try {
      const c = await acmeTestClient(plain.directoryUrl);
      await c.newAccount();
      const order = await c.newOrder('client-1');
      const authz = await c.post((order.json.authorizations as string[])[0] ?? '', '');
      const types = (authz.json.challenges as { type: string }[]).map((x) => x.type);
      expect(types).toEqual(['device-attest-01']);
      // The default verifier is the stub: every attestation is refused for now.
      const chall = (authz.json.challenges as { url: string }[])[0]?.url ?? '';
      const res = await c.post(chall, { attObj: 'AAAA' });
      expect(res.json).toMatchObject({
        status: 'invalid',
        error: { type: `${ERR}badAttestationStatement` },
      });
    } finally {
      await plain.close();
    }
  });
});

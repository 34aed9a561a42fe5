/**
 * Nonces and orders hold across two instances: two real daemons (`orchard serve`, child
 * processes) on one PostgreSQL test database, one public URL in front of both (as behind a load
 * balancer; here the test routes each request to the daemon it names). A nonce daemon A handed out
 * is accepted once by daemon B and refused the second time; an order created through A is
 * validated and finalized through B; the certificate downloaded from B is an ECDSA identity that
 * checks in on B with Mdm-Signature. The ClientIdentifier comes from an enrollment link's
 * profile downloaded from A (identity set to ACME), and test-01 (`--acme-test-challenge`) stands
 * in for device-attest-01.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createCsr } from '../../src/crypto/csr.js';
import { verifyProfile } from '../../src/index.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import { acmeTestClient, postRaw, signJws, type AcmeTestClient } from '../support/acme-client.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { startTwoDaemons, type TwoDaemons } from '../support/two-daemons.js';

/** The public URL both daemons serve (never resolved: the test routes it to one of them). */
const PUBLIC = 'http://orchard.acme.invalid';

let two: TwoDaemons;
let via: 'a' | 'b' = 'a';
const realFetch = globalThis.fetch;
/** Requests per daemon on the public URL (so each step provably went where it says). */
const routed = { a: 0, b: 0 };

/** `fetch`, sending requests for the public URL to the daemon `via` names. */
const routingFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input.toString());
  if (url.origin !== PUBLIC) return realFetch(input, init);
  routed[via] += 1;
  const target = new URL(url.pathname + url.search, two[via].url);
  return realFetch(target, init);
};

beforeAll(async () => {
  two = await startTwoDaemons('acme', ['--public-url', PUBLIC, '--acme-test-challenge']);
  globalThis.fetch = routingFetch;
}, 120_000);

afterAll(async () => {
  globalThis.fetch = realFetch;
  await two.close();
});

/**
 * The one-time ClientIdentifier of an enrollment link's profile downloaded from daemon `from`
 * (the `enrollment` page's identity set to ACME through the admin API).
 */
async function downloadClientIdentifier(from: 'a' | 'b'): Promise<string> {
  const page = await two[from].api('PUT', '/api/v1/groups/global/settings/enrollment', {
    currentSetting: 'override',
    values: { identity: 'acme' },
  });
  expect(page.status).toBe(200);
  const link = await two[from].api('POST', '/api/v1/enrollment-tokens', {});
  expect(link.status).toBe(201);
  const res = await realFetch(new URL(new URL(link.body.url as string).pathname, two[from].url));
  expect(res.status).toBe(200);
  const { profile } = verifyProfile(new Uint8Array(await res.arrayBuffer()));
  const acme = (profile.PayloadContent as PlistDict[]).find(
    (p) => p.PayloadType === 'com.apple.security.acme',
  );
  expect(acme?.DirectoryURL).toBe(`${PUBLIC}/acme/directory`);
  return acme?.ClientIdentifier as string;
}

async function pushTopic(): Promise<string> {
  const rows = await two.db.query<{ value: string }>(
    "SELECT value FROM orchard_admin_meta WHERE key = 'push_topic'",
  );
  return rows[0]?.value ?? '';
}

/** The test-01 challenge URL of the order's first authorization. */
async function test01Of(client: AcmeTestClient, authzUrl: string): Promise<string> {
  const authz = await client.post(authzUrl, '');
  const challenges = authz.json.challenges as { type: string; url: string }[];
  return challenges.find((c) => c.type === 'test-01')?.url ?? '';
}

test('ok/a nonce from A is good once on B; an order made through A is finalized through B; its identity checks in on B', async () => {
  via = 'a';
  const client = await acmeTestClient(`${PUBLIC}/acme/directory`);
  expect(client.directory.newAccount).toBe(`${PUBLIC}/acme/new-account`);
  const nonce = await client.nonce();
  expect(nonce).not.toBe('');
  const fromA = routed.a;

  // A's nonce, spent on B: accepted once (no badNonce retry: one POST).
  via = 'b';
  const payload = { termsOfServiceAgreed: true };
  const account = await client.post(client.directory.newAccount ?? '', payload, {
    jwk: true,
    nonce,
  });
  expect(account.status).toBe(201);
  expect(client.posts).toBe(1);
  client.kid = account.headers.get('location') ?? undefined;
  // The same nonce again on B (and on A): refused as badNonce, never 401.
  for (const daemon of ['b', 'a'] as const) {
    via = daemon;
    const jws = await signJws(client.key, payload, {
      url: client.directory.newAccount ?? '',
      nonce,
    });
    const replay = await postRaw(client.directory.newAccount ?? '', JSON.stringify(jws));
    expect(replay.status).toBe(400);
    expect(replay.json.type).toBe('urn:ietf:params:acme:error:badNonce');
  }

  // The order is created through A ...
  via = 'a';
  client.dropNonce();
  const identifier = await downloadClientIdentifier('a');
  expect(identifier.length).toBeGreaterThanOrEqual(22);
  const order = await client.newOrder(identifier);
  expect(order.status).toBe(201);
  expect(order.json.status).toBe('pending');
  const orderUrl = order.headers.get('location') ?? '';
  const authzUrl = (order.json.authorizations as string[])[0] ?? '';
  expect(routed.a).toBeGreaterThan(fromA);

  // ... and validated, finalized and downloaded through B.
  via = 'b';
  const beforeB = routed.b;
  client.dropNonce();
  const challenge = await client.post(await test01Of(client, authzUrl), {});
  expect(challenge.status).toBe(200);
  expect((await client.post(orderUrl, '')).json.status).toBe('ready');
  const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const csr = createCsr({ subject: 'CN=acme-two-daemons', privateKey }).toString('base64url');
  const finalized = await client.post(order.json.finalize as string, { csr });
  expect(finalized.status).toBe(200);
  expect(finalized.json.status).toBe('valid');
  const pem = (await client.post(finalized.json.certificate as string, '')).text;
  const certificate = new X509Certificate(pem);
  expect(certificate.publicKey.asymmetricKeyType).toBe('ec');
  expect(routed.b - beforeB).toBeGreaterThanOrEqual(4);
  // A sees the same order as valid (one database).
  via = 'a';
  expect((await client.post(orderUrl, '')).json.status).toBe('valid');
  // The one-time identifier is used up: another order for it is refused.
  const again = await client.newOrder(identifier);
  expect(again.status).toBe(400);
  expect(again.json.type).toBe('urn:ietf:params:acme:error:rejectedIdentifier');

  // The ECDSA identity checks in on B with Mdm-Signature.
  const device = new DeviceEmulator({
    baseUrl: two.b.url,
    topic: await pushTopic(),
    identity: { certificate, privateKey },
  });
  await device.enroll();
  const idle = await device.idle();
  expect(idle.status).toBe(200);
  const rows = await two.db.query<{ enrolled: boolean }>(
    'SELECT enrolled FROM enrollments WHERE id = $1',
    [device.enrollmentId],
  );
  expect(rows[0]?.enrolled).toBe(true);
}, 120_000);

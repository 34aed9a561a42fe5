/**
 * Faults behind the ACME edge: a storage outage answers a 503 `serverInternal` problem whose
 * detail says nothing of the cause (no message, no stack), and never 401; the cause goes to the
 * log. A verifier that fails (not a refusal) leaves the challenge pending for another try.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { StorageError } from '../../src/errors.js';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import type { AcmeStore } from '../../src/storage/ports.js';
import { acmeTestClient } from '../support/acme-client.js';
import { startAcme, type AcmeFixture } from './fixture.js';

const SECRET = 'disk full at /var/lib/orchard/secret-path';

/** A memory store whose `createOrder` fails while `broken` is set. */
function brokenOrders(): AcmeStore & { broken: boolean } {
  const inner = createMemoryAcmeStore();
  const store = Object.create(inner) as AcmeStore & { broken: boolean };
  store.broken = false;
  store.createOrder = (...args) =>
    store.broken ? Promise.reject(new StorageError(SECRET)) : inner.createOrder(...args);
  return store;
}

let fx: AcmeFixture;
let store: ReturnType<typeof brokenOrders>;
beforeAll(async () => {
  store = brokenOrders();
  fx = await startAcme({
    store,
    verifyAttestation: () => Promise.reject(new Error('trust store unreadable')),
  });
});
afterAll(async () => {
  await fx.close();
});

test('fail/a storage outage is a 503 serverInternal problem that hides its cause', async () => {
  const client = await acmeTestClient(fx.directoryUrl);
  await client.newAccount();
  store.broken = true;
  try {
    const res = await client.newOrder('client-1');
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({
      type: 'urn:ietf:params:acme:error:serverInternal',
      status: 503,
    });
    expect(res.text).not.toContain('disk full');
    expect(res.text).not.toMatch(/\.ts:\d+/);
    expect(res.headers.get('replay-nonce')).toBeTruthy();
    expect(fx.logger.errors).toContain('ACME request failed');
  } finally {
    store.broken = false;
  }
  expect((await client.newOrder('client-1')).status).toBe(201);
});

test('fail/a verifier fault is a 500 and the challenge stays pending', async () => {
  const client = await acmeTestClient(fx.directoryUrl);
  await client.newAccount();
  const order = await client.newOrder('client-2');
  const authzUrl = (order.json.authorizations as string[])[0] ?? '';
  const authz = await client.post(authzUrl, '');
  const chall = (authz.json.challenges as { type: string; url: string }[])[0];
  const res = await client.post(chall?.url ?? '', { attObj: 'AAAA' });
  expect(res.status).toBe(500);
  expect(res.json.detail).not.toContain('trust store');
  expect((await client.post(chall?.url ?? '', '')).json.status).toBe('pending');
});

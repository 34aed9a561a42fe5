/**
 * Interop with an ACME client nobody here wrote: the npm package `acme-client` (5.x) drives the
 * RFC 8555 parts (account, nonce with its badNonce retry, order, the test-only `test-01`
 * challenge, finalize, download, key rollover and errors) against the ACME edge on 127.0.0.1.
 * `test-01` never fetches anything; it exists only because the server was started with it.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import acme from 'acme-client';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import type { AcmeStore } from '../../src/storage/ports.js';
import { startAcme, type AcmeFixture } from './fixture.js';

/** A memory store whose next `failNonces` nonce checks fail (a stale nonce, as clients see it). */
function flakyNonces(): AcmeStore & { failNonces: number } {
  const inner = createMemoryAcmeStore();
  const store = Object.create(inner) as AcmeStore & { failNonces: number };
  store.failNonces = 0;
  store.consumeNonce = async (nonce, now) => {
    const ok = await inner.consumeNonce(nonce, now);
    if (store.failNonces === 0) return ok;
    store.failNonces -= 1;
    return false;
  };
  return store;
}

let fx: AcmeFixture;
let store: ReturnType<typeof flakyNonces>;
beforeAll(async () => {
  store = flakyNonces();
  fx = await startAcme({ store });
});
afterAll(async () => {
  await fx.close();
});

async function newClient(): Promise<acme.Client> {
  const client = new acme.Client({
    directoryUrl: fx.directoryUrl,
    accountKey: await acme.crypto.createPrivateEcdsaKey('P-256'),
    backoffAttempts: 3,
    backoffMin: 10,
    backoffMax: 50,
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  return client;
}

function order(client: acme.Client, value: string, type = 'permanent-identifier') {
  return client.createOrder({ identifiers: [{ type, value }] });
}

describe('acme-client 5 against the ACME edge', () => {
  test('ok/account, order, test-01, finalize and download', async () => {
    const client = await newClient();
    expect(client.getAccountUrl()).toMatch(`${fx.base}/acct/`);
    const created = await order(client, 'client-interop');
    expect(created.status).toBe('pending');
    const [authz] = await client.getAuthorizations(created);
    const chall = authz?.challenges.find((c) => c.type === ('test-01' as never));
    if (authz === undefined || chall === undefined) throw new Error('no test-01 challenge');
    await client.completeChallenge(chall);
    await client.waitForValidStatus(chall);
    const [, csr] = await acme.crypto.createCsr({ commonName: 'acme-interop' });
    const finalized = await client.finalizeOrder(created, csr);
    expect(finalized.status).toBe('valid');
    const pem = await client.getCertificate(finalized);
    const leaf = new X509Certificate(pem);
    expect(leaf.subject).toContain('CN=acme-interop');
    expect(leaf.verify(fx.ca.certificate.publicKey)).toBe(true);
    const record = await fx.ca.findIssuedCertificate(leaf.serialNumber);
    expect(record?.enrollmentId).toBe('enrollment-token:client-interop');
  });

  test('ok/a badNonce answer is retried by the client and the request succeeds', async () => {
    const client = await newClient();
    store.failNonces = 1;
    const created = await order(client, 'client-retry');
    expect(created.status).toBe('pending');
    expect(store.failNonces).toBe(0);
  });

  test('ok/the account key rolls over', async () => {
    const client = await newClient();
    const url = client.getAccountUrl();
    await client.updateAccountKey(await acme.crypto.createPrivateEcdsaKey('P-256'));
    expect(client.getAccountUrl()).toBe(url);
    expect((await order(client, 'client-after-rollover')).status).toBe('pending');
  });

  test.each([
    ['dns', 'example.com', /only permanent-identifier/],
    ['permanent-identifier', 'refused-by-policy', /may not be ordered/],
  ])(
    'fail/identifier %s %s: the problem detail reaches the client',
    async (type, value, detail) => {
      const client = await newClient();
      await expect(order(client, value, type)).rejects.toThrow(detail);
    },
  );

  test('fail/finalize before the order is ready', async () => {
    const client = await newClient();
    const created = await order(client, 'client-early');
    const [, csr] = await acme.crypto.createCsr({ commonName: 'early' });
    await expect(client.finalizeOrder(created, csr)).rejects.toThrow(/not ready/);
  });
});

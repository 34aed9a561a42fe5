/**
 * Nonces and orders hold across two ACME servers on one SQLite database (two connections, as two
 * daemons would have), requests spread round-robin: a nonce one issues the other accepts once,
 * an order one creates the other finalizes, and of two racing finalize requests one issues.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createCsr } from '../../src/crypto/csr.js';
import { openSqliteAcmeStore, type SqliteAcmeStore } from '../../src/storage/sqlite/acme.js';
import { openSqliteCaStorage, type SqliteCaStorage } from '../../src/storage/sqlite/index.js';
import { acmeTestClient, postRaw, signJws } from '../support/acme-client.js';
import { startAcme, type AcmeFixture } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-acme-two-'));
const path = join(dir, 'orchard.db');
let stores: SqliteAcmeStore[];
let caStorage: SqliteCaStorage;
let fx: AcmeFixture;

beforeAll(async () => {
  stores = [openSqliteAcmeStore({ path }), openSqliteAcmeStore({ path })];
  caStorage = openSqliteCaStorage({ path });
  fx = await startAcme({
    store: stores[0] as SqliteAcmeStore,
    moreStores: [stores[1] as SqliteAcmeStore],
    certificates: caStorage.certificates,
  });
});

afterAll(async () => {
  await fx.close();
  for (const s of stores) s.close();
  caStorage.close();
  rmSync(dir, { recursive: true, force: true });
});

test('ok/the whole flow across two servers on one database', async () => {
  const client = await acmeTestClient(fx.directoryUrl);
  expect((await client.newAccount()).status).toBe(201);
  const order = await client.newOrder('client-two');
  const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
  const test01 = (authz.json.challenges as { type: string; url: string }[]).find(
    (c) => c.type === 'test-01',
  );
  expect((await client.post(test01?.url ?? '', {})).json.status).toBe('valid');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const csr = createCsr({ subject: 'CN=two', privateKey: key }).toString('base64url');
  const finalizeUrl = order.json.finalize as string;
  // Two finalize requests at once, each with its own fresh nonce: exactly one issues.
  const nonces = [await client.nonce(), await client.nonce()];
  const kid = client.kid ?? '';
  const bodies = await Promise.all(
    nonces.map((nonce) => signJws(client.key, { csr }, { url: finalizeUrl, nonce, kid })),
  );
  const results = await Promise.all(bodies.map((b) => postRaw(finalizeUrl, JSON.stringify(b))));
  expect(results.map((r) => r.status).sort()).toEqual([200, 403]);
  expect(await caStorage.certificates.countIssued()).toBe(1);
});

test('fail/a nonce is accepted once, whichever server sees it', async () => {
  const client = await acmeTestClient(fx.directoryUrl);
  const nonce = await client.nonce();
  const url = client.directory.newAccount ?? '';
  const jws = JSON.stringify(await signJws(client.key, {}, { url, nonce }));
  const first = await postRaw(url, jws);
  const second = await postRaw(url, jws);
  expect(first.status).toBe(201);
  expect(second.json.type).toBe('urn:ietf:params:acme:error:badNonce');
});

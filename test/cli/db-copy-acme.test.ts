/**
 * `orchard db copy` moves the ACME tables: an installation's accounts, orders (with their
 * authorizations, challenges, bound keys, problems and times) and nonces arrive in PostgreSQL
 * and read back through the PostgreSQL ACME store exactly as the SQLite store reads them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { main } from '../../src/cli/main.js';
import type { AcmeStore } from '../../src/storage/ports.js';
import { openPostgresAcmeStore } from '../../src/storage/postgres/index.js';
import { openSqliteAcmeStore } from '../../src/storage/sqlite/index.js';
import { accountRecord, orderFixture } from '../storage/conformance-acme.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const T0 = new Date('2026-12-01T10:00:00.123Z');
let dir = '';
let sqlitePath = '';
let pg: TestDatabase;

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    return { code: await main(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
}

/** Two accounts (one deactivated), a valid order with a bound key, a refused one, a nonce. */
async function populate(store: AcmeStore): Promise<void> {
  await store.createAccount(accountRecord('acct-1', 'thumb-1'));
  await store.createAccount({ ...accountRecord('acct-2', 'thumb-2'), contact: [] });
  await store.updateAccount('acct-2', { status: 'deactivated' });
  const good = orderFixture('o-good');
  await store.createOrder(good.order, [good.authz], good.challenges);
  await store.updateAuthorization(good.authz.id, ['pending'], {
    status: 'valid',
    boundKey: Buffer.from([0x30, 0x59, 0x00, 0xff]),
    attestedSerial: 'C02XYZ',
    attestedUdid: 'UDID-1',
  });
  await store.updateChallenge(good.challenges[0]?.id ?? '', ['pending'], {
    status: 'valid',
    validatedAt: new Date(T0.getTime() + 5_000),
  });
  await store.updateOrder('o-good', ['pending'], { status: 'valid', certificateSerial: '4abc' });
  const bad = orderFixture('o-bad', 'acct-2');
  await store.createOrder(bad.order, [bad.authz], bad.challenges);
  const problem = {
    type: 'urn:ietf:params:acme:error:badAttestationStatement',
    detail: 'no',
    status: 400,
  };
  await store.updateChallenge(bad.challenges[0]?.id ?? '', ['pending'], {
    status: 'invalid',
    error: problem,
  });
  await store.updateOrder('o-bad', ['pending'], { status: 'invalid', error: problem });
  await store.putNonce('nonce-1', new Date(T0.getTime() + 600_000));
}

/** Everything the store answers about the populated rows. */
async function snapshot(store: AcmeStore) {
  const out: unknown[] = [];
  for (const id of ['acct-1', 'acct-2']) out.push(await store.findAccount(id));
  for (const id of ['o-good', 'o-bad']) {
    const order = await store.findOrder(id);
    out.push(order);
    for (const a of order?.authorizationIds ?? []) {
      const authz = await store.findAuthorization(a);
      out.push({ ...authz, boundKey: authz?.boundKey?.toString('hex') });
      out.push(await store.listChallenges(a));
    }
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-db-copy-acme-'));
  sqlitePath = join(dir, 'orchard.db');
  pg = await createTestDatabase('dbcopyacme');
});

afterAll(async () => {
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('ok/the ACME tables arrive and read back through the PostgreSQL ACME store as in SQLite', async () => {
  const source = openSqliteAcmeStore({ path: sqlitePath });
  let expected: unknown[];
  try {
    await populate(source);
    expected = await snapshot(source);
  } finally {
    source.close();
  }
  const result = await run('db', 'copy', '--from', `sqlite:${sqlitePath}`, '--to', pg.url);
  expect(result.err).toContain('verified');
  expect(result.code).toBe(0);
  const reports = (JSON.parse(result.out) as { reports: { table: string; target: number }[] })
    .reports;
  const count = (table: string) => reports.find((r) => r.table === table)?.target;
  expect(count('orchard_acme_accounts')).toBe(2);
  expect(count('orchard_acme_orders')).toBe(2);
  expect(count('orchard_acme_authorizations')).toBe(2);
  expect(count('orchard_acme_challenges')).toBe(4);
  expect(count('orchard_acme_nonces')).toBe(1);

  const target = await openPostgresAcmeStore({ url: pg.url });
  try {
    expect(await snapshot(target)).toEqual(expected);
    expect(expected[3]).toMatchObject({ attestedSerial: 'C02XYZ', boundKey: '305900ff' });
    // The copied nonce is good once, on PostgreSQL.
    expect(await target.consumeNonce('nonce-1', T0)).toBe(true);
    expect(await target.consumeNonce('nonce-1', T0)).toBe(false);
  } finally {
    await target.close();
  }
});

/** The ClientIdentifier storage conformance suite, run against the memory and SQLite adapters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { createMemoryAcmeClientIdStore } from '../../src/storage/memory/acme-identifiers.js';
import { openSqliteAcmeClientIdStore } from '../../src/storage/sqlite/acme-identifiers.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { clientId, runAcmeClientIdConformance } from './conformance-acme-identifiers.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-acme-ids-'));
let n = 0;

runAcmeClientIdConformance('memory', () => createMemoryAcmeClientIdStore());

runAcmeClientIdConformance('sqlite', () => {
  n += 1;
  return openSqliteAcmeClientIdStore({ path: join(dir, `ids-${String(n)}.db`) });
});

runAcmeClientIdConformance('sqlite, the database of every store', () => {
  n += 1;
  const db = openSqliteDatabase({ path: join(dir, `all-${String(n)}.db`) });
  return { ...db.acmeIdentifiers, close: () => db.close() };
});

test('ok/SQLite keeps the digest, never a value, and two connections share one use', async () => {
  const path = join(dir, 'shared.db');
  const a = openSqliteAcmeClientIdStore({ path });
  const b = openSqliteAcmeClientIdStore({ path });
  try {
    await a.putClientId(clientId('digest-only'));
    const now = new Date('2026-12-01T10:00:01Z');
    expect((await b.claimClientId('digest-only', 'acct', now))?.accountId).toBe('acct');
    const uses = await Promise.all([
      a.useClientId('digest-only', 'acct', now),
      b.useClientId('digest-only', 'acct', now),
    ]);
    expect(uses.filter(Boolean)).toHaveLength(1);
    const raw = new Database(path, { readonly: true });
    const columns = raw.prepare('SELECT * FROM orchard_acme_client_ids').columns();
    raw.close();
    expect(columns.map((c) => c.name).sort()).toEqual(
      [
        'account_id',
        'created_at',
        'digest',
        'enrollment_id',
        'expected_serial',
        'expected_udid',
        'expires_at',
        'used_at',
      ].sort(),
    );
  } finally {
    a.close();
    b.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

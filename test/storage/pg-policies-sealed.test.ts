/**
 * Removal passwords of `with-authorization` assignments at rest in PostgreSQL (rule S8): sealed
 * with the secrets key and bound to their policy and profile, plain through the store, sealed
 * bytes copied from a SQLite database open here (same purpose and owner), and re-sealed by a key
 * rotation.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addSecretsKey, createSecretsKeyring, SecretsError } from '../../src/index.js';
import { openPostgresDatabase } from '../../src/storage/postgres/index.js';
import type { AdminStorage } from '../../src/storage/ports.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(9) }]);
const PASSWORD = 'RemovalPassword-K7PQ2M';
const AT = new Date('2026-12-07T04:00:00Z');
const clock = () => AT;

const dir = mkdtempSync(join(tmpdir(), 'orchard-pg-policies-sealed-'));
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('policies_sealed');
});

beforeEach(async () => {
  await db.reset();
});

afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The sealed removal passwords of a SQLite file, in policy order. */
function sqliteSealed(path: string): Buffer[] {
  const lite = new Database(path, { readonly: true });
  try {
    const sql = 'SELECT removal_password FROM orchard_policy_assignments ORDER BY policy_id';
    return lite.prepare(sql).pluck().all() as Buffer[];
  } finally {
    lite.close();
  }
}

/** Two policies each assigning one profile with authorization. */
async function seed(admin: AdminStorage): Promise<void> {
  const content = Buffer.from('<plist/>');
  await admin.createLibraryProfile(
    {
      ...{ id: 'prf_x', groupId: 'global', identifier: 'com.example.x', name: 'x' },
      ...{ assignmentType: 'auto', latestVersion: 1, createdAt: AT, updatedAt: AT },
    },
    {
      ...{ profileId: 'prf_x', version: 1, payloadUuid: 'U', sha256: 'ab', content },
      ...{ createdBy: 'owner', createdAt: AT },
    },
  );
  for (const id of ['pol_a', 'pol_b']) {
    await admin.createPolicy({ id, name: id, groupId: 'global', createdAt: AT, updatedAt: AT });
    await admin.putAssignment({
      ...{ policyId: id, profileId: 'prf_x', assignmentType: 'auto' },
      ...{ removal: 'with-authorization', removalPassword: `${PASSWORD}-${id}` },
      ...{ createdAt: AT, updatedAt: AT },
    });
  }
}

async function rawPasswords(): Promise<Buffer[]> {
  const rows = await db.query<{ p: Buffer }>(
    'SELECT removal_password AS p FROM orchard_policy_assignments ORDER BY policy_id',
  );
  return rows.map((r) => r.p);
}

const open = (secrets = KEY) => openPostgresDatabase({ url: db.url, clock, secrets });

describe('removal passwords at rest in PostgreSQL', () => {
  test('ok/sealed in the table, plain through the store', async () => {
    const pg = await open();
    try {
      await seed(pg.admin);
      const raw = await rawPasswords();
      expect(raw).toHaveLength(2);
      for (const v of raw) {
        expect(v.toString('latin1')).not.toContain(PASSWORD);
        expect(KEY.keyIdOf(v)).toBe(1);
      }
      expect(await pg.admin.listAssignments('pol_b')).toEqual([
        expect.objectContaining({ removalPassword: `${PASSWORD}-pol_b` }),
      ]);
    } finally {
      await pg.close();
    }
  });

  test('fail/a password moved to another assignment does not open', async () => {
    const pg = await open();
    try {
      await seed(pg.admin);
      await db.query(
        `UPDATE orchard_policy_assignments SET removal_password = (SELECT removal_password
           FROM orchard_policy_assignments WHERE policy_id = 'pol_a') WHERE policy_id = 'pol_b'`,
      );
      await expect(pg.admin.listAssignments('pol_b')).rejects.toBeInstanceOf(SecretsError);
      expect(await pg.admin.listAssignments('pol_a')).toEqual([
        expect.objectContaining({ removalPassword: `${PASSWORD}-pol_a` }),
      ]);
    } finally {
      await pg.close();
    }
  });

  test('ok/passwords sealed by the SQLite adapter open here as they are', async () => {
    const path = join(dir, 'copy.sqlite');
    const lite = openSqliteDatabase({ path, secrets: KEY });
    const pg = await open();
    try {
      await seed(lite.admin);
      await seed(pg.admin);
      // Replace PostgreSQL's sealed bytes with SQLite's (what `orchard db copy` moves).
      for (const id of ['pol_a', 'pol_b']) {
        const [assignment] = await lite.admin.listAssignments(id);
        expect(assignment?.removalPassword).toBe(`${PASSWORD}-${id}`);
      }
      const sqliteBytes = sqliteSealed(path);
      expect(sqliteBytes).toHaveLength(2);
      for (const [i, id] of ['pol_a', 'pol_b'].entries())
        await db.query(
          'UPDATE orchard_policy_assignments SET removal_password = $1 WHERE policy_id = $2',
          [sqliteBytes[i], id],
        );
      expect(await rawPasswords()).toEqual(sqliteBytes);
      expect(await pg.admin.listProfileAssignments('prf_x')).toEqual([
        expect.objectContaining({ policyId: 'pol_a', removalPassword: `${PASSWORD}-pol_a` }),
        expect.objectContaining({ policyId: 'pol_b', removalPassword: `${PASSWORD}-pol_b` }),
      ]);
    } finally {
      await lite.close();
      await pg.close();
    }
  });

  test('ok/a rotation re-seals removal passwords under the new key', async () => {
    const first = await open();
    await seed(first.admin);
    await first.close();
    const next = addSecretsKey(KEY);
    const rotating = await open(next);
    try {
      expect(await rotating.storage.resealSecrets()).toMatchObject({ removalPasswords: 2 });
      for (const v of await rawPasswords()) expect(next.keyIdOf(v)).toBe(next.currentKeyId);
      expect(await rotating.admin.listAssignments('pol_a')).toEqual([
        expect.objectContaining({ removalPassword: `${PASSWORD}-pol_a` }),
      ]);
    } finally {
      await rotating.close();
    }
  });
});

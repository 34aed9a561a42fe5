/**
 * Removal passwords of `with-authorization` assignments at rest (rule S8): sealed with the
 * secrets key and bound to their policy and profile, plain through the store, and re-sealed by a
 * key rotation (`orchard secrets rotate`).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addSecretsKey, createSecretsKeyring, SecretsError } from '../../src/index.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import type { AdminStorage } from '../../src/storage/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-policies-sealed-'));
const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(9) }]);
const PASSWORD = 'RemovalPassword-K7PQ2M';
const AT = new Date('2026-12-07T04:00:00Z');
let n = 0;
const fresh = () => join(dir, `db-${String((n += 1))}.sqlite`);

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

function rawPasswords(path: string): Buffer[] {
  const db = new Database(path, { readonly: true });
  try {
    const sql = 'SELECT removal_password FROM orchard_policy_assignments ORDER BY policy_id';
    return db.prepare(sql).pluck().all() as Buffer[];
  } finally {
    db.close();
  }
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('removal passwords at rest', () => {
  test('ok/sealed in the file, plain through the store', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    await seed(db.admin);
    const raw = rawPasswords(path);
    expect(raw).toHaveLength(2);
    for (const v of raw) expect(Buffer.from(v).toString('latin1')).not.toContain(PASSWORD);
    expect(await db.admin.listAssignments('pol_b')).toEqual([
      expect.objectContaining({ removalPassword: `${PASSWORD}-pol_b` }),
    ]);
    await db.close();
  });

  test('fail/a password moved to another assignment does not open', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    await seed(db.admin);
    await db.close();
    const raw = new Database(path);
    raw
      .prepare(
        `UPDATE orchard_policy_assignments SET removal_password = (SELECT removal_password
           FROM orchard_policy_assignments WHERE policy_id = 'pol_a') WHERE policy_id = 'pol_b'`,
      )
      .run();
    raw.close();
    const reopened = openSqliteDatabase({ path, secrets: KEY });
    await expect(reopened.admin.listAssignments('pol_b')).rejects.toBeInstanceOf(SecretsError);
    await reopened.close();
  });

  test('ok/plain passwords of an unkeyed database are sealed when a key arrives', async () => {
    const path = fresh();
    const plain = openSqliteDatabase({ path });
    await seed(plain.admin);
    await plain.close();
    expect(rawPasswords(path)[0]?.toString()).toBe(`${PASSWORD}-pol_a`);
    const keyed = openSqliteDatabase({ path, secrets: KEY });
    for (const v of rawPasswords(path)) expect(KEY.keyIdOf(v)).toBe(1);
    expect(await keyed.admin.listProfileAssignments('prf_x')).toEqual([
      expect.objectContaining({ policyId: 'pol_a', removalPassword: `${PASSWORD}-pol_a` }),
      expect.objectContaining({ policyId: 'pol_b', removalPassword: `${PASSWORD}-pol_b` }),
    ]);
    await keyed.close();
  });

  test('ok/a rotation re-seals removal passwords under the new key', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    await seed(db.admin);
    await db.close();
    const next = addSecretsKey(KEY);
    const rotating = openSqliteDatabase({ path, secrets: next });
    expect(await rotating.storage.resealSecrets()).toMatchObject({ removalPasswords: 2 });
    for (const v of rawPasswords(path)) expect(next.keyIdOf(v)).toBe(next.currentKeyId);
    expect(await rotating.admin.listAssignments('pol_a')).toEqual([
      expect.objectContaining({ removalPassword: `${PASSWORD}-pol_a` }),
    ]);
    await rotating.close();
  });
});

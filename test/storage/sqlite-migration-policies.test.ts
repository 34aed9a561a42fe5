/**
 * Migration 9 on a database at migration 8: the policy names users and generic links held
 * before policies existed become policies of the root group (one per name whatever its case,
 * spelt as most rows spell it),
 * and both columns hold the new ids afterwards; a blank name becomes no policy.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { migrate } from '../../src/storage/sqlite/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-migration-9-'));
const AT = Date.UTC(2026, 11, 1);
const LATER = new Date(Date.UTC(2026, 11, 7));

/** A database at migration 8 holding users and links with these policy names. */
function atMigration8(path: string): void {
  const db = new Database(path);
  try {
    expect(migrate(db, AT, MIGRATIONS.slice(0, 8))).toBe(8);
    const user = db.prepare(
      `INSERT INTO orchard_users (id, username, email, group_id, policy, created_at, updated_at)
       VALUES (?, ?, '', 'global', ?, ?, ?)`,
    );
    const users: [string, string | null][] = [
      ['usr_ann', 'Staff'],
      ['usr_bob', 'staff'],
      ['usr_cid', 'Kiosk'],
      ['usr_dan', null],
      ['usr_eve', ' '],
      ['usr_fay', 'Staff'],
    ];
    for (const [id, policy] of users) user.run(id, id.slice(4), policy, AT, AT);
    const link = db.prepare(
      `INSERT INTO orchard_admin_enrollment_tokens (id, hash, single_use, created_at, kind,
         group_id, policy) VALUES (?, ?, 0, ?, 'generic', 'global', ?)`,
    );
    link.run('et_1', 'h1', AT, 'Lab');
    link.run('et_2', 'h2', AT, 'STAFF');
    link.run('et_3', 'h3', AT, null);
  } finally {
    db.close();
  }
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 9: policy names become policies', () => {
  test('ok/one root-group policy per name; users and links hold its id', async () => {
    const path = join(dir, 'eight.db');
    atMigration8(path);
    const database = openSqliteDatabase({ path, clock: () => LATER, lastSeenFlushMs: 0 });
    const { admin } = database;
    const { items } = await admin.listPolicies({ limit: 10 });
    expect(items.map((p) => p.name).sort()).toEqual(['Kiosk', 'Lab', 'Staff']);
    for (const p of items) {
      expect(p.id).toMatch(/^pol_[0-9a-f]{32}$/);
      expect(p).toEqual({
        id: p.id,
        name: p.name,
        groupId: 'global',
        createdAt: LATER,
        updatedAt: LATER,
      });
    }
    const staff = await admin.findPolicyByName('STAFF');
    const kiosk = await admin.findPolicyByName('kiosk');
    const lab = await admin.findPolicyByName('lab');
    const policyOf = async (id: string) => (await admin.findUser(id))?.policy;
    expect(await policyOf('usr_ann')).toBe(staff?.id);
    expect(await policyOf('usr_bob')).toBe(staff?.id);
    expect(await policyOf('usr_fay')).toBe(staff?.id);
    expect(await policyOf('usr_cid')).toBe(kiosk?.id);
    expect(await policyOf('usr_dan')).toBeUndefined();
    expect(await policyOf('usr_eve')).toBeUndefined();
    expect((await admin.findEnrollmentToken('et_1'))?.policy).toBe(lab?.id);
    expect((await admin.findEnrollmentToken('et_2'))?.policy).toBe(staff?.id);
    expect((await admin.findEnrollmentToken('et_3'))?.policy).toBeUndefined();
    expect(await admin.countPolicyReferences(staff?.id ?? '')).toEqual({
      users: 3,
      groups: 0,
      links: 1,
    });
    await database.close();
    const again = openSqliteDatabase({ path, lastSeenFlushMs: 0 });
    expect((await again.admin.listPolicies({ limit: 10 })).items).toEqual(items);
    await again.close();
  });

  test('ok/a database with no policy names gets no policy', async () => {
    const path = join(dir, 'empty.db');
    const db = new Database(path);
    migrate(db, AT, MIGRATIONS.slice(0, 8));
    db.close();
    const database = openSqliteDatabase({ path, lastSeenFlushMs: 0 });
    expect(await database.admin.listPolicies({ limit: 10 })).toEqual({ items: [] });
    await database.close();
  });
});

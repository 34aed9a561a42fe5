/**
 * Migration 14 on a database at migration 13: `orchard_device_profiles` becomes a WITHOUT ROWID
 * table without the by-command index; every record survives as it was, and each query of the
 * adapter is answered through the key or the by-profile index, never by scanning the table.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { migrate } from '../../src/storage/sqlite/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-migration-14-'));
const AT = Date.UTC(2026, 11, 1);
const LATER = new Date(Date.UTC(2026, 11, 7));

type Raw = [string, string, string, number, string | null, string, string | null, string];
type Tail = [string | null, number | null, number];

/** Rows as migration 9 stored them: with and without command, payload and install time. */
const ROWS: [...Raw, ...Tail][] = [
  ['dev-1', 'com.a', 'prf_a', 2, 'U-A', 'installed', null, 'policy', 'cmd-1', AT, AT],
  ['dev-1', 'com.b', 'prf_b', 1, null, 'pending', null, 'admin', 'cmd-2', null, AT + 1],
  ['dev-2', 'com.a', 'prf_a', 1, null, 'failed', 'no', 'policy', null, null, AT + 2],
  ['dev-3', 'com.c', 'prf_c', 3, 'U-C', 'removing', null, 'user', 'cmd-3', AT, AT + 3],
];

/** A database at migration 13 holding {@link ROWS}. */
function atMigration13(path: string): void {
  const db = new Database(path);
  try {
    expect(migrate(db, AT, MIGRATIONS.slice(0, 13))).toBe(13);
    const insert = db.prepare(
      `INSERT INTO orchard_device_profiles (enrollment_id, identifier, profile_id, version,
         payload_uuid, state, reason, channel, command_uuid, installed_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const row of ROWS) insert.run(...row);
  } finally {
    db.close();
  }
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 14: device profile records clustered on their key', () => {
  test('ok/every record survives; the store reads them as before', async () => {
    const path = join(dir, 'thirteen.db');
    atMigration13(path);
    const database = openSqliteDatabase({ path, clock: () => LATER, lastSeenFlushMs: 0 });
    try {
      const { admin } = database;
      expect((await admin.listDeviceProfiles('dev-1')).map((r) => r.identifier)).toEqual([
        'com.a',
        'com.b',
      ]);
      expect(await admin.findDeviceProfileByCommand('dev-1', 'cmd-2')).toEqual({
        ...{ enrollmentId: 'dev-1', identifier: 'com.b', profileId: 'prf_b', version: 1 },
        ...{
          state: 'pending',
          channel: 'admin',
          commandUuid: 'cmd-2',
          updatedAt: new Date(AT + 1),
        },
      });
      expect(await admin.findDeviceProfileByCommand('dev-2', 'cmd-1')).toBeUndefined();
      const page = await admin.listProfileDevices('prf_a', { limit: 10 });
      expect(page.items.map((r) => r.enrollmentId)).toEqual(['dev-1', 'dev-2']);
      await admin.putDeviceProfiles([
        {
          ...{ enrollmentId: 'dev-2', identifier: 'com.a', profileId: 'prf_a', version: 2 },
          ...{ state: 'pending', channel: 'policy', commandUuid: 'cmd-9', updatedAt: LATER },
        },
      ]);
      expect((await admin.findDeviceProfile('dev-2', 'com.a'))?.version).toBe(2);
    } finally {
      await database.close();
    }
    const raw = new Database(path, { readonly: true });
    try {
      const rows = raw
        .prepare(
          `SELECT * FROM orchard_device_profiles WHERE enrollment_id <> 'dev-2'
           ORDER BY enrollment_id, identifier`,
        )
        .raw(true)
        .all();
      expect(rows).toEqual(ROWS.filter((r) => r[0] !== 'dev-2'));
      const sql = raw
        .prepare("SELECT sql FROM sqlite_master WHERE name = 'orchard_device_profiles'")
        .pluck()
        .get() as string;
      expect(sql).toMatch(/WITHOUT ROWID\s*$/);
      const indexes = raw
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index'
             AND tbl_name = 'orchard_device_profiles' AND sql IS NOT NULL ORDER BY name`,
        )
        .pluck()
        .all();
      expect(indexes).toEqual(['orchard_device_profiles_profile']);
    } finally {
      raw.close();
    }
  });

  test.each([
    [
      'by command',
      `SELECT * FROM orchard_device_profiles WHERE enrollment_id = ? AND command_uuid = ?
       ORDER BY identifier LIMIT 1`,
      ['dev-1', 'cmd-1'],
    ],
    [
      'one record',
      'SELECT * FROM orchard_device_profiles WHERE enrollment_id = ? AND identifier = ?',
      ['dev-1', 'com.a'],
    ],
    [
      'of many enrollments',
      `SELECT * FROM orchard_device_profiles
       WHERE enrollment_id IN (SELECT value FROM json_each(?)) ORDER BY enrollment_id, identifier`,
      ['["dev-1","dev-3"]'],
    ],
    [
      'by profile',
      `SELECT * FROM orchard_device_profiles WHERE profile_id = ?
         AND (enrollment_id > ? OR (enrollment_id = ? AND identifier > ?))
         AND (? IS NULL OR state IN (SELECT value FROM json_each(?)))
       ORDER BY enrollment_id, identifier LIMIT ?`,
      ['prf_a', '', '', '', null, null, 10],
    ],
  ])('ok/%s is a search through an index, not a scan', (_name, sql, params) => {
    const path = join(dir, 'plans.db');
    const database = new Database(path);
    try {
      migrate(database, AT, MIGRATIONS);
      const plan = database
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => (r as { detail: string }).detail);
      const table = plan.filter((d) => d.includes('orchard_device_profiles'));
      expect(table.length).toBeGreaterThan(0);
      for (const detail of table) expect(detail).toMatch(/^SEARCH orchard_device_profiles USING/);
      expect(plan.some((d) => d.includes('TEMP B-TREE FOR ORDER BY'))).toBe(false);
    } finally {
      database.close();
    }
  });
});

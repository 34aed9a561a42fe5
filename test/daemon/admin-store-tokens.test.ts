/**
 * Enrollment tokens in the admin tables of a 0.1 file: the upgrade of a table from before the
 * `enrollments` column (single-use links downloaded then stay spent). How links are counted,
 * spent, expired and revoked is store behaviour, in test/storage/conformance-admin-links.ts.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminStorage } from '../../src/storage/ports.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';

const T0 = new Date('2026-03-01T10:00:00Z');
let dir: string;
let store: AdminStorage;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-tokens-'));
  store = openSqliteAdminStore({ path: join(dir, 'admin.db'), clock: () => T0 });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('upgrading a table from before the enrollments column', () => {
  test('ok/single-use links downloaded before stay spent; others keep working', async () => {
    store.close();
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE orchard_admin_enrollment_tokens (
      id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, single_use INTEGER NOT NULL,
      uses INTEGER NOT NULL DEFAULT 0, expires_at INTEGER, user_name TEXT,
      created_at INTEGER NOT NULL, revoked_at INTEGER)`);
    const insert = db.prepare(
      'INSERT INTO orchard_admin_enrollment_tokens (id, hash, single_use, uses, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run('et_used', 'used', 1, 1, T0.getTime());
    insert.run('et_fresh', 'fresh', 1, 0, T0.getTime());
    insert.run('et_multi', 'multi', 0, 3, T0.getTime());
    db.close();
    store = openSqliteAdminStore({ path, clock: () => T0 });
    const again = openSqliteAdminStore({ path, clock: () => T0 });
    again.close();
    expect(await store.downloadEnrollmentToken('used', T0)).toBeUndefined();
    expect(await store.downloadEnrollmentToken('fresh', T0)).toMatchObject({ enrollments: 0 });
    expect(await store.downloadEnrollmentToken('multi', T0)).toMatchObject({
      uses: 4,
      enrollments: 0,
    });
  });
});

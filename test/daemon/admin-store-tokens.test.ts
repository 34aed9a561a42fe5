/**
 * Enrollment tokens in the admin tables: downloads and enrollments counted apart, a single-use
 * token spent by its first enrollment (atomically), expiry and revocation at the given time, and
 * the upgrade of a table from before the `enrollments` column (single-use links downloaded then
 * stay spent).
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAdminStore, type AdminStore } from '../../src/daemon/admin-store.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
let dir: string;
let store: AdminStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-tokens-'));
  store = openAdminStore(join(dir, 'admin.db'), () => T0);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('downloads and enrollments', () => {
  test('ok/a single-use token downloads until its first enrollment, which spends it', () => {
    const t = store.createEnrollmentToken({ hash: 'h1', singleUse: true });
    expect(store.downloadEnrollmentToken('h1', at(1000))).toMatchObject({ uses: 1 });
    expect(store.downloadEnrollmentToken('h1', at(2000))).toMatchObject({ uses: 2 });
    expect(store.redeemEnrollmentToken(t.id, at(3000))).toMatchObject({ enrollments: 1 });
    expect(store.redeemEnrollmentToken(t.id, at(3000))).toBeUndefined();
    expect(store.downloadEnrollmentToken('h1', at(4000))).toBeUndefined();
    expect(store.findEnrollmentToken(t.id)).toMatchObject({ uses: 2, enrollments: 1 });
  });

  test('ok/a multi-use token enrolls many devices', () => {
    const t = store.createEnrollmentToken({ hash: 'h2', singleUse: false });
    for (let i = 1; i <= 3; i++)
      expect(store.redeemEnrollmentToken(t.id, at(i))).toMatchObject({ enrollments: i });
    expect(store.downloadEnrollmentToken('h2', at(5))).toMatchObject({ uses: 1, enrollments: 3 });
  });

  test.each([
    ['expired', (id: string) => id, at(60_000)],
    ['revoked', (id: string) => (store.revokeEnrollmentToken(id), id), at(1000)],
  ])('fail/a token that is %s neither downloads nor enrolls', (_, prepare, when) => {
    const t = store.createEnrollmentToken({ hash: 'h3', singleUse: false, expiresAt: at(60_000) });
    const id = prepare(t.id);
    expect(store.downloadEnrollmentToken('h3', when)).toBeUndefined();
    expect(store.redeemEnrollmentToken(id, when)).toBeUndefined();
  });

  test('fail/an unknown token', () => {
    expect(store.downloadEnrollmentToken('nope', T0)).toBeUndefined();
    expect(store.redeemEnrollmentToken('et_nope', T0)).toBeUndefined();
  });
});

describe('upgrading a table from before the enrollments column', () => {
  test('ok/single-use links downloaded before stay spent; others keep working', () => {
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
    store = openAdminStore(path, () => T0);
    const again = openAdminStore(path, () => T0);
    again.close();
    expect(store.downloadEnrollmentToken('used', T0)).toBeUndefined();
    expect(store.downloadEnrollmentToken('fresh', T0)).toMatchObject({ enrollments: 0 });
    expect(store.downloadEnrollmentToken('multi', T0)).toMatchObject({ uses: 4, enrollments: 0 });
  });
});

/**
 * The profile library's version contents sealed at rest in PostgreSQL (purpose
 * `library-profile`, bound to the profile and version): not stored as plain bytes, opened by
 * another pool with the key, bound to their row, and sealed bytes written by the SQLite adapter
 * open here when copied as they are (what `orchard db copy` does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createSecretsKeyring, type SecretsKeyring } from '../../src/index.js';
import { openPostgresDatabase, type PostgresDatabase } from '../../src/storage/postgres/index.js';
import type { LibraryProfileRecord, ProfileVersionRecord } from '../../src/storage/ports.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const KEY: SecretsKeyring = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(7) }]);
const now = new Date('2026-06-01T12:00:00Z');
const clock = (): Date => now;
const PLIST = Buffer.from(
  '<plist><dict><key>Password</key><string>hunter2</string></dict></plist>',
);

const profile = (id: string): LibraryProfileRecord => ({
  ...{ id, groupId: 'global', identifier: `com.example.${id}`, name: id, assignmentType: 'auto' },
  ...{ latestVersion: 1, createdAt: now, updatedAt: now },
});

const version = (profileId: string, n: number): ProfileVersionRecord => ({
  ...{ profileId, version: n, payloadUuid: `uuid-${String(n)}`, sha256: 'x', content: PLIST },
  ...{ createdBy: 'owner', createdAt: now },
});

let db: TestDatabase;
let opened: PostgresDatabase[] = [];
const dir = mkdtempSync(join(tmpdir(), 'orchard-pg-sealed-'));

async function open(): Promise<PostgresDatabase> {
  const database = await openPostgresDatabase({
    url: db.url,
    clock,
    secrets: KEY,
    pool: { max: 2 },
  });
  opened.push(database);
  return database;
}

/** The stored bytes of one version's content. */
async function stored(profileId: string, n: number): Promise<Buffer | undefined> {
  const rows = await db.query<{ content: Buffer }>(
    'SELECT content FROM orchard_library_profile_versions WHERE profile_id = $1 AND version = $2',
    [profileId, n],
  );
  return rows[0]?.content;
}

beforeAll(async () => {
  db = await createTestDatabase('management_sealed');
});

afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await db.reset();
});

afterEach(async () => {
  for (const database of opened.splice(0)) await database.close();
  opened = [];
});

describe('sealed library profiles on PostgreSQL', () => {
  test('ok/contents are sealed at rest and open in another pool with the key', async () => {
    const a = await open();
    expect(await a.admin.createLibraryProfile(profile('prf_1'), version('prf_1', 1))).toBe(true);
    expect(await a.admin.addProfileVersion(version('prf_1', 2))).toMatchObject({
      latestVersion: 2,
    });
    const raw = await stored('prf_1', 2);
    expect(raw).toBeDefined();
    expect(raw?.includes(Buffer.from('hunter2'))).toBe(false);
    const b = await open();
    expect((await b.admin.findProfileVersion('prf_1', 2))?.content).toEqual(PLIST);
    const listed = await b.admin.listProfileVersions('prf_1');
    expect(listed.map((v) => [v.version, v.content.length])).toEqual([
      [2, 0],
      [1, 0],
    ]);
  });

  test('fail/sealed bytes moved to another version do not open', async () => {
    const a = await open();
    await a.admin.createLibraryProfile(profile('prf_1'), version('prf_1', 1));
    await a.admin.addProfileVersion(version('prf_1', 2));
    await db.query(
      `UPDATE orchard_library_profile_versions SET content =
         (SELECT content FROM orchard_library_profile_versions WHERE version = 1)
       WHERE version = 2`,
    );
    await expect(a.admin.findProfileVersion('prf_1', 2)).rejects.toMatchObject({
      name: 'SecretsError',
    });
  });

  test('ok/contents SQLite sealed open here when copied byte for byte', async () => {
    const path = join(dir, 'copy.db');
    const sqlite = openSqliteDatabase({ path, clock, secrets: KEY });
    try {
      await sqlite.admin.createLibraryProfile(profile('prf_s'), version('prf_s', 1));
    } finally {
      await sqlite.close();
    }
    const file = new Database(path, { readonly: true });
    const row = file
      .prepare('SELECT content FROM orchard_library_profile_versions WHERE profile_id = ?')
      .get('prf_s') as { content: Buffer };
    file.close();
    const target = await open();
    await db.query(
      `INSERT INTO orchard_library_profiles (id, group_id, identifier, name, assignment_type,
         latest_version, created_at, updated_at)
       VALUES ('prf_s', 'global', 'com.example.prf_s', 'prf_s', 'auto', 1, $1, $1)`,
      [now],
    );
    await db.query(
      `INSERT INTO orchard_library_profile_versions (profile_id, version, payload_uuid, sha256,
         content, created_by, created_at) VALUES ('prf_s', 1, 'u', 'x', $1, 'owner', $2)`,
      [row.content, now],
    );
    expect((await target.admin.findProfileVersion('prf_s', 1))?.content).toEqual(PLIST);
  });
});

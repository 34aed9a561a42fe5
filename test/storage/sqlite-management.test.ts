/**
 * The SQLite management tables beyond the conformance suite: migration 7 on a version 6 database
 * (existing API keys belong to the owner; the root and the owner are stamped by the migrating
 * store's clock), and optimistic writes from two connections on one file, as two daemons do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import type { AdminStorage } from '../../src/storage/ports.js';
import { MIGRATIONS, openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { migrate } from '../../src/storage/sqlite/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-management-'));
const T0 = Date.UTC(2026, 0, 1);
const clock = () => new Date(T0 + 60_000);
let n = 0;
const opened: AdminStorage[] = [];

function freshPath(): string {
  n += 1;
  return join(dir, `m-${String(n)}.db`);
}

function open(path: string): AdminStorage {
  const store = openSqliteAdminStore({ path, clock });
  opened.push(store);
  return store;
}

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 7', () => {
  test('ok/a version 6 database keeps its API keys, owned by the owner, and gains the root', async () => {
    const path = freshPath();
    const db = new Database(path);
    expect(migrate(db, T0, MIGRATIONS.slice(0, 6))).toBe(6);
    db.prepare(
      `INSERT INTO orchard_admin_api_keys (id, name, scope, hash, created_at)
       VALUES ('ak_old', 'old', 'write', 'h-old', ?)`,
    ).run(T0);
    db.close();
    const store = open(path);
    expect(await store.findApiKeyByHash('h-old')).toEqual({
      id: 'ak_old',
      name: 'old',
      scope: 'write',
      principalId: 'owner',
      createdAt: new Date(T0),
    });
    expect(await store.loadManagement()).toEqual({
      revision: 0,
      groups: [{ id: 'global', name: 'Global', createdAt: clock() }],
      settings: [],
    });
    expect(await store.listPrincipals()).toEqual([
      { id: 'owner', name: 'Owner', role: 'full', groupId: 'global', createdAt: clock() },
    ]);
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(
      MIGRATIONS.at(-1)?.version,
    );
    raw.close();
  });

  test('ok/a second open seeds nothing twice', async () => {
    const path = freshPath();
    open(path).close();
    const store = open(path);
    expect((await store.loadManagement()).groups).toHaveLength(1);
    expect(await store.listPrincipals()).toHaveLength(1);
  });
});

describe('two connections on one file', () => {
  test('ok/of two applies on one revision exactly one wins; the loser sees the new revision', async () => {
    const path = freshPath();
    const [a, b] = [open(path), open(path)];
    const group = (id: string) => ({ id, name: id, parentId: 'global', createdAt: clock() });
    const results = await Promise.all([
      a.applyManagement({ putGroups: [group('a')] }, 0),
      b.applyManagement({ putGroups: [group('b')] }, 0),
    ]);
    expect(results.sort()).toEqual([1, undefined]);
    const seen = await b.loadManagement();
    expect(seen.revision).toBe(1);
    expect(seen.groups).toHaveLength(2);
    expect(await b.applyManagement({ putGroups: [group('c')] }, seen.revision)).toBe(2);
  });

  test('ok/a taken identifier is refused across connections', async () => {
    const path = freshPath();
    const [a, b] = [open(path), open(path)];
    const record = (id: string) => ({
      id,
      groupId: 'global',
      identifier: 'com.example.same',
      name: 'same',
      assignmentType: 'auto' as const,
      latestVersion: 1,
      createdAt: clock(),
      updatedAt: clock(),
    });
    const first = (profileId: string) => ({
      profileId,
      version: 1,
      payloadUuid: 'u',
      sha256: 'x',
      content: Buffer.from('<plist/>'),
      createdBy: 'owner',
      createdAt: clock(),
    });
    expect(await a.createLibraryProfile(record('prf_a'), first('prf_a'))).toBe(true);
    expect(await b.createLibraryProfile(record('prf_b'), first('prf_b'))).toBe(false);
    expect(await b.findLibraryProfileByIdentifier('com.example.same')).toMatchObject({
      id: 'prf_a',
    });
  });
});

/**
 * Area D across pools: two admin stores on one PostgreSQL database (as two daemons hold) apply
 * management changes on one revision (exactly one applies, the other sees the conflict and
 * succeeds on the new revision), import the same usernames at once (no duplicates), and race for
 * generic names, a library identifier and a profile's next version (one winner each).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { openPostgresAdminStore } from '../../src/storage/postgres/index.js';
import type {
  AdminStorage,
  LibraryProfileRecord,
  OrgGroupRecord,
  ProfileVersionRecord,
  UserUpsert,
} from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let a: AdminStorage;
let b: AdminStorage;

const now = new Date('2026-06-01T12:00:00Z');
const ROUNDS = 10;

const group = (id: string, parentId = 'global'): OrgGroupRecord => ({
  id,
  name: id,
  parentId,
  createdAt: now,
});

const profile = (id: string, identifier: string): LibraryProfileRecord => ({
  ...{ id, groupId: 'global', identifier, name: identifier, assignmentType: 'auto' },
  ...{ latestVersion: 1, createdAt: now, updatedAt: now },
});

const version = (profileId: string, n: number, by: string): ProfileVersionRecord => ({
  ...{ profileId, version: n, payloadUuid: `uuid-${by}`, sha256: 'x' },
  ...{ content: Buffer.from(`<plist>${by}</plist>`), createdBy: by, createdAt: now },
});

/** `count` import rows `user-<i>` (names spelled with `spell`), emails tagged with `tag`. */
function csv(count: number, tag: string, spell = (s: string) => s): UserUpsert[] {
  return Array.from({ length: count }, (_, i) => ({
    fields: {
      username: spell(`user-${String(i)}`),
      email: `${tag}@example.com`,
      groupId: 'global',
    },
  }));
}

beforeAll(async () => {
  db = await createTestDatabase('management_race');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
  const clock = (): Date => now;
  a = await openPostgresAdminStore({ url: db.url, clock, pool: { max: 4 } });
  b = await openPostgresAdminStore({ url: db.url, clock, pool: { max: 4 } });
});

afterEach(() => {
  a.close();
  b.close();
});

describe('two admin stores on one database', () => {
  test('ok/of two applies on one revision exactly one wins; the loser sees the new revision', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const at = await a.findManagementRevision();
      const [x, y] = await Promise.all([
        a.applyManagement({ putGroups: [group(`a${String(round)}`)] }, at),
        b.applyManagement({ putGroups: [group(`b${String(round)}`)] }, at),
      ]);
      expect([x, y].filter((r) => r === at + 1)).toHaveLength(1);
      expect([x, y].filter((r) => r === undefined)).toHaveLength(1);
      const seen = await b.loadManagement();
      expect(seen.revision).toBe(at + 1);
      expect(seen.groups).toHaveLength(2 + round);
    }
    const last = await b.findManagementRevision();
    expect(await b.applyManagement({ putGroups: [group('late')] }, last)).toBe(last + 1);
    const rows = await db.query<{ revision: number }>(
      'SELECT revision::int AS revision FROM orchard_management_revision',
    );
    expect(rows).toEqual([{ revision: ROUNDS + 1 }]);
  });

  test('ok/settings written on one revision by both: one record set survives whole', async () => {
    await a.applyManagement({ putGroups: [group('g')] }, 0);
    const settings = (tag: string) => ({
      putSettings: ['p1', 'p2', 'p3'].map((page) => ({
        ...{ groupId: 'g', page, values: { tag }, childPermission: 'inherit-only' as const },
        updatedAt: now,
      })),
    });
    const [x, y] = await Promise.all([
      a.applyManagement(settings('a'), 1),
      b.applyManagement(settings('b'), 1),
    ]);
    expect([x, y].sort()).toEqual([2, undefined]);
    const winner = x === 2 ? 'a' : 'b';
    const stored = (await b.loadManagement()).settings.map((s) => s.values.tag);
    expect(stored).toEqual([winner, winner, winner]);
  });

  test('fail/a stale revision applies nothing', async () => {
    expect(await a.applyManagement({ putGroups: [group('g')] }, 0)).toBe(1);
    expect(await b.applyManagement({ deleteGroups: ['g'] }, 0)).toBeUndefined();
    expect(await b.findGroup('g')).toMatchObject({ id: 'g' });
  });

  test('ok/two imports of the same usernames at once make each user once', async () => {
    const [x, y] = await Promise.all([
      a.upsertUsers(csv(200, 'same'), { atomic: true }),
      b.upsertUsers(
        csv(200, 'same', (s) => s.toUpperCase()),
        { atomic: true },
      ),
    ]);
    const created = [...x, ...y].filter((o) => o.outcome === 'created');
    expect(created).toHaveLength(200);
    const rows = await db.query<{ n: number; names: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT lower(username))::int AS names FROM orchard_users`,
    );
    expect(rows).toEqual([{ n: 200, names: 200 }]);
    // Each row's user is the one stored: the same ids whichever import created it.
    const ids = new Set((await a.listUsers({ limit: 500 })).items.map((u) => u.id));
    for (const o of [...x, ...y]) expect(ids.has(o.user.id)).toBe(true);
  });

  test('ok/two non-atomic imports of different fields: no duplicates, one version per user', async () => {
    const [x, y] = await Promise.all([
      a.upsertUsers(csv(100, 'a'), { atomic: false }),
      b.upsertUsers(csv(100, 'b'), { atomic: false }),
    ]);
    const outcomes = [...x, ...y].map((o) => o.outcome);
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(100);
    expect(outcomes.filter((o) => o === 'updated')).toHaveLength(100);
    const rows = await db.query<{ n: number; emails: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT email)::int AS emails FROM orchard_users',
    );
    expect(rows[0]?.n).toBe(100);
    expect([1, 2]).toContain(rows[0]?.emails);
  });

  test('ok/generic users made at once by both get distinct numbers', async () => {
    const made = await Promise.all(
      Array.from({ length: ROUNDS }, (_, i) =>
        (i % 2 === 0 ? a : b).createGenericUser({ prefix: 'Kiosk', groupId: 'global' }),
      ),
    );
    const names = made.map((u) => u.username).sort((p, q) => p.localeCompare(q, 'en'));
    const wanted = Array.from({ length: ROUNDS }, (_, i) => `Kiosk-${String(i + 1)}`);
    expect(names).toEqual(wanted.sort((p, q) => p.localeCompare(q, 'en')));
  });

  test('ok/one library identifier, one profile; one next version, one writer', async () => {
    const results = await Promise.all([
      a.createLibraryProfile(profile('prf_a', 'com.example.x'), version('prf_a', 1, 'a')),
      b.createLibraryProfile(profile('prf_b', 'com.example.x'), version('prf_b', 1, 'b')),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const id = results[0] ? 'prf_a' : 'prf_b';
    for (let n = 2; n < 2 + ROUNDS; n++) {
      const [x, y] = await Promise.all([
        a.addProfileVersion(version(id, n, 'a')),
        b.addProfileVersion(version(id, n, 'b')),
      ]);
      expect([x, y].filter((r) => r?.latestVersion === n)).toHaveLength(1);
      expect([x, y].filter((r) => r === undefined)).toHaveLength(1);
    }
    expect(await a.listProfileVersions(id)).toHaveLength(1 + ROUNDS);
  });

  test('ok/a group deleted while another store puts an administrator or a user in it: never an orphan', async () => {
    const settle = <T>(p: Promise<T>) =>
      p.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    for (let round = 0; round < ROUNDS; round++) {
      const id = `g${String(round)}`;
      const at = await a.findManagementRevision();
      expect(await a.applyManagement({ putGroups: [group(id)] }, at)).toBe(at + 1);
      const [deleted, admin, user] = await Promise.all([
        settle(a.applyManagement({ deleteGroups: [id] }, at + 1)),
        settle(b.createPrincipal({ name: id, role: 'full', groupId: id })),
        settle(b.createUser({ username: id, email: '', groupId: id })),
      ]);
      for (const r of [deleted, admin, user]) if (!r.ok) expect(r.error).toBeInstanceOf(TypeError);
      const exists = (await a.findGroup(id)) !== undefined;
      expect(deleted.ok).toBe(!exists);
      expect(exists).toBe(admin.ok || user.ok);
    }
    const orphans = await db.query(
      `SELECT p.id FROM orchard_principals p
        WHERE p.disabled_at IS NULL AND NOT EXISTS (SELECT 1 FROM orchard_groups g WHERE g.id = p.group_id)`,
    );
    expect(orphans).toEqual([]);
  });
});

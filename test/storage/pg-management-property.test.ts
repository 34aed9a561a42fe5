/**
 * Properties of the PostgreSQL management and user stores against the memory store (the
 * reference), as management-property and users-property test SQLite: random sequences of
 * management changes (group ids from across Unicode, where UTF-16 and byte order disagree) apply
 * or refuse alike and leave equal snapshots; random user operations (names differing only in
 * case, generic users, imports with a bad group, deletions, renames) resolve alike and keep the
 * same usernames. Runs: `ORCHARD_PROPERTY_RUNS` / 4 (default 50) each.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { openPostgresAdminStore } from '../../src/storage/postgres/index.js';
import type {
  AdminStorage,
  ChildPermission,
  ManagementChange,
  UserFields,
} from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const RUNS = Math.max(1, Math.ceil(Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200) / 4));
const AT = new Date(Date.UTC(2026, 0, 1));
const clock = () => AT;

let db: TestDatabase;
let pg: AdminStorage;

beforeAll(async () => {
  db = await createTestDatabase('management_property');
  pg = await openPostgresAdminStore({ url: db.url, clock, pool: { max: 2 } });
});

afterAll(async () => {
  pg.close();
  await db.drop();
});

/** A fresh memory store and the PostgreSQL one, emptied of what an earlier run wrote. */
async function stores(): Promise<{ memory: AdminStorage; postgres: AdminStorage }> {
  await db.query('DELETE FROM orchard_users');
  await db.query('DELETE FROM orchard_group_settings');
  await db.query(`DELETE FROM orchard_groups WHERE id <> 'global'`);
  await db.query(`UPDATE orchard_groups SET name = 'Global', parent_id = NULL, created_at = $1`, [
    AT,
  ]);
  await db.query('UPDATE orchard_management_revision SET revision = 0');
  return { memory: createMemoryAdminStorage({ clock }), postgres: pg };
}

// Group ids from across Unicode: UTF-16 and UTF-8 order disagree between a surrogate pair and U+E000.
const ids = fc.constantFrom('global', 'a', 'B', 'é', '😀', '\uE000');
const permission = fc.constantFrom<ChildPermission>(
  'inherit-only',
  'override-only',
  'inherit-or-override',
);

const change: fc.Arbitrary<ManagementChange> = fc.record(
  {
    putGroups: fc.array(
      fc.record({ id: ids, parentId: fc.option(ids, { nil: undefined }) }).map((g) => ({
        id: g.id,
        name: g.id.toUpperCase(),
        createdAt: AT,
        ...(g.parentId === undefined ? {} : { parentId: g.parentId }),
      })),
      { maxLength: 3 },
    ),
    deleteGroups: fc.array(ids, { maxLength: 2 }),
    putSettings: fc.array(
      fc.record({
        groupId: ids,
        page: fc.constantFrom('p', 'Q', 'ä'),
        values: fc.record({ n: fc.integer(), s: fc.string({ maxLength: 3 }) }),
        childPermission: permission,
        updatedAt: fc.constant(AT),
      }),
      { maxLength: 2 },
    ),
    deleteSettings: fc.array(fc.record({ groupId: ids, page: fc.constantFrom('p', 'Q', 'ä') }), {
      maxLength: 2,
    }),
  },
  { requiredKeys: [] },
);

async function step(store: AdminStorage, c: ManagementChange): Promise<string> {
  const { revision } = await store.loadManagement();
  try {
    return String(await store.applyManagement(c, revision));
  } catch (error) {
    if (error instanceof TypeError) return 'TypeError';
    throw error;
  }
}

test('ok/memory and PostgreSQL agree on every management change', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
      const { memory, postgres } = await stores();
      try {
        for (const c of changes) {
          expect(await step(postgres, c)).toBe(await step(memory, c));
          expect(await postgres.loadManagement()).toEqual(await memory.loadManagement());
        }
      } finally {
        memory.close();
      }
    }),
    { numRuns: RUNS },
  );
});

type Op =
  | { op: 'create'; username: string; groupId: string }
  | { op: 'generic'; prefix: string }
  | { op: 'import'; usernames: string[]; atomic: boolean; badGroup: boolean }
  | { op: 'delete'; username: string }
  | { op: 'rename'; from: string; to: string };

// 'Ä' and 'ä' are distinct names: usernames fold ASCII letters only.
const name = fc.constantFrom('ann', 'ANN', 'Bob', 'bob', 'k-1', 'K-2', 'k-3', 'Ä', 'ä');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('create' as const),
    username: name,
    groupId: fc.constantFrom('global', 'nope'),
  }),
  fc.record({ op: fc.constant('generic' as const), prefix: fc.constantFrom('k', 'K') }),
  fc.record({
    op: fc.constant('import' as const),
    usernames: fc.array(name, { maxLength: 4 }),
    atomic: fc.boolean(),
    badGroup: fc.boolean(),
  }),
  fc.record({ op: fc.constant('delete' as const), username: name }),
  fc.record({ op: fc.constant('rename' as const), from: name, to: name }),
);

const fields = (username: string, groupId = 'global'): UserFields => ({
  ...{ username, email: `${username}@example.com`, groupId },
});

/** What `o` did, as comparable text: outcomes and names, never ids or times. */
async function run(store: AdminStorage, o: Op): Promise<string> {
  try {
    switch (o.op) {
      case 'create':
        return (await store.createUser(fields(o.username, o.groupId)))?.username ?? 'taken';
      case 'generic':
        return (await store.createGenericUser({ prefix: o.prefix, groupId: 'global' })).username;
      case 'import': {
        const rows = o.usernames.map((u) => ({ fields: fields(u) }));
        if (o.badGroup) rows.splice(rows.length >> 1, 0, { fields: fields('zed', 'nope') });
        const done = await store.upsertUsers(rows, { atomic: o.atomic });
        return done.map((d) => `${d.outcome}:${d.user.username}`).join(',');
      }
      case 'delete': {
        const user = await store.findUserByUsername(o.username);
        return String(user !== undefined && (await store.deleteUser(user.id)));
      }
      case 'rename': {
        const user = await store.findUserByUsername(o.from);
        return (user && (await store.updateUser(user.id, { username: o.to }))?.username) ?? 'none';
      }
    }
  } catch (error) {
    if (error instanceof TypeError) return 'TypeError';
    throw error;
  }
}

const usernames = async (store: AdminStorage): Promise<string[]> =>
  (await store.listUsers({ limit: 100 })).items.map((u) => u.username).sort();

test('ok/memory and PostgreSQL agree on every user operation', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
      const { memory, postgres } = await stores();
      try {
        for (const o of ops) {
          expect(await run(postgres, o)).toBe(await run(memory, o));
          expect(await usernames(postgres)).toEqual(await usernames(memory));
        }
      } finally {
        memory.close();
      }
    }),
    { numRuns: RUNS },
  );
});

/**
 * Properties of users: the generic number is the lowest one not taken, and random sequences of
 * user operations (names differing only in case, generic users, imports, deletions) do the same
 * to the memory and the SQLite store: both resolve alike, or both refuse with TypeError, and they
 * keep the same usernames.
 */
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { AdminStorage, UserFields } from '../../src/storage/ports.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { foldUsername, lowestFreeGeneric } from '../../src/storage/users-check.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200);
const AT = new Date(Date.UTC(2026, 0, 1));
const clock = () => AT;

test('ok/the generic number is the lowest positive integer not taken', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('kiosk', 'Kiosk', 'a_b'),
      fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 10 }),
      fc.array(fc.constantFrom('kiosk-0', 'kiosk-x', 'kiosk-01', 'other-1', 'kiosk'), {
        maxLength: 3,
      }),
      (prefix, numbers, noise) => {
        const taken = [...numbers.map((n) => foldUsername(`${prefix}-${String(n)}`)), ...noise];
        let expected = 1;
        while (numbers.includes(expected)) expected += 1;
        expect(lowestFreeGeneric(prefix, taken)).toBe(expected);
      },
    ),
    { numRuns: RUNS },
  );
});

type Op =
  | { op: 'create'; username: string; groupId: string }
  | { op: 'generic'; prefix: string }
  | { op: 'import'; usernames: string[]; atomic: boolean; badGroup: boolean }
  | { op: 'delete'; username: string }
  | { op: 'rename'; from: string; to: string };

const name = fc.constantFrom('ann', 'ANN', 'Bob', 'bob', 'k-1', 'K-2', 'k-3');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('create' as const),
    username: name,
    groupId: fc.constantFrom('global', 'nope'),
  }),
  fc.record({ op: fc.constant('generic' as const), prefix: fc.constantFrom('k', 'K') }),
  fc.record({
    op: fc.constant('import' as const),
    usernames: fc.array(name, { maxLength: 3 }),
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
        if (o.badGroup) rows.push({ fields: fields('zed', 'nope') });
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

test('ok/memory and SQLite agree on every user operation', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
      const memory = createMemoryAdminStorage({ clock });
      const sqlite = openSqliteAdminStore({ path: ':memory:', clock });
      try {
        for (const o of ops) {
          expect(await run(sqlite, o)).toBe(await run(memory, o));
          expect(await usernames(sqlite)).toEqual(await usernames(memory));
        }
      } finally {
        memory.close();
        sqlite.close();
      }
    }),
    { numRuns: RUNS },
  );
});

/**
 * Properties of the new stores: for random fleets (users in random groups with or without a
 * policy, enrollment ids from across Unicode) and random filters and page sizes, the memory and
 * the SQLite store page through the same owned enrollments in the same order; and random policy
 * names (case and accents) clash in both stores alike.
 */
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { AdminStorage, OwnedEnrollmentFilter } from '../../src/storage/ports.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';

const RUNS = Math.max(1, Math.ceil(Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200) / 4));
const AT = new Date(Date.UTC(2026, 0, 1));
const clock = () => AT;

/** Both stores, each with groups a and b under the root. */
async function pair(): Promise<AdminStorage[]> {
  const stores = [
    createMemoryAdminStorage({ clock }),
    openSqliteAdminStore({ path: ':memory:', clock }),
  ];
  for (const store of stores) {
    const { revision } = await store.loadManagement();
    const groups = ['a', 'b'].map((id) => ({ id, name: id, parentId: 'global', createdAt: AT }));
    await store.applyManagement({ putGroups: groups }, revision);
  }
  return stores;
}

const groupId = fc.constantFrom('global', 'a', 'b');
const policy = fc.constantFrom(undefined, 'pol_1', 'pol_2');
// Pieces from across Unicode: UTF-16 and UTF-8 order disagree between a surrogate pair and U+E000.
const enrollmentId = fc
  .array(fc.constantFrom('A', 'b', '0', ':', '-', 'é', '😀', '\uE000', '\uFFFD'), {
    minLength: 1,
    maxLength: 5,
  })
  .map((pieces) => pieces.join(''));
const user = fc.record({
  groupId,
  policy,
  enrollments: fc.uniqueArray(enrollmentId, { maxLength: 4 }),
});
const list = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 3 });
const filter = fc.record(
  {
    userPolicyIds: list(fc.constantFrom('pol_1', 'pol_2', 'pol_9')),
    groupsWithoutUserPolicy: list(groupId),
    groupIds: list(groupId),
    userIds: list(fc.nat({ max: 7 })),
    enrollmentIds: list(enrollmentId),
  },
  { requiredKeys: [] },
);

/** Every page of `f` as [enrollment id, username] pairs. */
async function pages(store: AdminStorage, f: OwnedEnrollmentFilter, limit: number) {
  const out: [string, string][][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listOwnedEnrollments(
      f,
      cursor === undefined ? { limit } : { limit, cursor },
    );
    out.push(page.items.map((i) => [i.enrollmentId, i.user.username]));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

test('ok/memory and SQLite page through the same owned enrollments in the same order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(user, { maxLength: 8 }),
      filter,
      fc.integer({ min: 1, max: 4 }),
      async (users, f, limit) => {
        const stores = await pair();
        const results: unknown[] = [];
        for (const store of stores) {
          const ids: string[] = [];
          for (const [i, u] of users.entries()) {
            const fields = { username: `u${String(i)}`, email: '', groupId: u.groupId };
            const made = await store.createUser(
              u.policy === undefined ? fields : { ...fields, policy: u.policy },
            );
            ids.push(made?.id ?? '');
            for (const e of u.enrollments)
              await store.assignEnrollmentOwner({
                enrollmentId: e,
                userId: made?.id ?? '',
                groupId: u.groupId,
                assignedAt: AT,
              });
          }
          const { userIds, ...rest } = f;
          const withIds: OwnedEnrollmentFilter =
            userIds === undefined
              ? rest
              : { ...rest, userIds: userIds.map((n) => ids[n] ?? 'usr_none') };
          results.push(await pages(store, withIds, limit));
          store.close();
        }
        expect(results[1]).toEqual(results[0]);
      },
    ),
    { numRuns: RUNS },
  );
});

test('ok/policy names clash alike in memory and SQLite (case and accents)', async () => {
  const name = fc.constantFrom(
    'Staff',
    'STAFF',
    'staff',
    'Ärzte',
    'ärzte',
    'ÄRZTE',
    'Straße',
    'STRASSE',
    'Kiosk',
  );
  await fc.assert(
    fc.asyncProperty(fc.array(name, { maxLength: 6 }), async (names) => {
      const stores = await pair();
      const results: unknown[] = [];
      for (const store of stores) {
        const outcomes: boolean[] = [];
        for (const [i, n] of names.entries())
          outcomes.push(
            await store.createPolicy({
              id: `pol_${String(i)}`,
              name: n,
              groupId: 'global',
              createdAt: AT,
              updatedAt: AT,
            }),
          );
        const found = await Promise.all(
          names.map(async (n) => (await store.findPolicyByName(n.toUpperCase()))?.id),
        );
        results.push([outcomes, found]);
        store.close();
      }
      expect(results[1]).toEqual(results[0]);
    }),
    { numRuns: RUNS },
  );
});

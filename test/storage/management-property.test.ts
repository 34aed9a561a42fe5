/**
 * Property: random sequences of management changes do the same to the memory and the SQLite
 * store (both apply, or both refuse with TypeError and apply nothing), and the tree they keep is
 * always whole: the root exists, every other group reaches it, every settings record has its group.
 */
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type {
  AdminStorage,
  ChildPermission,
  ManagementChange,
  ManagementSnapshot,
} from '../../src/storage/ports.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200);
const AT = new Date(Date.UTC(2026, 0, 1));
const clock = () => AT;
const ids = fc.constantFrom('global', 'a', 'b', 'c', 'd');
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
        page: fc.constantFrom('p', 'q'),
        values: fc.record({ n: fc.integer() }),
        childPermission: permission,
        updatedAt: fc.constant(AT),
      }),
      { maxLength: 2 },
    ),
    deleteSettings: fc.array(fc.record({ groupId: ids, page: fc.constantFrom('p', 'q') }), {
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

function expectWhole(snapshot: ManagementSnapshot): void {
  const parents = new Map(snapshot.groups.map((g) => [g.id, g.parentId]));
  expect(parents.has('global')).toBe(true);
  for (const id of parents.keys()) {
    let at: string | undefined = id;
    for (let hops = 0; at !== 'global'; hops += 1) {
      expect(hops).toBeLessThan(parents.size);
      at = parents.get(at ?? '');
    }
  }
  for (const s of snapshot.settings) expect(parents.has(s.groupId)).toBe(true);
}

test('ok/memory and SQLite agree on every change, and the tree stays whole', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
      const memory = createMemoryAdminStorage({ clock });
      const sqlite = openSqliteAdminStore({ path: ':memory:', clock });
      try {
        for (const c of changes) {
          expect(await step(sqlite, c)).toBe(await step(memory, c));
          const snapshot = await memory.loadManagement();
          expect(await sqlite.loadManagement()).toEqual(snapshot);
          expectWhole(snapshot);
        }
      } finally {
        memory.close();
        sqlite.close();
      }
    }),
    { numRuns: RUNS },
  );
});

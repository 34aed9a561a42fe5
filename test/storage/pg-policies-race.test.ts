/**
 * Policy names with two daemons on one PostgreSQL database: of concurrent creations of one name
 * (in any case) through two pools exactly one succeeds, and of concurrent renames to one free
 * name exactly one succeeds and the other is told `name-taken`; the table keeps one holder.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { openPostgresAdminStore } from '../../src/storage/postgres/index.js';
import type { AdminStorage, PolicyRecord } from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const AT = new Date(Date.UTC(2026, 11, 7));
const clock = () => AT;
const ROUNDS = 10;

let db: TestDatabase;
let stores: AdminStorage[];

beforeAll(async () => {
  db = await createTestDatabase('policies_race');
  stores = [
    await openPostgresAdminStore({ url: db.url, clock, pool: { max: 2 } }),
    await openPostgresAdminStore({ url: db.url, clock, pool: { max: 2 } }),
  ];
});

beforeEach(async () => {
  await db.query('DELETE FROM orchard_policies');
});

afterAll(async () => {
  for (const store of stores) store.close();
  await db.drop();
});

const policy = (id: string, name: string): PolicyRecord => ({
  ...{ id: `pol_${id}`, name, groupId: 'global' },
  ...{ createdAt: AT, updatedAt: AT },
});

async function holders(name: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM orchard_policies WHERE name_key = $1',
    [name.toLowerCase()],
  );
  return rows.map((r) => r.id);
}

test('ok/of two pools creating one name at once exactly one succeeds', async () => {
  for (let round = 0; round < ROUNDS; round += 1) {
    const name = `Staff ${String(round)}`;
    const outcomes = await Promise.all(
      stores.map((store, w) =>
        store.createPolicy(
          policy(`${String(round)}_${String(w)}`, w === 0 ? name : name.toUpperCase()),
        ),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = `pol_${String(round)}_${String(outcomes.indexOf(true))}`;
    expect(await holders(name)).toEqual([winner]);
  }
});

test('ok/of two pools renaming to one free name at once exactly one succeeds', async () => {
  for (let round = 0; round < ROUNDS; round += 1) {
    const ids = [0, 1].map((w) => `pol_r${String(round)}_${String(w)}`);
    for (const id of ids)
      expect(await stores[0]?.createPolicy({ ...policy('x', `old ${id}`), id })).toBe(true);
    const name = `New ${String(round)}`;
    const outcomes = await Promise.all(
      stores.map((store, w) => store.updatePolicy(ids[w] ?? '', { name }, AT)),
    );
    const renamed = outcomes.filter((o) => typeof o === 'object');
    expect(renamed).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'name-taken')).toHaveLength(1);
    const winner = ids[outcomes.findIndex((o) => typeof o === 'object')] ?? '';
    expect(await holders(name)).toEqual([winner]);
    expect(await stores[1]?.findPolicyByName(name)).toEqual(renamed[0]);
  }
});

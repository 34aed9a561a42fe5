/**
 * Properties of the PostgreSQL policies and device-profile stores against the memory store (the
 * reference): for random batches of device-profile records (enrollment ids from across Unicode,
 * where UTF-16 and byte order disagree), random deletions, page sizes and state filters, both
 * stores list the same records in the same order; reconciliation due lists agree; random policy
 * names (case and accents) clash alike. Runs: `ORCHARD_PROPERTY_RUNS` / 4 (default 50) each.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { openPostgresAdminStore } from '../../src/storage/postgres/index.js';
import type {
  AdminStorage,
  DeviceProfileRecord,
  DeviceProfileState,
  ReconcileRecord,
} from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const RUNS = Math.max(1, Math.ceil(Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200) / 4));
const AT = new Date(Date.UTC(2026, 0, 1));
const clock = () => AT;
const STATES: DeviceProfileState[] = ['pending', 'installed', 'failed', 'removed'];

let db: TestDatabase;
let pg: AdminStorage;

beforeAll(async () => {
  db = await createTestDatabase('policies_property');
  pg = await openPostgresAdminStore({ url: db.url, clock, pool: { max: 2 } });
});

afterAll(async () => {
  pg.close();
  await db.drop();
});

/** The memory store and the PostgreSQL one, emptied of what an earlier run wrote. */
async function stores(): Promise<AdminStorage[]> {
  for (const table of ['orchard_device_profiles', 'orchard_profile_reconcile', 'orchard_policies'])
    await db.query(`DELETE FROM ${table}`);
  return [createMemoryAdminStorage({ clock }), pg];
}

// Pieces from across Unicode: UTF-16 and UTF-8 order disagree between a surrogate pair and U+E000.
const enrollmentId = fc
  .array(fc.constantFrom('A', 'b', '0', '-', 'é', '😀', '\uE000', '\uFFFD'), {
    minLength: 1,
    maxLength: 4,
  })
  .map((pieces) => pieces.join(''));
const identifier = fc.constantFrom('a', 'b', 'B', 'ä');
const seconds = fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined });
const at = (s: number): Date => new Date(AT.getTime() + s * 1000);

const record: fc.Arbitrary<DeviceProfileRecord> = fc
  .record({
    enrollmentId,
    identifier,
    profile: fc.constantFrom('prf_1', 'prf_2'),
    version: fc.integer({ min: 1, max: 3 }),
    state: fc.constantFrom(...STATES),
    extra: fc.boolean(),
    installed: seconds,
  })
  .map(({ profile, extra, installed, ...r }) => {
    const out: DeviceProfileRecord = { ...r, profileId: profile, channel: 'policy', updatedAt: AT };
    if (extra) Object.assign(out, { payloadUuid: 'U', reason: 'why', commandUuid: 'c-1' });
    if (installed !== undefined) out.installedAt = at(installed);
    return out;
  });
const batch = fc.uniqueArray(record, {
  maxLength: 8,
  selector: (r) => `${r.enrollmentId}\u0000${r.identifier}`,
});
const deletion = fc.record({
  enrollmentId,
  identifiers: fc.option(fc.array(identifier, { maxLength: 3 }), { nil: undefined }),
});
const states = fc.option(fc.subarray(STATES, { minLength: 1 }), { nil: undefined });

/** Every page of `profileId` as [enrollment, identifier, state] triples, page by page. */
async function profilePages(
  store: AdminStorage,
  profileId: string,
  limit: number,
  only?: DeviceProfileState[],
): Promise<string[][][]> {
  const out: string[][][] = [];
  let cursor: string | undefined;
  do {
    const options = {
      limit,
      ...(only && { states: only }),
      ...(cursor !== undefined && { cursor }),
    };
    const page = await store.listProfileDevices(profileId, options);
    out.push(page.items.map((r) => [r.enrollmentId, r.identifier, r.state]));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

test('ok/memory and PostgreSQL keep and list the same device-profile records in the same order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(batch, { minLength: 1, maxLength: 3 }),
      fc.array(deletion, { maxLength: 2 }),
      fc.integer({ min: 1, max: 4 }),
      states,
      fc.array(enrollmentId, { maxLength: 6 }),
      async (batches, deletions, limit, only, ids) => {
        const results: unknown[] = [];
        for (const store of await stores()) {
          for (const b of batches) await store.putDeviceProfiles(b);
          const deleted: number[] = [];
          for (const d of deletions)
            deleted.push(await store.deleteDeviceProfiles(d.enrollmentId, d.identifiers));
          const written = batches.flat().map((r) => r.enrollmentId);
          results.push([
            deleted,
            await profilePages(store, 'prf_1', limit, only),
            await profilePages(store, 'prf_2', limit),
            await store.listDeviceProfilesOf([...ids, ...written]),
            await store.listDeviceProfiles(written[0] ?? 'none'),
          ]);
        }
        expect(results[1]).toEqual(results[0]);
      },
    ),
    { numRuns: RUNS },
  );
});

test('ok/memory and PostgreSQL find the same enrollments due for reconciliation', async () => {
  const reconcile: fc.Arbitrary<ReconcileRecord> = fc
    .record({ enrollmentId, queued: seconds, reconciled: seconds })
    .map(({ enrollmentId: id, queued, reconciled }) => {
      const r: ReconcileRecord = { enrollmentId: id };
      if (queued !== undefined) Object.assign(r, { commandUuid: 'pl-1', queuedAt: at(queued) });
      if (reconciled !== undefined) r.reconciledAt = at(reconciled);
      return r;
    });
  await fc.assert(
    fc.asyncProperty(
      fc.array(reconcile, { maxLength: 6 }),
      fc.array(enrollmentId, { maxLength: 8 }),
      fc.integer({ min: -2, max: 2 }),
      fc.integer({ min: 1, max: 5 }),
      async (records, candidates, before, limit) => {
        const results: unknown[] = [];
        for (const store of await stores()) {
          for (const r of records) await store.putReconcile(r);
          const known = records.map((r) => r.enrollmentId);
          results.push([
            await store.listReconcileDue([...candidates, ...known], at(before), limit),
            await Promise.all(known.map((id) => store.findReconcile(id))),
          ]);
        }
        expect(results[1]).toEqual(results[0]);
      },
    ),
    { numRuns: RUNS },
  );
});

test('ok/policy names clash alike in memory and PostgreSQL (case and accents)', async () => {
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
      const results: unknown[] = [];
      for (const store of await stores()) {
        const outcomes: boolean[] = [];
        for (const [i, n] of names.entries())
          outcomes.push(
            await store.createPolicy({
              ...{ id: `pol_${String(i)}`, name: n, groupId: 'global' },
              ...{ createdAt: AT, updatedAt: AT },
            }),
          );
        const found = await Promise.all(
          names.map(async (n) => (await store.findPolicyByName(n.toUpperCase()))?.id),
        );
        const listed = await store.listPolicies({ limit: 10 });
        results.push([outcomes, found, listed]);
      }
      expect(results[1]).toEqual(results[0]);
    }),
    { numRuns: RUNS },
  );
});

/**
 * Device-profile batches on PostgreSQL: 5,000 records (`ORCHARD_SCALE` scales them) written in
 * one `putDeviceProfiles` call take a bounded number of statements (multi-row upserts, not one
 * round trip a record) and read back page by page exactly as written, in byte order of their
 * keys; two pools upserting the same records at once leave one row per key, all from the writer
 * that committed last (batches are atomic and lock rows in one order).
 */
import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals';
import type pg from 'pg';
import { compareBytes } from '../../src/storage/policies-check.js';
import { openPostgresConnection } from '../../src/storage/postgres/connection.js';
import type { PgContext } from '../../src/storage/postgres/db.js';
import { PUT_CHUNK, pgDeviceProfiles } from '../../src/storage/postgres/device-profiles.js';
import { openPostgresAdminStore } from '../../src/storage/postgres/index.js';
import type {
  DeviceProfileRecord,
  DeviceProfileState,
  DeviceProfileStore,
} from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const SCALE = Number(process.env.ORCHARD_SCALE ?? '1') || 1;
const RECORDS = Math.max(100, Math.round(5000 * SCALE));
const AT = new Date(Date.UTC(2026, 11, 7, 6, 0, 0, 123));
const clock = () => AT;
const STATES: DeviceProfileState[] = ['pending', 'installed', 'failed', 'removed'];
// Pieces whose UTF-16 and byte orders disagree (a surrogate pair against U+E000), and accents.
const SUFFIXES = ['', 'é', '😀', '\uE000', '-Z'];

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('policies_batch');
});

beforeEach(async () => {
  await db.reset();
});

afterAll(async () => {
  await db.drop();
});

/** Record `i` of a fleet: two profiles per enrollment, optional fields on some. */
function fleetRecord(i: number, version = 1): DeviceProfileRecord {
  const n = Math.floor(i / 2);
  const enrollmentId = `ENR-${String(n).padStart(6, '0')}${SUFFIXES[n % SUFFIXES.length] ?? ''}`;
  const profile = i % 2 === 0 ? 'a' : 'b';
  const r: DeviceProfileRecord = {
    ...{ enrollmentId, identifier: `com.example.${profile}`, profileId: `prf_${profile}`, version },
    ...{ state: STATES[n % STATES.length] ?? 'pending', channel: 'policy', updatedAt: AT },
  };
  if (n % 3 === 0) {
    r.payloadUuid = `uuid-${String(i)}`;
    r.commandUuid = `cmd-${String(i)}`;
    r.reason = `reason ${String(i)}`;
    r.installedAt = new Date(AT.getTime() - i);
  }
  return r;
}

const byKey = (a: DeviceProfileRecord, b: DeviceProfileRecord): number =>
  compareBytes(a.enrollmentId, b.enrollmentId) || compareBytes(a.identifier, b.identifier);

/** Every page of `profileId` (of `states` only when given), each page's length at most `limit`. */
async function pages(
  store: DeviceProfileStore,
  profileId: string,
  limit: number,
  states?: DeviceProfileState[],
): Promise<DeviceProfileRecord[]> {
  const out: DeviceProfileRecord[] = [];
  let cursor: string | undefined;
  do {
    const options = { limit, ...(states && { states }), ...(cursor !== undefined && { cursor }) };
    const page = await store.listProfileDevices(profileId, options);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

/** A pool whose `query` calls, and those of the clients it lends, are counted in `count.n`. */
function countingPool(pool: pg.Pool, count: { n: number }): pg.Pool {
  const counted = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key) {
        const value: unknown = Reflect.get(t, key, t);
        if (typeof value !== 'function') return value;
        if (key === 'query')
          return (...args: unknown[]) => {
            count.n += 1;
            return (value as (...a: unknown[]) => unknown).apply(t, args);
          };
        if (key === 'connect')
          return async () => counted(await (value as () => Promise<pg.PoolClient>).apply(t));
        return (value as (...a: unknown[]) => unknown).bind(t);
      },
    });
  return counted(pool);
}

test('ok/a batch of records is written in few statements and reads back page by page as written', async () => {
  const connection = await openPostgresConnection({ url: db.url, clock, checkSecrets: false });
  const { ctx, release } = connection.part();
  try {
    const count = { n: 0 };
    const counted: PgContext = { ...ctx, pool: countingPool(ctx.pool, count) };
    const store = pgDeviceProfiles(counted);
    const written = Array.from({ length: RECORDS }, (_, i) => fleetRecord(i)).reverse();
    await store.putDeviceProfiles(written);
    // BEGIN, one upsert per chunk, COMMIT.
    expect(count.n).toBe(2 + Math.ceil(RECORDS / PUT_CHUNK));

    const expected = [...written].sort(byKey);
    const ofProfile = (p: string) => expected.filter((r) => r.profileId === p);
    expect(await pages(store, 'prf_a', 499)).toEqual(ofProfile('prf_a'));
    expect(await pages(store, 'prf_b', 1000)).toEqual(ofProfile('prf_b'));
    const installed = ofProfile('prf_a').filter((r) => r.state === 'installed');
    expect(await pages(store, 'prf_a', 97, ['installed'])).toEqual(installed);

    const ids = [...new Set(written.map((r) => r.enrollmentId))];
    count.n = 0;
    expect(await store.listDeviceProfilesOf(ids)).toEqual(expected);
    expect(count.n).toBe(1);
    const rows = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orchard_device_profiles',
    );
    expect(rows[0]?.n).toBe(RECORDS);
  } finally {
    await release();
  }
});

test('ok/two pools upserting the same records at once leave one row each, all from one writer', async () => {
  const stores = [
    await openPostgresAdminStore({ url: db.url, clock, pool: { max: 2 } }),
    await openPostgresAdminStore({ url: db.url, clock, pool: { max: 2 } }),
  ];
  try {
    const n = Math.max(100, Math.round(2000 * SCALE));
    // Half the keys exist before (updates race), half are new (inserts race).
    await stores[0]?.putDeviceProfiles(
      Array.from({ length: Math.floor(n / 2) }, (_, i) => fleetRecord(i)),
    );
    for (let round = 0; round < 3; round += 1) {
      const batches = [2, 3].map((version) =>
        Array.from({ length: n }, (_, i) => fleetRecord(i, version + round * 2)),
      );
      // The second writer gives its records in the opposite order.
      batches[1]?.reverse();
      await Promise.all(stores.map((store, w) => store.putDeviceProfiles(batches[w] ?? [])));
      const rows = await db.query<{ keys: number; rows: number; versions: number[] }>(
        `SELECT count(DISTINCT (enrollment_id, identifier))::int AS keys, count(*)::int AS rows,
           array_agg(DISTINCT version) AS versions FROM orchard_device_profiles`,
      );
      expect(rows[0]?.rows).toBe(n);
      expect(rows[0]?.keys).toBe(n);
      expect(rows[0]?.versions).toHaveLength(1);
      const version = Number(rows[0]?.versions[0]);
      expect([2 + round * 2, 3 + round * 2]).toContain(version);
      const all = await stores[1]?.listDeviceProfilesOf(
        Array.from({ length: n }, (_, i) => fleetRecord(i).enrollmentId),
      );
      const expected = Array.from({ length: n }, (_, i) => fleetRecord(i, version)).sort(byKey);
      expect(all).toEqual(expected);
    }
  } finally {
    for (const store of stores) store.close();
  }
});

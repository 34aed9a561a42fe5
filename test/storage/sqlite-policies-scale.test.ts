/**
 * The delivery service's reads at fleet size on SQLite: 100,000 owned enrollments page through
 * `listOwnedEnrollments` (and `listOwnedDevices`, which joins each enrollment by its key) in pages
 * of 10,000 along the owners' primary key (no sort, checked with the query plan), and 100,000 device-profile records are written in one batch and read back by
 * enrollment. `ORCHARD_SCALE` below 1 shrinks the fleet (e.g. 0.1 for 10,000) on slow machines.
 * Time is not asserted (the machine may be busy): the plans and the counts are.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/storage/sqlite/index.js';
import type { DeviceProfileRecord, OwnedEnrollmentFilter } from '../../src/storage/ports.js';
import { ownedDevicesQuery, ownedQuery } from '../../src/storage/sqlite/owned-enrollments.js';

const SCALE = Math.min(1, Number(process.env.ORCHARD_SCALE ?? '1') || 1);
const FLEET = Math.max(1000, Math.round(100_000 * SCALE));
const PAGE = 10_000;
const PER_USER = 10;
const AT = Date.UTC(2026, 11, 7);
const dir = mkdtempSync(join(tmpdir(), 'orchard-policies-scale-'));
const path = join(dir, 'fleet.db');
const enrollmentId = (i: number): string => `ENR-${String(i).padStart(7, '0')}`;

/** FLEET owned enrollments: users of PER_USER each; every third user has pol_a, the rest none. */
function seedFleet(): void {
  const db = new Database(path);
  try {
    db.transaction(() => {
      db.prepare(
        "INSERT INTO orchard_groups (id, name, parent_id, created_at) VALUES ('g1', 'G1', 'global', ?)",
      ).run(AT);
      const user = db.prepare(
        `INSERT INTO orchard_users (id, username, email, group_id, policy, created_at, updated_at)
         VALUES (?, ?, '', ?, ?, ?, ?)`,
      );
      const owner = db.prepare(
        `INSERT INTO orchard_enrollment_owners (enrollment_id, user_id, group_id, assigned_at)
         VALUES (?, ?, ?, ?)`,
      );
      for (let u = 0; u < FLEET / PER_USER; u += 1) {
        const id = `usr_${String(u)}`;
        const group = u % 2 === 0 ? 'global' : 'g1';
        user.run(id, `user-${String(u)}`, group, u % 3 === 0 ? 'pol_a' : null, AT, AT);
        // Spread each user's enrollments over the id space, as real UDIDs are.
        for (let k = 0; k < PER_USER; k += 1)
          owner.run(enrollmentId(k * (FLEET / PER_USER) + u), id, group, AT);
      }
    })();
  } finally {
    db.close();
  }
}

let database: SqliteDatabase;

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Pages through `filter`; the ids in order and how many pages it took. */
async function pageAll(filter: OwnedEnrollmentFilter): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const page = await database.admin.listOwnedEnrollments(
      filter,
      cursor === undefined ? { limit: PAGE } : { limit: PAGE, cursor },
    );
    pages += 1;
    for (const item of page.items) ids.push(item.enrollmentId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { ids, pages };
}

/**
 * The query plan of the adapter's owned-enrollment statement for `filter` (or of `query`'s, e.g.
 * the owned-device one), one line a step.
 */
function planOf(filter: OwnedEnrollmentFilter, query = ownedQuery): string {
  const db = new Database(path, { readonly: true });
  try {
    const { sql, lists } = query(filter);
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('', ...lists, PAGE + 1);
    return (rows as { detail: string }[]).map((r) => r.detail).join('\n');
  } finally {
    db.close();
  }
}

describe(`SQLite at fleet size (${String(FLEET)} owned enrollments)`, () => {
  test('ok/every owned enrollment pages through in id order, 10,000 a page', async () => {
    database = openSqliteDatabase({ path, lastSeenFlushMs: 0 });
    seedFleet();
    const { ids, pages } = await pageAll({});
    expect(ids).toHaveLength(FLEET);
    expect(pages).toBe(Math.ceil(FLEET / PAGE));
    expect(ids).toEqual(Array.from({ length: FLEET }, (_, i) => enrollmentId(i)));
  });

  test('ok/a union of conditions pages through the matching third and half', async () => {
    const { ids } = await pageAll({ userPolicyIds: ['pol_a'], groupsWithoutUserPolicy: ['g1'] });
    const users = FLEET / PER_USER;
    const expected = Array.from({ length: FLEET }, (_, i) => i).filter((i) => {
      const u = i % users;
      return u % 3 === 0 || u % 2 === 1;
    });
    expect(ids).toEqual(expected.map(enrollmentId));
    const one = await pageAll({ userIds: ['usr_7'] });
    expect(one.ids).toHaveLength(PER_USER);
  });

  test.each<[string, OwnedEnrollmentFilter]>([
    ['every owned enrollment', {}],
    ['a policy and group union', { userPolicyIds: ['pol_a'], groupsWithoutUserPolicy: ['g1'] }],
    ['groups and users', { groupIds: ['g1'], userIds: ['usr_1'] }],
  ])('ok/%s: the page walks the owners primary key, no sort, users by their key', (_, filter) => {
    const plan = planOf(filter);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(plan).toMatch(/SEARCH o USING INDEX sqlite_autoindex_orchard_enrollment_owners_1/);
    expect(plan).toMatch(/SEARCH u USING INDEX sqlite_autoindex_orchard_users_1 \(id=\?\)/);
  });

  test.each<[string, OwnedEnrollmentFilter]>([
    ['every owned enrollment', {}],
    ['a policy and group union', { userPolicyIds: ['pol_a'], groupsWithoutUserPolicy: ['g1'] }],
  ])('ok/owned devices, %s: the same walk, each enrollment by its key', (_, filter) => {
    const plan = planOf(filter, ownedDevicesQuery);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(plan).toMatch(/SEARCH o USING INDEX sqlite_autoindex_orchard_enrollment_owners_1/);
    expect(plan).toMatch(/SEARCH u USING INDEX sqlite_autoindex_orchard_users_1 \(id=\?\)/);
    expect(plan).toMatch(/SEARCH e USING INDEX sqlite_autoindex_enrollments_1 \(id=\?\)/);
  });

  test('ok/explicit users are found by their index, not by a walk', () => {
    expect(planOf({ userIds: ['usr_1'] })).toMatch(/orchard_enrollment_owners_user \(user_id=\?\)/);
  });

  test('ok/100,000 device-profile records go in one batch and come back by enrollment', async () => {
    const records: DeviceProfileRecord[] = Array.from({ length: FLEET }, (_, i) => ({
      ...{ enrollmentId: enrollmentId(i), identifier: 'com.example.wifi', profileId: 'prf_w' },
      ...{ version: 1, state: 'pending', channel: 'policy', commandUuid: 'cmd-1' },
      updatedAt: new Date(AT),
    }));
    await database.admin.putDeviceProfiles(records);
    const ids = Array.from({ length: PAGE }, (_, i) => enrollmentId(FLEET - 1 - i));
    const back = await database.admin.listDeviceProfilesOf(ids);
    expect(back).toHaveLength(PAGE);
    expect(back[0]).toEqual(records[FLEET - PAGE]);
    const found = await database.storage.findEnrollments(ids);
    expect(found).toEqual([]);
  });
});

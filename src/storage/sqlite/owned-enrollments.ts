/**
 * {@link UserStore.listOwnedEnrollments} and {@link UserStore.listOwnedDevices} in SQLite: owners
 * joined with their users' current rows (and their enrollments' rows), in enrollment id order
 * from a keyset cursor. Only the filter's given conditions enter the statement (one cached
 * statement per combination), each list bound as one JSON array.
 */
import { filterIsEmpty, ownedPage, ownedPageStart } from '../policies-check.js';
import type {
  EnrollmentType,
  OwnedDevice,
  OwnedEnrollment,
  OwnedEnrollmentFilter,
  UserRecord,
  UserStore,
} from '../ports.js';
import { adminGuard } from './admin-util.js';
import { allRows, stmt, type SqliteContext } from './db.js';
import { userRecord, type UserRow } from './users.js';

const IN = 'IN (SELECT value FROM json_each(?))';

/** Each condition of the filter and its SQL, in a fixed order; `%` takes `+` in a walk. */
const CONDITIONS = [
  ['userPolicyIds', `%u.policy ${IN}`],
  ['groupsWithoutUserPolicy', `(u.policy IS NULL AND %u.group_id ${IN})`],
  ['groupIds', `%u.group_id ${IN}`],
  ['userIds', `%o.user_id ${IN}`],
  ['enrollmentIds', `%o.enrollment_id ${IN}`],
] as const;

/** What an owned listing selects, and from which tables. */
interface OwnedShape {
  columns: string;
  from: string;
  /** Join conditions that go in WHERE (ANDed before the filter), or `''`. */
  joinedBy: string;
}

/** Owners with their users' rows ({@link UserStore.listOwnedEnrollments}). */
const OWNERS: OwnedShape = {
  columns: 'o.enrollment_id AS owned_enrollment_id, u.*',
  from: 'orchard_enrollment_owners o JOIN orchard_users u ON u.id = o.user_id',
  joinedBy: '',
};

/**
 * The statement for `filter` and the JSON arrays it binds, in order. Explicit users and
 * enrollments are few: their indexes find them and the handful is sorted. A policy or group
 * condition may match most of the fleet: unary `+` keeps the planner off those indexes, so the
 * page walks the owners' primary key from the cursor and stops at `limit` (no sort of every
 * match on every page).
 */
export function ownedQuery(
  filter: OwnedEnrollmentFilter,
  shape: OwnedShape = OWNERS,
): { sql: string; lists: string[] } {
  const given = CONDITIONS.filter(([key]) => filter[key] !== undefined);
  const walk = given.some(([key]) => key !== 'userIds' && key !== 'enrollmentIds');
  const terms = given.map(([, sql]) => sql.replace('%', walk ? '+' : ''));
  const where = filterIsEmpty(filter) ? '' : `AND (${terms.join(' OR ')})`;
  return {
    sql: `SELECT ${shape.columns} FROM ${shape.from}
      WHERE ${shape.joinedBy}o.enrollment_id > ? ${where} ORDER BY o.enrollment_id LIMIT ?`,
    lists: given.map(([key]) => JSON.stringify(filter[key])),
  };
}

function list(
  ctx: SqliteContext,
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
) {
  const after = ownedPageStart(filter, options);
  const { sql, lists } = ownedQuery(filter);
  const rows = allRows<UserRow & { owned_enrollment_id: string }>(
    ctx,
    sql,
    ...[after, ...lists, options.limit + 1],
  );
  const items: OwnedEnrollment[] = rows.map((row) => ({
    enrollmentId: row.owned_enrollment_id,
    user: userRecord(row),
  }));
  return ownedPage(items, options.limit);
}

/** The columns of one owned device, in the order {@link ownedDevice} reads them. */
const DEVICE_COLUMNS = `o.enrollment_id, u.id, u.username, u.email, u.first_name, u.last_name,
  u.group_id, u.policy, u.managed_apple_id, u.custom1, u.custom2, u.custom3, u.generic,
  u.created_at, u.updated_at, e.type, e.device_id, e.parent_id, e.user_id, e.user_short_name,
  e.user_long_name, e.enrolled, e.facts, e.token_update_count, e.created_at, e.updated_at`;

/** The user fields that may be absent, with their column in {@link DEVICE_COLUMNS}. */
const OPTIONAL_USER = [
  ['firstName', 4],
  ['lastName', 5],
  ['policy', 7],
  ['managedAppleId', 8],
  ['custom1', 9],
  ['custom2', 10],
  ['custom3', 11],
] as const;

/**
 * Owners with their users' and enrollments' rows. CROSS JOIN keeps SQLite's join order (owners
 * outermost), so a page still walks the owners' key from the cursor and stops at the limit.
 */
const DEVICES: OwnedShape = {
  columns: DEVICE_COLUMNS,
  from: 'orchard_enrollment_owners o CROSS JOIN orchard_users u CROSS JOIN enrollments e',
  joinedBy: 'u.id = o.user_id AND e.id = o.enrollment_id AND ',
};

/** The statement of {@link UserStore.listOwnedDevices}: {@link ownedQuery} over the enrollments too. */
export function ownedDevicesQuery(filter: OwnedEnrollmentFilter): { sql: string; lists: string[] } {
  return ownedQuery(filter, DEVICES);
}

/** One raw row of {@link ownedDevicesQuery} as an owned device, built without a row object. */
function ownedDevice(row: unknown[]): OwnedDevice {
  const user: UserRecord = {
    id: row[1] as string,
    username: row[2] as string,
    email: row[3] as string,
    groupId: row[6] as string,
    generic: row[12] === 1,
    createdAt: new Date(row[13] as number),
    updatedAt: new Date(row[14] as number),
  };
  for (const [key, i] of OPTIONAL_USER) if (row[i] !== null) user[key] = row[i] as string;
  const enrollmentId = row[0] as string;
  const enrollment: OwnedDevice['enrollment'] = {
    id: enrollmentId,
    type: row[15] as EnrollmentType,
    deviceId: row[16] as string,
    enrolled: row[21] === 1,
    facts: JSON.parse(row[22] as string) as Record<string, unknown>,
    createdAt: new Date(row[24] as number),
    updatedAt: new Date(row[25] as number),
    tokenUpdateCount: row[23] as number,
  };
  if (row[17] !== null) enrollment.parentId = row[17] as string;
  if (row[18] !== null) enrollment.userId = row[18] as string;
  if (row[19] !== null) enrollment.userShortName = row[19] as string;
  if (row[20] !== null) enrollment.userLongName = row[20] as string;
  return { enrollmentId, user, enrollment };
}

function listDevices(
  ctx: SqliteContext,
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
) {
  const after = ownedPageStart(filter, options);
  const { sql, lists } = ownedDevicesQuery(filter);
  // Rows as arrays (cached apart from any row-object statement of the same text).
  const statement = stmt(ctx, `/* raw */ ${sql}`).raw(true);
  const rows = statement.all(after, ...lists, options.limit + 1) as unknown[][];
  return ownedPage(rows.map(ownedDevice), options.limit);
}

/** The owned-enrollment listings of the SQLite {@link UserStore}. */
export function sqliteOwnedEnrollments(
  ctx: SqliteContext,
): Pick<UserStore, 'listOwnedEnrollments'> & Required<Pick<UserStore, 'listOwnedDevices'>> {
  return {
    listOwnedEnrollments: (filter, options) => adminGuard(ctx, () => list(ctx, filter, options)),
    listOwnedDevices: (filter, options) => adminGuard(ctx, () => listDevices(ctx, filter, options)),
  };
}

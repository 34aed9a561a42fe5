/**
 * {@link UserStore.listOwnedEnrollments} in SQLite: owners joined with their users' current rows,
 * in enrollment id order from a keyset cursor. Only the filter's given conditions enter the
 * statement (one cached statement per combination), each list bound as one JSON array.
 */
import { checkLimit, checkOwnedFilter, filterIsEmpty, MAX_OWNED_PAGE } from '../policies-check.js';
import type { OwnedEnrollment, OwnedEnrollmentFilter, UserStore } from '../ports.js';
import { decodeCursor, encodeCursor } from '../support.js';
import { adminGuard } from './admin-util.js';
import { allRows, type SqliteContext } from './db.js';
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

/**
 * The statement for `filter` and the JSON arrays it binds, in order. Explicit users and
 * enrollments are few: their indexes find them and the handful is sorted. A policy or group
 * condition may match most of the fleet: unary `+` keeps the planner off those indexes, so the
 * page walks the owners' primary key from the cursor and stops at `limit` (no sort of every
 * match on every page).
 */
export function ownedQuery(filter: OwnedEnrollmentFilter): { sql: string; lists: string[] } {
  const given = CONDITIONS.filter(([key]) => filter[key] !== undefined);
  const walk = given.some(([key]) => key !== 'userIds' && key !== 'enrollmentIds');
  const terms = given.map(([, sql]) => sql.replace('%', walk ? '+' : ''));
  const where = filterIsEmpty(filter) ? '' : `AND (${terms.join(' OR ')})`;
  return {
    sql: `SELECT o.enrollment_id AS owned_enrollment_id, u.*
      FROM orchard_enrollment_owners o JOIN orchard_users u ON u.id = o.user_id
      WHERE o.enrollment_id > ? ${where} ORDER BY o.enrollment_id LIMIT ?`,
    lists: given.map(([key]) => JSON.stringify(filter[key])),
  };
}

function list(
  ctx: SqliteContext,
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
) {
  checkOwnedFilter(filter);
  checkLimit(options.limit, MAX_OWNED_PAGE);
  const after = options.cursor === undefined ? '' : decodeCursor(options.cursor, 'string');
  const { sql, lists } = ownedQuery(filter);
  const rows = allRows<UserRow & { owned_enrollment_id: string }>(
    ctx,
    sql,
    ...[after, ...lists, options.limit + 1],
  );
  const items: OwnedEnrollment[] = rows
    .slice(0, options.limit)
    .map((row) => ({ enrollmentId: row.owned_enrollment_id, user: userRecord(row) }));
  const last = items.at(-1);
  return rows.length > options.limit && last
    ? { items, nextCursor: encodeCursor(last.enrollmentId) }
    : { items };
}

/** The owned-enrollment listing of the SQLite {@link UserStore}. */
export function sqliteOwnedEnrollments(
  ctx: SqliteContext,
): Pick<UserStore, 'listOwnedEnrollments'> {
  return {
    listOwnedEnrollments: (filter, options) => adminGuard(ctx, () => list(ctx, filter, options)),
  };
}

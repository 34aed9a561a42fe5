/**
 * Who each enrollment belongs to, in SQLite (`orchard_enrollment_owners`, migration 8): one row
 * per enrollment, replaced on re-assignment; rows go with their user or group (ON DELETE CASCADE).
 */
import type { EnrollmentOwner, UserStore } from '../ports.js';
import { checkOwner } from '../users-check.js';
import { adminGuard } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';

const OWNERS = 'orchard_enrollment_owners';
const USER = 'SELECT 1 FROM orchard_users WHERE id = ?';
const GROUP = 'SELECT 1 FROM orchard_groups WHERE id = ?';

interface OwnerRow {
  enrollment_id: string;
  user_id: string;
  group_id: string;
  link_id: string | null;
  assigned_at: number;
}

function ownerRecord(row: OwnerRow): EnrollmentOwner {
  const r: EnrollmentOwner = {
    enrollmentId: row.enrollment_id,
    userId: row.user_id,
    groupId: row.group_id,
    assignedAt: new Date(row.assigned_at),
  };
  if (row.link_id !== null) r.linkId = row.link_id;
  return r;
}

function assignOwner(ctx: SqliteContext, owner: EnrollmentOwner): void {
  checkOwner(owner);
  writeTx(ctx, () => {
    if (stmt(ctx, USER).get(owner.userId) === undefined)
      throw new TypeError(`unknown user ${owner.userId}`);
    if (stmt(ctx, GROUP).get(owner.groupId) === undefined)
      throw new TypeError(`unknown group ${owner.groupId}`);
    stmt(
      ctx,
      `INSERT OR REPLACE INTO ${OWNERS} (enrollment_id, user_id, group_id, link_id, assigned_at)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(
      owner.enrollmentId,
      owner.userId,
      owner.groupId,
      owner.linkId ?? null,
      owner.assignedAt.getTime(),
    );
  });
}

/** The enrollment-owner part of the {@link UserStore} on a connection context. */
export function sqliteEnrollmentOwners(
  ctx: SqliteContext,
): Pick<UserStore, 'assignEnrollmentOwner' | 'findEnrollmentOwner' | 'listUserEnrollments'> {
  const run = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    assignEnrollmentOwner: (owner) =>
      run(() => {
        assignOwner(ctx, owner);
      }),
    findEnrollmentOwner: (enrollmentId) =>
      run(() => {
        const sql = `SELECT * FROM ${OWNERS} WHERE enrollment_id = ?`;
        const row = stmt(ctx, sql).get(enrollmentId) as OwnerRow | undefined;
        return row && ownerRecord(row);
      }),
    listUserEnrollments: (userId) =>
      run(() =>
        (
          stmt(
            ctx,
            `SELECT * FROM ${OWNERS} WHERE user_id = ? ORDER BY assigned_at, enrollment_id`,
          ).all(userId) as OwnerRow[]
        ).map(ownerRecord),
      ),
  };
}

/**
 * Enrollment links in SQLite (`orchard_admin_enrollment_tokens`, migration 6): the link's secret
 * appears only in its URL; the table keeps its SHA-256. Downloads and enrollments are counted
 * apart: a single-use link stays downloadable until a certificate is issued against one of its
 * challenges, and spending it is one atomic UPDATE.
 */
import type { EnrollmentLinkStore, EnrollmentTokenRecord } from '../ports.js';
import { adminGuard, newAdminId } from './admin-util.js';
import { stmt, type SqliteContext } from './db.js';

interface Row {
  id: string;
  single_use: number;
  uses: number;
  enrollments: number;
  expires_at: number | null;
  user_name: string | null;
  created_at: number;
  revoked_at: number | null;
}

function record(row: Row): EnrollmentTokenRecord {
  const r: EnrollmentTokenRecord = {
    id: row.id,
    singleUse: row.single_use === 1,
    uses: row.uses,
    enrollments: row.enrollments,
    createdAt: new Date(row.created_at),
  };
  if (row.expires_at !== null) r.expiresAt = new Date(row.expires_at);
  if (row.user_name !== null) r.user = row.user_name;
  if (row.revoked_at !== null) r.revokedAt = new Date(row.revoked_at);
  return r;
}

const TABLE = 'orchard_admin_enrollment_tokens';
const COLUMNS = 'id, single_use, uses, enrollments, expires_at, user_name, created_at, revoked_at';
/** A link that may still enroll a device at the bound time `?`. */
const USABLE =
  'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (single_use = 0 OR enrollments = 0)';

/** The {@link EnrollmentLinkStore} on a connection context. */
export function sqliteEnrollmentLinks(ctx: SqliteContext): EnrollmentLinkStore {
  const find = (id: string): EnrollmentTokenRecord | undefined => {
    const row = stmt(ctx, `SELECT ${COLUMNS} FROM ${TABLE} WHERE id = ?`).get(id) as
      Row | undefined;
    return row ? record(row) : undefined;
  };
  const count = (column: 'uses' | 'enrollments', key: 'hash' | 'id', value: string, now: Date) => {
    const sql = `UPDATE ${TABLE} SET ${column} = ${column} + 1 WHERE ${key} = ? AND ${USABLE}
      RETURNING ${COLUMNS}`;
    return adminGuard(ctx, () => {
      const row = stmt(ctx, sql).get(value, now.getTime()) as Row | undefined;
      return row ? record(row) : undefined;
    });
  };
  return {
    createEnrollmentToken: (input) =>
      adminGuard(ctx, () => {
        const id = newAdminId('et');
        stmt(
          ctx,
          `INSERT INTO ${TABLE} (id, hash, single_use, expires_at, user_name, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(
          id,
          input.hash,
          input.singleUse ? 1 : 0,
          input.expiresAt?.getTime() ?? null,
          input.user ?? null,
          ctx.clock().getTime(),
        );
        return find(id) as EnrollmentTokenRecord;
      }),
    downloadEnrollmentToken: (hash, now) => count('uses', 'hash', hash, now),
    redeemEnrollmentToken: (id, now) => count('enrollments', 'id', id, now),
    listEnrollmentTokens: ({ limit, cursor }) =>
      adminGuard(ctx, () => {
        const rows = stmt(
          ctx,
          `SELECT ${COLUMNS} FROM ${TABLE} WHERE id > ? ORDER BY id LIMIT ?`,
        ).all(cursor ?? '', limit + 1) as Row[];
        const items = rows.slice(0, limit).map(record);
        const last = items.at(-1);
        return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
      }),
    findEnrollmentToken: (id) => adminGuard(ctx, () => find(id)),
    revokeEnrollmentToken: (id) =>
      adminGuard(
        ctx,
        () =>
          stmt(ctx, `UPDATE ${TABLE} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(
            ctx.clock().getTime(),
            id,
          ).changes === 1,
      ),
  };
}

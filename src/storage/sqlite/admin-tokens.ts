/**
 * Enrollment links in SQLite (`orchard_admin_enrollment_tokens`, migrations 6 and 8): the link's
 * secret appears in its URL and the table keeps its SHA-256; personal and generic links also keep
 * the secret itself, sealed with the secrets key when the store has one, so they can be shown and
 * sent again. Downloads and enrollments are counted apart: a single-use link stays downloadable
 * until a certificate is issued against one of its challenges, and spending it is one atomic
 * UPDATE. Creating a personal link and rotating one run in IMMEDIATE transactions, backed by a
 * partial UNIQUE index, so a user never has two active personal links.
 */
import type {
  EnrollmentLinkKind,
  EnrollmentLinkStore,
  EnrollmentTokenRecord,
  NewEnrollmentToken,
} from '../ports.js';
import { checkNewLink } from '../users-check.js';
import { adminGuard, newAdminId } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface Row {
  id: string;
  kind: EnrollmentLinkKind;
  single_use: number;
  uses: number;
  enrollments: number;
  expires_at: number | null;
  user_name: string | null;
  user_id: string | null;
  group_id: string | null;
  policy: string | null;
  created_at: number;
  revoked_at: number | null;
  rotated_at: number | null;
  sent_at: number | null;
  opened_at: number | null;
  enrolled_at: number | null;
}

const TEXT = [
  ['user', 'user_name'],
  ['userId', 'user_id'],
  ['groupId', 'group_id'],
  ['policy', 'policy'],
] as const;
const TIMES = [
  ['expiresAt', 'expires_at'],
  ['revokedAt', 'revoked_at'],
  ['rotatedAt', 'rotated_at'],
  ['sentAt', 'sent_at'],
  ['openedAt', 'opened_at'],
  ['enrolledAt', 'enrolled_at'],
] as const;

function record(row: Row): EnrollmentTokenRecord {
  const r: EnrollmentTokenRecord = {
    id: row.id,
    kind: row.kind,
    singleUse: row.single_use === 1,
    uses: row.uses,
    enrollments: row.enrollments,
    createdAt: new Date(row.created_at),
  };
  for (const [key, column] of TEXT) {
    const value = row[column];
    if (value !== null) r[key] = value;
  }
  for (const [key, column] of TIMES) {
    const value = row[column];
    if (value !== null) r[key] = new Date(value);
  }
  return r;
}

const TABLE = 'orchard_admin_enrollment_tokens';
const COLUMNS = `id, kind, single_use, uses, enrollments, expires_at, user_name, user_id, group_id,
  policy, created_at, revoked_at, rotated_at, sent_at, opened_at, enrolled_at`;
/** A link that may still enroll a device at the bound time `?`. */
const USABLE =
  'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (single_use = 0 OR enrollments = 0)';
const PERSONAL = `SELECT ${COLUMNS} FROM ${TABLE}
  WHERE kind = 'personal' AND user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`;
/** Sets the time of a mail and moves a finite expiry later, never earlier. */
const SENT = `UPDATE ${TABLE} SET sent_at = ?,
  expires_at = CASE WHEN expires_at IS NOT NULL AND ? > expires_at THEN ? ELSE expires_at END
  WHERE id = ? AND revoked_at IS NULL RETURNING ${COLUMNS}`;

function find(ctx: SqliteContext, key: 'id' | 'hash', value: string) {
  const row = stmt(ctx, `SELECT ${COLUMNS} FROM ${TABLE} WHERE ${key} = ?`).get(value) as
    Row | undefined;
  return row ? record(row) : undefined;
}

/** Inserts a link made at `createdAt`; the caller holds the write lock. */
function insert(
  ctx: SqliteContext,
  input: NewEnrollmentToken,
  createdAt: number,
): EnrollmentTokenRecord {
  const kind = checkNewLink(input);
  if (kind === 'personal' && stmt(ctx, PERSONAL).get(input.userId) !== undefined)
    throw new TypeError(`user ${String(input.userId)} already has an active personal link`);
  const id = newAdminId('et');
  const secret =
    input.secret === undefined
      ? null
      : toStore(ctx, 'enrollment-link', id, Buffer.from(input.secret, 'utf8'));
  stmt(
    ctx,
    `INSERT INTO ${TABLE} (id, hash, kind, single_use, expires_at, user_name, user_id, group_id,
       policy, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    input.hash,
    kind,
    input.singleUse ? 1 : 0,
    input.expiresAt?.getTime() ?? null,
    input.user ?? null,
    input.userId ?? null,
    input.groupId ?? null,
    input.policy ?? null,
    secret,
    createdAt,
  );
  return find(ctx, 'id', id) as EnrollmentTokenRecord;
}

function rotate(
  ctx: SqliteContext,
  id: string,
  next: NewEnrollmentToken,
  at: Date,
): EnrollmentTokenRecord | undefined {
  return writeTx(ctx, () => {
    const changed = stmt(
      ctx,
      `UPDATE ${TABLE} SET revoked_at = ?, rotated_at = ? WHERE id = ? AND revoked_at IS NULL`,
    ).run(at.getTime(), at.getTime(), id).changes;
    return changed === 1 ? insert(ctx, next, at.getTime()) : undefined;
  });
}

/** The {@link EnrollmentLinkStore} on a connection context. */
export function sqliteEnrollmentLinks(ctx: SqliteContext): EnrollmentLinkStore {
  const count = (column: 'uses' | 'enrollments', key: 'hash' | 'id', value: string, now: Date) => {
    const stamp = column === 'uses' ? 'opened_at' : 'enrolled_at';
    const sql = `UPDATE ${TABLE} SET ${column} = ${column} + 1, ${stamp} = COALESCE(${stamp}, ?)
      WHERE ${key} = ? AND ${USABLE} RETURNING ${COLUMNS}`;
    return adminGuard(ctx, () => {
      const row = stmt(ctx, sql).get(now.getTime(), value, now.getTime()) as Row | undefined;
      return row ? record(row) : undefined;
    });
  };
  return {
    createEnrollmentToken: (input) =>
      adminGuard(ctx, () => writeTx(ctx, () => insert(ctx, input, ctx.clock().getTime()))),
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
    findEnrollmentToken: (id) => adminGuard(ctx, () => find(ctx, 'id', id)),
    revokeEnrollmentToken: (id) =>
      adminGuard(
        ctx,
        () =>
          stmt(ctx, `UPDATE ${TABLE} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(
            ctx.clock().getTime(),
            id,
          ).changes === 1,
      ),
    findEnrollmentTokenByHash: (hash) => adminGuard(ctx, () => find(ctx, 'hash', hash)),
    findEnrollmentTokenSecret: (id) =>
      adminGuard(ctx, () => {
        const stored = stmt(ctx, `SELECT secret FROM ${TABLE} WHERE id = ?`).pluck().get(id) as
          Uint8Array | null | undefined;
        if (stored === null || stored === undefined) return undefined;
        return Buffer.from(fromStore(ctx, 'enrollment-link', id, stored)).toString('utf8');
      }),
    findPersonalEnrollmentToken: (userId) =>
      adminGuard(ctx, () => {
        const row = stmt(ctx, PERSONAL).get(userId) as Row | undefined;
        return row ? record(row) : undefined;
      }),
    rotateEnrollmentToken: (id, next, at) => adminGuard(ctx, () => rotate(ctx, id, next, at)),
    markEnrollmentTokenSent: (id, at, expiresAt) =>
      adminGuard(ctx, () => {
        const until = expiresAt?.getTime() ?? null;
        const row = stmt(ctx, SENT).get(at.getTime(), until, until, id) as Row | undefined;
        return row ? record(row) : undefined;
      }),
  };
}

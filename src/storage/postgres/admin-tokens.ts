/**
 * Enrollment links in PostgreSQL (`orchard_admin_enrollment_tokens`): the table keeps the SHA-256
 * of a link's secret; personal and generic links also keep the secret itself, sealed with the
 * secrets key (purpose `enrollment-link`, bound to the link id) when the store has one.
 * Downloads and enrollments are counted by one conditional `UPDATE ... RETURNING` each, so of
 * several daemons racing to spend a single-use link exactly one wins; the partial UNIQUE index
 * keeps one active personal link per user, and a rotation retires and replaces in one transaction.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type {
  EnrollmentLinkKind,
  EnrollmentLinkStore,
  EnrollmentTokenRecord,
  NewEnrollmentToken,
} from '../ports.js';
import { checkNewLink } from '../users-check.js';
import {
  isUniqueViolation,
  one,
  op,
  query,
  run,
  setIf,
  tx,
  type PgContext,
  type Queryable,
} from './db.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface Row {
  id: string;
  kind: EnrollmentLinkKind;
  single_use: boolean;
  uses: number;
  enrollments: number;
  expires_at: Date | null;
  user_name: string | null;
  user_id: string | null;
  group_id: string | null;
  policy: string | null;
  created_at: Date;
  revoked_at: Date | null;
  rotated_at: Date | null;
  sent_at: Date | null;
  opened_at: Date | null;
  enrolled_at: Date | null;
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
    singleUse: row.single_use,
    uses: row.uses,
    enrollments: row.enrollments,
    createdAt: row.created_at,
  };
  for (const [key, column] of TEXT) setIf(r, key, row[column]);
  for (const [key, column] of TIMES) setIf(r, key, row[column]);
  return r;
}

const TABLE = 'orchard_admin_enrollment_tokens';
const PERSONAL_INDEX = 'orchard_admin_enrollment_tokens_personal';
const COLUMNS = `id, kind, single_use, uses, enrollments, expires_at, user_name, user_id, group_id,
  policy, created_at, revoked_at, rotated_at, sent_at, opened_at, enrolled_at`;
const INSERT = `INSERT INTO ${TABLE} (id, hash, kind, single_use, expires_at, user_name, user_id,
  group_id, policy, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  RETURNING ${COLUMNS}`;
const PERSONAL = `SELECT ${COLUMNS} FROM ${TABLE}
  WHERE kind = 'personal' AND user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`;
/** A link that may still enroll a device at the time `$1`. */
const USABLE = `revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
  AND (NOT single_use OR enrollments = 0)`;
/** Sets the time of a mail and moves a finite expiry later, never earlier. */
const SENT = `UPDATE ${TABLE} SET sent_at = $1, expires_at = CASE
    WHEN expires_at IS NOT NULL AND $2::timestamptz > expires_at THEN $2::timestamptz
    ELSE expires_at END
  WHERE id = $3 AND revoked_at IS NULL RETURNING ${COLUMNS}`;
const RETIRE = `UPDATE ${TABLE} SET revoked_at = $1, rotated_at = $1
  WHERE id = $2 AND revoked_at IS NULL`;
const REVOKE = `UPDATE ${TABLE} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`;
const LIST = `SELECT ${COLUMNS} FROM ${TABLE} WHERE id > $1 ORDER BY id LIMIT $2`;
const SECRET = `SELECT secret FROM ${TABLE} WHERE id = $1`;

/** Counting statements: one atomic conditional UPDATE per download or enrollment. */
const COUNT = {
  uses: `UPDATE ${TABLE} SET uses = uses + 1, opened_at = coalesce(opened_at, $1)
    WHERE hash = $2 AND ${USABLE} RETURNING ${COLUMNS}`,
  enrollments: `UPDATE ${TABLE} SET enrollments = enrollments + 1,
    enrolled_at = coalesce(enrolled_at, $1) WHERE id = $2 AND ${USABLE} RETURNING ${COLUMNS}`,
};

async function find(
  ctx: PgContext,
  key: 'id' | 'hash',
  value: string,
): Promise<EnrollmentTokenRecord | undefined> {
  const row = await one<Row>(ctx.pool, `SELECT ${COLUMNS} FROM ${TABLE} WHERE ${key} = $1`, [
    value,
  ]);
  return row && record(row);
}

/**
 * Inserts a link made at `createdAt` on `on`. A second active personal link of one user (even
 * one another daemon inserts at the same moment) is refused by the partial UNIQUE index: TypeError.
 */
async function insert(
  ctx: PgContext,
  on: Queryable,
  input: NewEnrollmentToken,
  createdAt: Date,
): Promise<EnrollmentTokenRecord> {
  const kind = checkNewLink(input);
  const id = `et_${randomBytes(6).toString('hex')}`;
  const secret =
    input.secret === undefined
      ? null
      : Buffer.from(toStore(ctx, 'enrollment-link', id, Buffer.from(input.secret, 'utf8')));
  const owners = [input.user ?? null, input.userId ?? null, input.groupId ?? null];
  const values = [id, input.hash, kind, input.singleUse, input.expiresAt ?? null, ...owners];
  try {
    const row = await one<Row>(on, INSERT, [...values, input.policy ?? null, secret, createdAt]);
    if (row === undefined) throw new Error('INSERT ... RETURNING returned no row');
    return record(row);
  } catch (error) {
    if (isUniqueViolation(error, PERSONAL_INDEX))
      throw new TypeError(`user ${String(input.userId)} already has an active personal link`, {
        cause: error,
      });
    throw error;
  }
}

/** Retires link `id` and stores `next` in one transaction; undefined when `id` is not active. */
function rotate(
  ctx: PgContext,
  id: string,
  next: NewEnrollmentToken,
  at: Date,
): Promise<EnrollmentTokenRecord | undefined> {
  return tx(ctx, async (client: pg.PoolClient) => {
    if ((await run(client, RETIRE, [at, id])) !== 1) return undefined;
    return insert(ctx, client, next, at);
  });
}

/** The {@link EnrollmentLinkStore} on a context. */
export function pgEnrollmentLinks(ctx: PgContext): EnrollmentLinkStore {
  const count = (column: 'uses' | 'enrollments', value: string, now: Date) =>
    op(ctx, async () => {
      const row = await one<Row>(ctx.pool, COUNT[column], [now, value]);
      return row && record(row);
    });
  return {
    createEnrollmentToken: (input) => op(ctx, () => insert(ctx, ctx.pool, input, ctx.clock())),
    downloadEnrollmentToken: (hash, now) => count('uses', hash, now),
    redeemEnrollmentToken: (id, now) => count('enrollments', id, now),
    listEnrollmentTokens: ({ limit, cursor }) =>
      op(ctx, async () => {
        const rows = await query<Row>(ctx.pool, LIST, [cursor ?? '', limit + 1]);
        const items = rows.slice(0, limit).map(record);
        const last = items.at(-1);
        return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
      }),
    findEnrollmentToken: (id) => op(ctx, () => find(ctx, 'id', id)),
    revokeEnrollmentToken: (id) =>
      op(ctx, async () => (await run(ctx.pool, REVOKE, [ctx.clock(), id])) === 1),
    findEnrollmentTokenByHash: (hash) => op(ctx, () => find(ctx, 'hash', hash)),
    findEnrollmentTokenSecret: (id) =>
      op(ctx, async () => {
        const row = await one<{ secret: Buffer | null }>(ctx.pool, SECRET, [id]);
        if (row === undefined || row.secret === null) return undefined;
        return Buffer.from(fromStore(ctx, 'enrollment-link', id, row.secret)).toString('utf8');
      }),
    findPersonalEnrollmentToken: (userId) =>
      op(ctx, async () => {
        const row = await one<Row>(ctx.pool, PERSONAL, [userId]);
        return row && record(row);
      }),
    rotateEnrollmentToken: (id, next, at) => op(ctx, () => rotate(ctx, id, next, at)),
    markEnrollmentTokenSent: (id, at, expiresAt) =>
      op(ctx, async () => {
        const row = await one<Row>(ctx.pool, SENT, [at, expiresAt ?? null, id]);
        return row && record(row);
      }),
  };
}

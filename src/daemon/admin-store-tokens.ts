/**
 * Enrollment tokens in the admin tables: the token itself is a 256-bit secret that appears only
 * in the enrollment URL; the store keeps its SHA-256. A token is single use or multi-use, may
 * expire and may name a user. Downloads and enrollments are counted apart: a single-use link
 * stays downloadable until a certificate is issued against one of its challenges, and spending
 * it is one atomic UPDATE.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { guard, newId, type AdminPage } from './admin-store-util.js';

/** An enrollment token as stored (without its secret). */
export interface EnrollmentTokenRecord {
  id: string;
  singleUse: boolean;
  /** Profile downloads. */
  uses: number;
  /** Certificates issued against the challenges of its profiles: a single-use link is spent at 1. */
  enrollments: number;
  expiresAt?: Date;
  user?: string;
  createdAt: Date;
  revokedAt?: Date;
}

/** What creating a token needs. */
export interface NewEnrollmentToken {
  hash: string;
  singleUse: boolean;
  expiresAt?: Date;
  user?: string;
}

/** Enrollment token methods of the admin store. */
export interface TokenMethods {
  createEnrollmentToken(input: NewEnrollmentToken): EnrollmentTokenRecord;
  /**
   * Counts one profile download of the token with this hash when it is unrevoked, unexpired at
   * `now` and (if single use) not yet enrolled with; resolves the updated record, or `undefined`
   * when it may not be used.
   */
  downloadEnrollmentToken(hash: string, now: Date): EnrollmentTokenRecord | undefined;
  /**
   * Counts one enrollment (a certificate issued against one of the token's challenges) when the
   * token is unrevoked, unexpired at `now` and (if single use) not yet enrolled with; resolves the
   * updated record, or `undefined`. Of two concurrent calls on a single-use token one succeeds.
   */
  redeemEnrollmentToken(id: string, now: Date): EnrollmentTokenRecord | undefined;
  listEnrollmentTokens(options: {
    limit: number;
    cursor?: string;
  }): AdminPage<EnrollmentTokenRecord>;
  findEnrollmentToken(id: string): EnrollmentTokenRecord | undefined;
  /** Revokes a token; false when unknown or already revoked. */
  revokeEnrollmentToken(id: string): boolean;
}

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

/** A new enrollment token secret: 32 random bytes, base64url (43 characters). */
export function newTokenSecret(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

const TABLE = 'orchard_admin_enrollment_tokens';
const COLUMNS = 'id, single_use, uses, enrollments, expires_at, user_name, created_at, revoked_at';
/** A token that may still enroll a device at the bound time `?`. */
const USABLE =
  'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (single_use = 0 OR enrollments = 0)';

/**
 * Adds the `enrollments` column to a table created before it existed (in a write transaction, so
 * two processes opening the database at once add it once). A single-use link was spent by its
 * first download then, so such links count as enrolled with and stay spent.
 */
function addEnrollmentsColumn(db: Database.Database): void {
  const add = db.transaction(() => {
    const columns = db.prepare(`PRAGMA table_info(${TABLE})`).all() as { name: string }[];
    if (columns.some((c) => c.name === 'enrollments')) return;
    db.exec(`ALTER TABLE ${TABLE} ADD COLUMN enrollments INTEGER NOT NULL DEFAULT 0`);
    db.exec(`UPDATE ${TABLE} SET enrollments = 1 WHERE single_use = 1 AND uses > 0`);
  });
  guard(() => {
    add.immediate();
  });
}

/** The token methods over an open admin database (adding the `enrollments` column if missing). */
export function tokenMethods(db: Database.Database, clock: () => Date): TokenMethods {
  addEnrollmentsColumn(db);
  const find = (id: string): EnrollmentTokenRecord | undefined => {
    const row = guard(() => db.prepare(`SELECT ${COLUMNS} FROM ${TABLE} WHERE id = ?`).get(id)) as
      Row | undefined;
    return row ? record(row) : undefined;
  };
  const count = (column: 'uses' | 'enrollments', key: 'hash' | 'id', value: string, now: Date) => {
    const row = guard(() =>
      db
        .prepare(
          `UPDATE ${TABLE} SET ${column} = ${column} + 1 WHERE ${key} = ? AND ${USABLE}
           RETURNING ${COLUMNS}`,
        )
        .get(value, now.getTime()),
    ) as Row | undefined;
    return row ? record(row) : undefined;
  };
  return {
    createEnrollmentToken(input) {
      const id = newId('et');
      guard(() =>
        db
          .prepare(
            `INSERT INTO ${TABLE} (id, hash, single_use, expires_at, user_name, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            input.hash,
            input.singleUse ? 1 : 0,
            input.expiresAt?.getTime() ?? null,
            input.user ?? null,
            clock().getTime(),
          ),
      );
      return find(id) as EnrollmentTokenRecord;
    },
    downloadEnrollmentToken: (hash, now) => count('uses', 'hash', hash, now),
    redeemEnrollmentToken: (id, now) => count('enrollments', 'id', id, now),
    listEnrollmentTokens({ limit, cursor }) {
      const rows = guard(() =>
        db
          .prepare(`SELECT ${COLUMNS} FROM ${TABLE} WHERE id > ? ORDER BY id LIMIT ?`)
          .all(cursor ?? '', limit + 1),
      ) as Row[];
      const items = rows.slice(0, limit).map(record);
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
    },
    findEnrollmentToken: find,
    revokeEnrollmentToken: (id) =>
      guard(
        () =>
          db
            .prepare(`UPDATE ${TABLE} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`)
            .run(clock().getTime(), id).changes === 1,
      ),
  };
}

/**
 * Enrollment tokens in the admin tables: the token itself is a 256-bit secret that appears only
 * in the enrollment URL; the store keeps its SHA-256. A token is single use or multi-use, may
 * expire and may name a user; consuming it is one atomic UPDATE.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { guard, newId, type AdminPage } from './admin-store-util.js';

/** An enrollment token as stored (without its secret). */
export interface EnrollmentTokenRecord {
  id: string;
  singleUse: boolean;
  uses: number;
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
   * Counts one use of the token with this hash when it is unrevoked, unexpired at `now` and (if
   * single use) unused; resolves the updated record, or `undefined` when it may not be used.
   */
  consumeEnrollmentToken(hash: string, now: Date): EnrollmentTokenRecord | undefined;
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

const COLUMNS = 'id, single_use, uses, expires_at, user_name, created_at, revoked_at';

/** The token methods over an open admin database. */
export function tokenMethods(db: Database.Database, clock: () => Date): TokenMethods {
  const find = (id: string): EnrollmentTokenRecord | undefined => {
    const row = guard(() =>
      db.prepare(`SELECT ${COLUMNS} FROM orchard_admin_enrollment_tokens WHERE id = ?`).get(id),
    ) as Row | undefined;
    return row ? record(row) : undefined;
  };
  return {
    createEnrollmentToken(input) {
      const id = newId('et');
      guard(() =>
        db
          .prepare(
            `INSERT INTO orchard_admin_enrollment_tokens (id, hash, single_use, expires_at, user_name, created_at)
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
    consumeEnrollmentToken(hash, now) {
      const row = guard(() =>
        db
          .prepare(
            `UPDATE orchard_admin_enrollment_tokens SET uses = uses + 1
             WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
               AND (single_use = 0 OR uses = 0)
             RETURNING ${COLUMNS}`,
          )
          .get(hash, now.getTime()),
      ) as Row | undefined;
      return row ? record(row) : undefined;
    },
    listEnrollmentTokens({ limit, cursor }) {
      const rows = guard(() =>
        db
          .prepare(
            `SELECT ${COLUMNS} FROM orchard_admin_enrollment_tokens WHERE id > ? ORDER BY id LIMIT ?`,
          )
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
            .prepare(
              'UPDATE orchard_admin_enrollment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
            )
            .run(clock().getTime(), id).changes === 1,
      ),
  };
}

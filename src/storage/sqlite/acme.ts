/**
 * The ACME server's state in SQLite (tables `orchard_acme_*`, migration 11). Every one-time step
 * is one statement: `DELETE ... RETURNING` consumes a nonce, `UPDATE ... WHERE status IN (...)
 * RETURNING` moves an order, authorization or challenge, `UPDATE ... WHERE thumbprint = ?`
 * changes an account key, so two daemons on one database never both win.
 */
import type {
  AcmeAccountRecord,
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeOrderRecord,
  AcmeProblemRecord,
  AcmeStore,
} from '../ports.js';
import {
  json,
  toAccount,
  toAuthorization,
  toChallenge,
  toOrder,
  type AccountRow,
  type AuthorizationRow,
  type ChallengeRow,
  type OrderRow,
} from './acme-rows.js';
import { checkDate, checkId } from '../support.js';
import { openSqliteConnection } from './connection.js';
import { op, stmt, writeTx, type SqliteContext } from './db.js';

/** Options of {@link openSqliteAcmeStore}. */
export interface SqliteAcmeStoreOptions {
  /** Database file (created when absent) or `:memory:`. */
  path: string;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
}

/** The {@link AcmeStore} of {@link openSqliteAcmeStore}, with a `close`. */
export interface SqliteAcmeStore extends AcmeStore {
  /** Releases the store's connection; later calls reject with StorageError. */
  close(): void;
}

const marks = (n: number): string => {
  if (n < 1) throw new TypeError('a transition needs at least one status to move from');
  return Array.from({ length: n }, () => '?').join(', ');
};

const INSERT_ACCOUNT = `INSERT INTO orchard_acme_accounts
  (id, thumbprint, jwk, status, contact, created_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (thumbprint) DO NOTHING`;
const INSERT_ORDER = `INSERT INTO orchard_acme_orders (id, account_id, status, identifiers,
  authorization_ids, enrollment_id, created_at, expires_at, error, certificate_serial)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_AUTHZ = `INSERT INTO orchard_acme_authorizations (id, order_id, account_id,
  identifier_type, identifier_value, status, expires_at, bound_key, attested_serial,
  attested_udid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_CHALLENGE = `INSERT INTO orchard_acme_challenges (id, authorization_id, account_id,
  seq, type, token, status, validated_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
// One statement: two consumers of one nonce cannot both get the row.
const TAKE_NONCE = `DELETE FROM orchard_acme_nonces WHERE value = ? RETURNING expires_at`;

function createOrder(
  ctx: SqliteContext,
  order: AcmeOrderRecord,
  authorizations: readonly AcmeAuthorizationRecord[],
  challenges: readonly AcmeChallengeRecord[],
): void {
  writeTx(ctx, () => {
    stmt(ctx, INSERT_ORDER).run(
      ...[order.id, order.accountId, order.status, JSON.stringify(order.identifiers)],
      ...[JSON.stringify(order.authorizationIds), order.enrollmentId ?? null],
      ...[order.createdAt.getTime(), order.expiresAt.getTime(), json(order.error)],
      order.certificateSerial ?? null,
    );
    for (const a of authorizations)
      stmt(ctx, INSERT_AUTHZ).run(
        ...[a.id, a.orderId, a.accountId, a.identifier.type, a.identifier.value, a.status],
        ...[a.expiresAt.getTime(), a.boundKey ?? null, a.attestedSerial ?? null],
        a.attestedUdid ?? null,
      );
    challenges.forEach((c, seq) =>
      stmt(ctx, INSERT_CHALLENGE).run(
        ...[c.id, c.authorizationId, c.accountId, seq, c.type, c.token, c.status],
        ...[c.validatedAt?.getTime() ?? null, json(c.error)],
      ),
    );
  });
}

function purge(ctx: SqliteContext, now: Date, validBefore: Date) {
  return writeTx(ctx, () => {
    const nonces = stmt(ctx, 'DELETE FROM orchard_acme_nonces WHERE expires_at <= ?').run(
      now.getTime(),
    ).changes;
    const doomed = `SELECT id FROM orchard_acme_orders WHERE (status <> 'valid' AND expires_at <= ?)
      OR (status = 'valid' AND expires_at <= ?)`;
    const t = [now.getTime(), validBefore.getTime()];
    stmt(
      ctx,
      `DELETE FROM orchard_acme_challenges WHERE authorization_id IN (SELECT id FROM
        orchard_acme_authorizations WHERE order_id IN (${doomed}))`,
    ).run(...t);
    stmt(ctx, `DELETE FROM orchard_acme_authorizations WHERE order_id IN (${doomed})`).run(...t);
    const orders = stmt(ctx, `DELETE FROM orchard_acme_orders WHERE id IN (${doomed})`).run(
      ...t,
    ).changes;
    return { nonces, orders };
  });
}

function accountPart(ctx: SqliteContext) {
  const byThumbprint = (t: string): AccountRow | undefined =>
    stmt(ctx, 'SELECT * FROM orchard_acme_accounts WHERE thumbprint = ?').get(t) as
      AccountRow | undefined;
  return {
    createAccount: (r: AcmeAccountRecord) =>
      op(ctx, () => {
        checkId(r.id);
        stmt(ctx, INSERT_ACCOUNT).run(
          ...[r.id, r.thumbprint, r.jwk, r.status, JSON.stringify(r.contact)],
          r.createdAt.getTime(),
        );
        return toAccount(byThumbprint(r.thumbprint) as AccountRow);
      }),
    findAccount: (id: string) =>
      op(ctx, () => {
        const row = stmt(ctx, 'SELECT * FROM orchard_acme_accounts WHERE id = ?').get(id) as
          AccountRow | undefined;
        return row && toAccount(row);
      }),
    findAccountByThumbprint: (thumbprint: string) =>
      op(ctx, () => {
        const row = byThumbprint(thumbprint);
        return row && toAccount(row);
      }),
    updateAccount: (id: string, change: { status?: string; contact?: string[] }) =>
      op(ctx, () => {
        const row = stmt(
          ctx,
          `UPDATE orchard_acme_accounts SET status = coalesce(?, status),
            contact = coalesce(?, contact) WHERE id = ? AND status = 'valid' RETURNING *`,
        ).get(change.status ?? null, json(change.contact), id) as AccountRow | undefined;
        return row && toAccount(row);
      }),
    changeAccountKey: (id: string, old: string, next: { thumbprint: string; jwk: string }) =>
      op(ctx, () => {
        try {
          const n = stmt(
            ctx,
            'UPDATE orchard_acme_accounts SET thumbprint = ?, jwk = ? WHERE id = ? AND thumbprint = ?',
          ).run(next.thumbprint, next.jwk, id, old).changes;
          return n === 1 ? ('changed' as const) : ('stale' as const);
        } catch (cause) {
          if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
            return 'conflict' as const;
          throw cause;
        }
      }),
  };
}

function findPart(ctx: SqliteContext) {
  const row = (table: string, id: string): unknown =>
    stmt(ctx, `SELECT * FROM ${table} WHERE id = ?`).get(id);
  return {
    findOrder: (id: string) =>
      op(ctx, () => {
        const r = row('orchard_acme_orders', id) as OrderRow | undefined;
        return r && toOrder(r);
      }),
    findAuthorization: (id: string) =>
      op(ctx, () => {
        const r = row('orchard_acme_authorizations', id) as AuthorizationRow | undefined;
        return r && toAuthorization(r);
      }),
    findChallenge: (id: string) =>
      op(ctx, () => {
        const r = row('orchard_acme_challenges', id) as ChallengeRow | undefined;
        return r && toChallenge(r);
      }),
    listChallenges: (authorizationId: string) =>
      op(ctx, () =>
        (
          stmt(
            ctx,
            'SELECT * FROM orchard_acme_challenges WHERE authorization_id = ? ORDER BY seq',
          ).all(authorizationId) as ChallengeRow[]
        ).map(toChallenge),
      ),
  };
}

function transitionPart(ctx: SqliteContext) {
  return {
    updateOrder: (
      id: string,
      from: readonly string[],
      c: { status: string; error?: AcmeProblemRecord; certificateSerial?: string },
    ) =>
      op(ctx, () => {
        const sql = `UPDATE orchard_acme_orders SET status = ?, error = coalesce(?, error),
          certificate_serial = coalesce(?, certificate_serial)
          WHERE id = ? AND status IN (${marks(from.length)}) RETURNING *`;
        const args = [c.status, json(c.error), c.certificateSerial ?? null, id, ...from];
        const row = stmt(ctx, sql).get(...args) as OrderRow | undefined;
        return row && toOrder(row);
      }),
    updateAuthorization: (
      id: string,
      from: readonly string[],
      c: { status: string; boundKey?: Buffer; attestedSerial?: string; attestedUdid?: string },
    ) =>
      op(ctx, () => {
        const sql = `UPDATE orchard_acme_authorizations SET status = ?,
          bound_key = coalesce(?, bound_key), attested_serial = coalesce(?, attested_serial),
          attested_udid = coalesce(?, attested_udid)
          WHERE id = ? AND status IN (${marks(from.length)}) RETURNING *`;
        const fields = [c.boundKey ?? null, c.attestedSerial ?? null, c.attestedUdid ?? null];
        const row = stmt(ctx, sql).get(c.status, ...fields, id, ...from) as
          AuthorizationRow | undefined;
        return row && toAuthorization(row);
      }),
    updateChallenge: (
      id: string,
      from: readonly string[],
      c: { status: string; validatedAt?: Date; error?: AcmeProblemRecord },
    ) =>
      op(ctx, () => {
        const sql = `UPDATE orchard_acme_challenges SET status = ?,
          validated_at = coalesce(?, validated_at), error = coalesce(?, error)
          WHERE id = ? AND status IN (${marks(from.length)}) RETURNING *`;
        const args = [c.status, c.validatedAt?.getTime() ?? null, json(c.error), id, ...from];
        const row = stmt(ctx, sql).get(...args) as ChallengeRow | undefined;
        return row && toChallenge(row);
      }),
  };
}

/** The {@link AcmeStore} on a connection context (`openSqliteDatabase`'s `acme`). */
export function sqliteAcmeStore(ctx: SqliteContext): AcmeStore {
  return {
    putNonce: (nonce, expiresAt) =>
      op(ctx, () => {
        checkId(nonce, 'nonce');
        checkDate(expiresAt, 'expiresAt');
        stmt(
          ctx,
          'INSERT OR REPLACE INTO orchard_acme_nonces (value, expires_at) VALUES (?, ?)',
        ).run(nonce, expiresAt.getTime());
      }),
    consumeNonce: (nonce, now) =>
      op(ctx, () => {
        const row = stmt(ctx, TAKE_NONCE).get(nonce) as { expires_at: number } | undefined;
        return row !== undefined && row.expires_at > now.getTime();
      }),
    ...accountPart(ctx),
    createOrder: (order, authorizations, challenges) =>
      op(ctx, () => {
        createOrder(ctx, order, authorizations, challenges);
      }),
    ...findPart(ctx),
    ...transitionPart(ctx),
    purgeAcme: (now, validBefore) => op(ctx, () => purge(ctx, now, validBefore)),
  };
}

/**
 * Opens (creating and migrating as needed) the ACME store of a SQLite file on a connection of
 * its own. Throws StorageError when the file cannot be opened or migrated.
 */
export function openSqliteAcmeStore(options: SqliteAcmeStoreOptions): SqliteAcmeStore {
  const { ctx, release } = openSqliteConnection({
    ...options,
    checkSecrets: false,
    fileMode: null,
  }).part();
  return { ...sqliteAcmeStore(ctx), close: release };
}

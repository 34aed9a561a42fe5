/**
 * The ACME server's state in PostgreSQL (tables `orchard_acme_*`, migration 3), shared by every
 * daemon on the database. Every one-time step is one conditional statement: `DELETE ...
 * RETURNING` consumes a nonce, `UPDATE ... WHERE status = ANY(...) RETURNING` moves an order,
 * authorization or challenge, `UPDATE ... WHERE thumbprint = $n` changes an account key, so of
 * two daemons racing exactly one wins. An order is written with its authorizations and
 * challenges in one statement.
 */
import type {
  AcmeAccountRecord,
  AcmeAuthorizationChange,
  AcmeAuthorizationRecord,
  AcmeChallengeChange,
  AcmeChallengeRecord,
  AcmeOrderChange,
  AcmeOrderRecord,
  AcmePurgeResult,
  AcmeStore,
} from '../ports.js';
import { checkDate, checkId } from '../support.js';
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
import { isUniqueViolation, one, op, query, run, tx, type PgContext } from './db.js';

const PUT_NONCE = `INSERT INTO orchard_acme_nonces (value, expires_at) VALUES ($1, $2)
  ON CONFLICT (value) DO UPDATE SET expires_at = excluded.expires_at`;
// One statement: of two consumers of one nonce only one gets the row. An expired nonce goes too.
const TAKE_NONCE = 'DELETE FROM orchard_acme_nonces WHERE value = $1 RETURNING expires_at';

const INSERT_ACCOUNT = `INSERT INTO orchard_acme_accounts
  (id, thumbprint, jwk, status, contact, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
  ON CONFLICT (thumbprint) DO NOTHING RETURNING *`;
const ACCOUNT_BY_ID = 'SELECT * FROM orchard_acme_accounts WHERE id = $1';
const ACCOUNT_BY_THUMBPRINT = 'SELECT * FROM orchard_acme_accounts WHERE thumbprint = $1';
const UPDATE_ACCOUNT = `UPDATE orchard_acme_accounts SET status = coalesce($1, status),
  contact = coalesce($2::jsonb, contact) WHERE id = $3 AND status = 'valid' RETURNING *`;
const CHANGE_KEY = `UPDATE orchard_acme_accounts SET thumbprint = $1, jwk = $2
  WHERE id = $3 AND thumbprint = $4`;

// The order, its authorizations and its challenges in one statement (all or nothing).
const INSERT_ORDER = `WITH o AS (
    INSERT INTO orchard_acme_orders (id, account_id, status, identifiers, authorization_ids,
      enrollment_id, created_at, expires_at, error, certificate_serial)
    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9::jsonb, $10)
  ), a AS (
    INSERT INTO orchard_acme_authorizations (id, order_id, account_id, identifier_type,
      identifier_value, status, expires_at, bound_key, attested_serial, attested_udid)
    SELECT * FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
      $16::text[], $17::timestamptz[], $18::bytea[], $19::text[], $20::text[])
  )
  INSERT INTO orchard_acme_challenges (id, authorization_id, account_id, seq, type, token,
    status, validated_at, error)
  SELECT * FROM unnest($21::text[], $22::text[], $23::text[], $24::integer[], $25::text[],
    $26::text[], $27::text[], $28::timestamptz[], $29::jsonb[])`;

const UPDATE_ORDER = `UPDATE orchard_acme_orders SET status = $1, error = coalesce($2::jsonb, error),
  certificate_serial = coalesce($3, certificate_serial)
  WHERE id = $4 AND status = ANY($5::text[]) RETURNING *`;
const UPDATE_AUTHORIZATION = `UPDATE orchard_acme_authorizations SET status = $1,
  bound_key = coalesce($2, bound_key), attested_serial = coalesce($3, attested_serial),
  attested_udid = coalesce($4, attested_udid)
  WHERE id = $5 AND status = ANY($6::text[]) RETURNING *`;
const UPDATE_CHALLENGE = `UPDATE orchard_acme_challenges SET status = $1,
  validated_at = coalesce($2, validated_at), error = coalesce($3::jsonb, error)
  WHERE id = $4 AND status = ANY($5::text[]) RETURNING *`;

// Expired nonces, and expired orders with their authorizations and challenges, in one statement.
const PURGE = `WITH doomed AS (
    SELECT id FROM orchard_acme_orders
     WHERE (status <> 'valid' AND expires_at <= $1) OR (status = 'valid' AND expires_at <= $2)
  ), n AS (
    DELETE FROM orchard_acme_nonces WHERE expires_at <= $1 RETURNING 1
  ), a AS (
    DELETE FROM orchard_acme_authorizations WHERE order_id IN (SELECT id FROM doomed) RETURNING id
  ), c AS (
    DELETE FROM orchard_acme_challenges WHERE authorization_id IN (SELECT id FROM a) RETURNING 1
  ), o AS (
    DELETE FROM orchard_acme_orders WHERE id IN (SELECT id FROM doomed) RETURNING 1
  )
  SELECT (SELECT count(*) FROM n)::int AS nonces, (SELECT count(*) FROM o)::int AS orders`;

/** Throws TypeError for a transition from no status (API misuse). */
function statuses(from: readonly string[]): readonly string[] {
  if (from.length === 0) throw new TypeError('a transition needs at least one status to move from');
  return from;
}

function orderValues(
  order: AcmeOrderRecord,
  authorizations: readonly AcmeAuthorizationRecord[],
  challenges: readonly AcmeChallengeRecord[],
): unknown[] {
  const a = authorizations;
  const c = challenges;
  return [
    ...[order.id, order.accountId, order.status, json(order.identifiers)],
    ...[json(order.authorizationIds), order.enrollmentId ?? null],
    ...[order.createdAt, order.expiresAt, json(order.error), order.certificateSerial ?? null],
    ...[a.map((x) => x.id), a.map((x) => x.orderId), a.map((x) => x.accountId)],
    ...[a.map((x) => x.identifier.type), a.map((x) => x.identifier.value)],
    ...[a.map((x) => x.status), a.map((x) => x.expiresAt), a.map((x) => x.boundKey ?? null)],
    ...[a.map((x) => x.attestedSerial ?? null), a.map((x) => x.attestedUdid ?? null)],
    ...[c.map((x) => x.id), c.map((x) => x.authorizationId), c.map((x) => x.accountId)],
    ...[c.map((_, seq) => seq), c.map((x) => x.type), c.map((x) => x.token)],
    ...[c.map((x) => x.status), c.map((x) => x.validatedAt ?? null), c.map((x) => json(x.error))],
  ];
}

function checkOrder(
  order: AcmeOrderRecord,
  authorizations: readonly AcmeAuthorizationRecord[],
  challenges: readonly AcmeChallengeRecord[],
): void {
  checkId(order.id, 'order id');
  checkDate(order.createdAt, 'createdAt');
  checkDate(order.expiresAt, 'expiresAt');
  for (const a of authorizations) {
    checkId(a.id, 'authorization id');
    checkDate(a.expiresAt, 'expiresAt');
  }
  for (const c of challenges) checkId(c.id, 'challenge id');
}

function accountPart(ctx: PgContext) {
  const byThumbprint = async (thumbprint: string) => {
    const row = await one<AccountRow>(ctx.pool, ACCOUNT_BY_THUMBPRINT, [thumbprint]);
    return row && toAccount(row);
  };
  return {
    createAccount: (r: AcmeAccountRecord) =>
      op(ctx, async () => {
        checkId(r.id);
        checkId(r.thumbprint, 'thumbprint');
        const values = [r.id, r.thumbprint, r.jwk, r.status, json(r.contact), r.createdAt];
        const created = await one<AccountRow>(ctx.pool, INSERT_ACCOUNT, values);
        if (created !== undefined) return toAccount(created);
        // Another account has this key: it is the one (a later statement sees it committed).
        const existing = await byThumbprint(r.thumbprint);
        if (existing === undefined) throw new Error('the account with this key vanished');
        return existing;
      }),
    findAccount: (id: string) =>
      op(ctx, async () => {
        const row = await one<AccountRow>(ctx.pool, ACCOUNT_BY_ID, [id]);
        return row && toAccount(row);
      }),
    findAccountByThumbprint: (thumbprint: string) => op(ctx, () => byThumbprint(thumbprint)),
    updateAccount: (id: string, change: { status?: string; contact?: string[] }) =>
      op(ctx, async () => {
        const values = [change.status ?? null, json(change.contact), id];
        const row = await one<AccountRow>(ctx.pool, UPDATE_ACCOUNT, values);
        return row && toAccount(row);
      }),
    changeAccountKey: (id: string, old: string, next: { thumbprint: string; jwk: string }) =>
      op(ctx, async () => {
        try {
          const n = await run(ctx.pool, CHANGE_KEY, [next.thumbprint, next.jwk, id, old]);
          return n === 1 ? ('changed' as const) : ('stale' as const);
        } catch (cause) {
          if (isUniqueViolation(cause, 'orchard_acme_accounts_thumbprint'))
            return 'conflict' as const;
          throw cause;
        }
      }),
  };
}

function findPart(ctx: PgContext) {
  const byId = <R>(table: string, id: string): Promise<R | undefined> =>
    one<R>(ctx.pool, `SELECT * FROM ${table} WHERE id = $1`, [id]);
  return {
    findOrder: (id: string) =>
      op(ctx, async () => {
        const r = await byId<OrderRow>('orchard_acme_orders', id);
        return r && toOrder(r);
      }),
    findAuthorization: (id: string) =>
      op(ctx, async () => {
        const r = await byId<AuthorizationRow>('orchard_acme_authorizations', id);
        return r && toAuthorization(r);
      }),
    findChallenge: (id: string) =>
      op(ctx, async () => {
        const r = await byId<ChallengeRow>('orchard_acme_challenges', id);
        return r && toChallenge(r);
      }),
    listChallenges: (authorizationId: string) =>
      op(ctx, async () =>
        (
          await query<ChallengeRow>(
            ctx.pool,
            'SELECT * FROM orchard_acme_challenges WHERE authorization_id = $1 ORDER BY seq',
            [authorizationId],
          )
        ).map(toChallenge),
      ),
  };
}

function transitionPart(ctx: PgContext) {
  return {
    updateOrder: (id: string, from: readonly string[], c: AcmeOrderChange) =>
      op(ctx, async () => {
        const values = [c.status, json(c.error), c.certificateSerial ?? null, id];
        const row = await one<OrderRow>(ctx.pool, UPDATE_ORDER, [...values, statuses(from)]);
        return row && toOrder(row);
      }),
    updateAuthorization: (id: string, from: readonly string[], c: AcmeAuthorizationChange) =>
      op(ctx, async () => {
        const fields = [c.boundKey ?? null, c.attestedSerial ?? null, c.attestedUdid ?? null];
        const values = [c.status, ...fields, id, statuses(from)];
        const row = await one<AuthorizationRow>(ctx.pool, UPDATE_AUTHORIZATION, values);
        return row && toAuthorization(row);
      }),
    updateChallenge: (id: string, from: readonly string[], c: AcmeChallengeChange) =>
      op(ctx, async () => {
        const values = [c.status, c.validatedAt ?? null, json(c.error), id, statuses(from)];
        const row = await one<ChallengeRow>(ctx.pool, UPDATE_CHALLENGE, values);
        return row && toChallenge(row);
      }),
  };
}

/**
 * The {@link AcmeStore} on a context of the pool (`openPostgresDatabase`'s `acme`). Rejects with
 * StorageError on a database fault or after close, TypeError on misuse.
 */
export function pgAcmeStore(ctx: PgContext): AcmeStore {
  return {
    putNonce: (nonce, expiresAt) =>
      op(ctx, async () => {
        checkId(nonce, 'nonce');
        checkDate(expiresAt, 'expiresAt');
        await run(ctx.pool, PUT_NONCE, [nonce, expiresAt]);
      }),
    consumeNonce: (nonce, now) =>
      op(ctx, async () => {
        const row = await one<{ expires_at: Date }>(ctx.pool, TAKE_NONCE, [nonce]);
        return row !== undefined && row.expires_at.getTime() > now.getTime();
      }),
    ...accountPart(ctx),
    createOrder: (order, authorizations, challenges) =>
      op(ctx, async () => {
        checkOrder(order, authorizations, challenges);
        await run(ctx.pool, INSERT_ORDER, orderValues(order, authorizations, challenges));
      }),
    ...findPart(ctx),
    ...transitionPart(ctx),
    // Two daemons sweeping together could lock the same rows in another order: tx retries that.
    purgeAcme: (now, validBefore) =>
      tx(ctx, async (client) => {
        const row = await one<AcmePurgeResult>(client, PURGE, [now, validBefore]);
        return { nonces: row?.nonces ?? 0, orders: row?.orders ?? 0 };
      }),
  };
}

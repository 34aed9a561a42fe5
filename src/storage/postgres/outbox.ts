/**
 * PostgreSQL adapter: the webhook outbox. Daemons sharing the database claim due entries with
 * `FOR UPDATE SKIP LOCKED` under a lease, so no entry is handed to two workers; with a secrets
 * keyring every payload is sealed ('webhook-event', bound to its event id). Owner: area B.
 */
import type { OutboxEntry, OutboxEvent, OutboxStore } from '../ports.js';
import { checkDate, checkId } from '../support.js';
import type { PgContext, Queryable } from './db.js';
import { op, query, run, setIf } from './db.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  payload: Uint8Array;
  created_at: Date;
  attempts: number;
  next_attempt_at: Date;
  lease_until: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  dead_at: Date | null;
}

/** Rows deleted per statement by {@link purgeDelivered}, so a purge never holds locks long. */
const PURGE_BATCH = 2000;

const COLUMNS = `seq, id, type, payload, created_at, attempts, next_attempt_at, lease_until,
  last_error, delivered_at, dead_at`;

function toEntry(ctx: PgContext, row: OutboxRow): OutboxEntry {
  const payload = fromStore(ctx, 'webhook-event', row.id, row.payload);
  const entry: OutboxEntry = {
    id: row.id,
    type: row.type,
    payload: Buffer.from(payload).toString('utf8'),
    createdAt: row.created_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
  };
  setIf(entry, 'leaseUntil', row.lease_until);
  setIf(entry, 'lastError', row.last_error);
  setIf(entry, 'deliveredAt', row.delivered_at);
  setIf(entry, 'deadAt', row.dead_at);
  return entry;
}

/**
 * Leases up to `limit` due entries in one statement: the due rows are locked oldest first with
 * SKIP LOCKED (rows another daemon is claiming are passed over, never waited for), and a row
 * another claim leased meanwhile fails the re-check of `lease_until` under its new version.
 */
async function claimDue(
  ctx: PgContext,
  limit: number,
  now: Date,
  leaseMs: number,
): Promise<OutboxEntry[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('limit must be a positive integer');
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new TypeError('leaseMs must be positive');
  checkDate(now, 'now');
  const rows = await query<OutboxRow>(
    ctx.pool,
    `UPDATE outbox o SET attempts = o.attempts + 1, lease_until = $2
     FROM (SELECT seq FROM outbox
           WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1
             AND (lease_until IS NULL OR lease_until <= $1)
           ORDER BY created_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED) due
     WHERE o.seq = due.seq
     RETURNING o.seq, o.id, o.type, o.payload, o.created_at, o.attempts, o.next_attempt_at,
       o.lease_until, o.last_error, o.delivered_at, o.dead_at`,
    [now, new Date(now.getTime() + leaseMs), limit],
  );
  rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.seq - b.seq);
  return rows.map((row) => toEntry(ctx, row));
}

/**
 * Inserts `event`, due at once, on `on` (inside the caller's transaction, so a state change and
 * the event reporting it commit together), sealed when the store has a keyring. Rejects with
 * TypeError on a bad field or an id already stored (without aborting the caller's transaction
 * on the driver side: the conflict is detected by `ON CONFLICT DO NOTHING`).
 */
export async function insertOutboxEvent(
  on: Queryable,
  ctx: PgContext,
  event: OutboxEvent,
): Promise<void> {
  checkId(event.id, 'event id');
  checkId(event.type, 'event type');
  checkDate(event.createdAt, 'createdAt');
  if (typeof event.payload !== 'string') throw new TypeError('payload must be a string');
  const payload = toStore(ctx, 'webhook-event', event.id, Buffer.from(event.payload, 'utf8'));
  const inserted = await run(
    on,
    `INSERT INTO outbox (id, type, payload, created_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING`,
    [event.id, event.type, payload, event.createdAt],
  );
  if (inserted === 0) throw new TypeError(`event ${event.id} is already stored`);
}

async function markFailed(
  ctx: PgContext,
  id: string,
  nextAttemptAt: Date | undefined,
  error: string,
): Promise<void> {
  if (nextAttemptAt === undefined) {
    const sql = `UPDATE outbox SET dead_at = $1, last_error = $2, lease_until = NULL
      WHERE id = $3`;
    await run(ctx.pool, sql, [ctx.clock(), error, id]);
    return;
  }
  checkDate(nextAttemptAt, 'nextAttemptAt');
  const sql = `UPDATE outbox SET next_attempt_at = $1, last_error = $2, lease_until = NULL
    WHERE id = $3`;
  await run(ctx.pool, sql, [nextAttemptAt, error, id]);
}

/** Deletes delivered entries in batches of {@link PURGE_BATCH}, one short statement each. */
async function purgeDelivered(ctx: PgContext, olderThan: Date): Promise<number> {
  checkDate(olderThan, 'olderThan');
  let total = 0;
  for (;;) {
    const deleted = await op(ctx, () =>
      run(
        ctx.pool,
        `DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
           WHERE delivered_at IS NOT NULL AND delivered_at < $1
           LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)`,
        [olderThan],
      ),
    );
    total += deleted;
    if (deleted < PURGE_BATCH) return total;
  }
}

/** The {@link OutboxStore} on a context. */
export function pgOutbox(ctx: PgContext): OutboxStore {
  return {
    enqueueEvent: (event) => op(ctx, () => insertOutboxEvent(ctx.pool, ctx, event)),
    claimDue: (limit, now, leaseMs) => op(ctx, () => claimDue(ctx, limit, now, leaseMs)),
    markDelivered: (id, at) =>
      op(ctx, async () => {
        checkDate(at, 'at');
        const sql = 'UPDATE outbox SET delivered_at = $1, lease_until = NULL WHERE id = $2';
        await run(ctx.pool, sql, [at, id]);
      }),
    markFailed: (id, nextAttemptAt, error) =>
      op(ctx, () => markFailed(ctx, id, nextAttemptAt, error)),
    findOutboxEntry: (id) =>
      op(ctx, async () => {
        const rows = await query<OutboxRow>(
          ctx.pool,
          `SELECT ${COLUMNS} FROM outbox WHERE id = $1`,
          [id],
        );
        return rows[0] === undefined ? undefined : toEntry(ctx, rows[0]);
      }),
    purgeDelivered: (olderThan) => purgeDelivered(ctx, olderThan),
  };
}

/**
 * SQLite adapter: the event outbox. With a secrets keyring every payload is sealed (it may carry
 * a device's raw check-in, UnlockToken included), bound to its event id; a plain TEXT payload
 * written before sealing still reads.
 */
import type { OutboxEntry, OutboxEvent, OutboxStore } from '../ports.js';
import { checkDate, checkId } from '../support.js';
import type { SqliteContext } from './db.js';
import { date, op, setIf, stmt, writeTx } from './db.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface OutboxRow {
  seq: number;
  id: string;
  type: string;
  payload: string | Uint8Array;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  delivered_at: number | null;
  dead_at: number | null;
}

const OPEN = 'delivered_at IS NULL AND dead_at IS NULL';

function payloadOf(ctx: SqliteContext, row: OutboxRow): string {
  if (typeof row.payload === 'string') return row.payload;
  return Buffer.from(fromStore(ctx, 'webhook-event', row.id, row.payload)).toString('utf8');
}

function toEntry(ctx: SqliteContext, row: OutboxRow): OutboxEntry {
  const entry: OutboxEntry = {
    id: row.id,
    type: row.type,
    payload: payloadOf(ctx, row),
    createdAt: date(row.created_at),
    attempts: row.attempts,
    nextAttemptAt: date(row.next_attempt_at),
  };
  setIf(entry, 'leaseUntil', row.lease_until === null ? null : date(row.lease_until));
  setIf(entry, 'lastError', row.last_error);
  setIf(entry, 'deliveredAt', row.delivered_at === null ? null : date(row.delivered_at));
  setIf(entry, 'deadAt', row.dead_at === null ? null : date(row.dead_at));
  return entry;
}

function claimDue(ctx: SqliteContext, limit: number, now: Date, leaseMs: number): OutboxEntry[] {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('limit must be a positive integer');
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new TypeError('leaseMs must be positive');
  checkDate(now, 'now');
  const t = now.getTime();
  // IMMEDIATE takes the write lock before reading, so two processes cannot claim the same rows.
  return writeTx(ctx, () => {
    const rows = stmt(
      ctx,
      `SELECT * FROM outbox WHERE ${OPEN} AND next_attempt_at <= ?
         AND (lease_until IS NULL OR lease_until <= ?)
       ORDER BY created_at, seq LIMIT ?`,
    ).all(t, t, limit) as OutboxRow[];
    const lease = stmt(
      ctx,
      'UPDATE outbox SET attempts = attempts + 1, lease_until = ? WHERE seq = ?',
    );
    return rows.map((row) => {
      lease.run(t + leaseMs, row.seq);
      return toEntry(ctx, { ...row, attempts: row.attempts + 1, lease_until: t + leaseMs });
    });
  });
}

/**
 * Inserts `event`, due at once, in the caller's transaction (so a state change and the event
 * reporting it commit together). Throws TypeError on a bad field or an id already stored.
 */
export function insertOutboxEvent(ctx: SqliteContext, event: OutboxEvent): void {
  checkId(event.id, 'event id');
  checkId(event.type, 'event type');
  checkDate(event.createdAt, 'createdAt');
  if (stmt(ctx, 'SELECT 1 FROM outbox WHERE id = ?').get(event.id) !== undefined) {
    throw new TypeError(`event ${event.id} is already stored`);
  }
  const at = event.createdAt.getTime();
  const payload =
    ctx.secrets === undefined
      ? event.payload
      : toStore(ctx, 'webhook-event', event.id, Buffer.from(event.payload, 'utf8'));
  stmt(
    ctx,
    `INSERT INTO outbox (id, type, payload, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?)`,
  ).run(event.id, event.type, payload, at, at);
}

/** The {@link OutboxStore} of the SQLite adapter. */
export function sqliteOutbox(ctx: SqliteContext): OutboxStore {
  return {
    enqueueEvent: (event) =>
      op(ctx, () => {
        writeTx(ctx, () => {
          insertOutboxEvent(ctx, event);
        });
      }),
    claimDue: (limit, now, leaseMs) => op(ctx, () => claimDue(ctx, limit, now, leaseMs)),
    markDelivered: (id, at) =>
      op(ctx, () => {
        const sql = 'UPDATE outbox SET delivered_at = ?, lease_until = NULL WHERE id = ?';
        stmt(ctx, sql).run(at.getTime(), id);
      }),
    markFailed: (id, nextAttemptAt, error) =>
      op(ctx, () => {
        if (nextAttemptAt === undefined) {
          const sql = `UPDATE outbox SET dead_at = ?, last_error = ?, lease_until = NULL
            WHERE id = ?`;
          stmt(ctx, sql).run(ctx.clock().getTime(), error, id);
          return;
        }
        const sql = `UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_until = NULL
          WHERE id = ?`;
        stmt(ctx, sql).run(nextAttemptAt.getTime(), error, id);
      }),
    findOutboxEntry: (id) =>
      op(ctx, () => {
        const row = stmt(ctx, 'SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
        return row === undefined ? undefined : toEntry(ctx, row);
      }),
    purgeDelivered: (olderThan) =>
      op(ctx, () => {
        const sql = 'DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?';
        return stmt(ctx, sql).run(olderThan.getTime()).changes;
      }),
  };
}

/** PostgreSQL adapter: the webhook outbox: events, leases (SKIP LOCKED), delivery marks, retention. Owner: area B (stub until written). */
import type { OutboxEvent, OutboxStore } from '../ports.js';
import type { PgContext, Queryable } from './db.js';

/** The {@link OutboxStore} on a context. */
export function pgOutbox(ctx: PgContext): OutboxStore {
  void ctx;
  return {} as OutboxStore;
}

/** Inserts `event` on `on` (inside the transaction of the caller), sealed when the store has a keyring. */
export function insertOutboxEvent(
  on: Queryable,
  ctx: PgContext,
  event: OutboxEvent,
): Promise<void> {
  void on;
  void ctx;
  void event;
  return Promise.reject(new Error('not implemented'));
}

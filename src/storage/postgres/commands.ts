/** PostgreSQL adapter: the command queue: enqueue, next command (SKIP LOCKED), results, push outcomes, expiry, retention. Owner: area B (stub until written). */
import type { CommandQueue } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link CommandQueue} on a context. */
export function pgCommands(ctx: PgContext): CommandQueue {
  void ctx;
  return {} as CommandQueue;
}

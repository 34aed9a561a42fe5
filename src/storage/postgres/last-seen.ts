/** PostgreSQL adapter: last-seen instants buffered and written in batches (sorted ids, one statement), so concurrent daemons never deadlock on them. Owner: area A (stub until written). */
import type { PgContext } from './db.js';

/** Buffered last-seen writes. */
export interface PgLastSeen {
  /** Records `at` for each id (written at the next flush; reads see it at once). */
  touch(ids: readonly string[], at: Date): void;
  /** The buffered instant of `id`, if any newer than stored. */
  pending(id: string): Date | undefined;
  /** Writes everything buffered now. */
  flush(): Promise<void>;
  /** Stops the timer (flush separately). */
  stop(): void;
}

/** A buffer flushed every `flushMs` (0 writes through on each touch). */
export function createPgLastSeen(ctx: PgContext, flushMs: number): PgLastSeen {
  void ctx;
  void flushMs;
  return {} as PgLastSeen;
}

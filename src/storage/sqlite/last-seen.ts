/**
 * Write-behind for `lastSeenAt`: every check-in touches it, and a write transaction per request
 * would cost more than the rest of the request's storage work. Touches are buffered (latest
 * instant per id) and written in one transaction every `flushMs`; reads overlay the buffer, so
 * the adapter still reads its own writes. A failed flush keeps the buffer for the next one.
 */
import type { EnrollmentRecord } from '../ports.js';
import type { SqliteContext } from './db.js';
import { stmt, writeTx } from './db.js';

/** The buffer and its flushing. */
export interface LastSeenBuffer {
  touch(ids: readonly string[], at: Date): void;
  /** The record with any buffered `lastSeenAt` applied. */
  overlay(record: EnrollmentRecord): EnrollmentRecord;
  /** Writes the buffer now (also called by `close()`). */
  flush(): void;
  /** Stops the timer. */
  stop(): void;
}

/** Creates the buffer; with `flushMs` 0 every touch is written at once. */
export function createLastSeenBuffer(ctx: SqliteContext, flushMs: number): LastSeenBuffer {
  const pending = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  const write = (entries: [string, number][]): void => {
    const update = stmt(
      ctx,
      'UPDATE enrollments SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?',
    );
    writeTx(ctx, () => {
      for (const [id, at] of entries) update.run(at, id);
    });
  };

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0 || ctx.closed) return;
    const entries = [...pending];
    pending.clear();
    try {
      write(entries);
    } catch (error) {
      for (const [id, at] of entries) pending.set(id, Math.max(at, pending.get(id) ?? 0));
      throw error;
    }
  };

  return {
    touch(ids, at) {
      const t = at.getTime();
      if (flushMs === 0) {
        write(ids.map((id) => [id, t]));
        return;
      }
      for (const id of ids) pending.set(id, Math.max(t, pending.get(id) ?? 0));
      if (timer === undefined) {
        timer = setTimeout(() => {
          try {
            flush();
          } catch {
            // kept in the buffer; the next touch schedules another flush
          }
        }, flushMs);
        timer.unref();
      }
    },
    overlay(record) {
      const at = pending.get(record.id);
      if (at !== undefined && at > (record.lastSeenAt?.getTime() ?? 0)) {
        record.lastSeenAt = new Date(at);
      }
      return record;
    },
    flush,
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

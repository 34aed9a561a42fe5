/**
 * PostgreSQL adapter: last-seen instants buffered and written in batches. Every check-in touches
 * `last_seen_at`, and a statement per request would cost more than the rest of its storage work,
 * so touches are kept (latest instant per id) and written every `flushMs` in one statement per
 * batch. That statement locks its rows in id order before updating them, so two daemons flushing
 * overlapping ids at once wait for each other instead of deadlocking. Reads overlay what is
 * buffered or being written, so a store reads its own writes; a failed flush keeps its instants
 * for the next one.
 */
import { chunks, compareBytes } from '../policies-check.js';
import { run, type PgContext } from './db.js';

/** Buffered last-seen writes. */
export interface PgLastSeen {
  /**
   * Records `at` for each id: buffered (resolves at once), or with `flushMs` 0 written before it
   * resolves. Never moves a stored instant backwards; unknown ids are ignored when written.
   */
  touch(ids: readonly string[], at: Date): Promise<void>;
  /** The buffered (or being written) instant of `id`, if any. */
  pending(id: string): Date | undefined;
  /** Writes everything buffered now; rejects (keeping it buffered) when the write fails. */
  flush(): Promise<void>;
  /** Stops the timer (flush separately). */
  stop(): void;
}

/** Ids per statement: bounds one statement's locks and parameters. */
const BATCH = 5000;

/**
 * Locks the rows to move forward in id order (`MATERIALIZED`: the locking runs first, whole),
 * then writes them; rows already at or past the instant are neither locked nor written.
 */
const WRITE = `WITH v AS MATERIALIZED (
    SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS v (id, at)),
  locked AS MATERIALIZED (
    SELECT e.id FROM enrollments e JOIN v ON v.id = e.id
     WHERE e.last_seen_at IS NULL OR e.last_seen_at < v.at
     ORDER BY e.id FOR NO KEY UPDATE OF e)
  UPDATE enrollments e SET last_seen_at = v.at FROM locked l JOIN v ON v.id = l.id
   WHERE e.id = l.id AND (e.last_seen_at IS NULL OR e.last_seen_at < v.at)`;

async function write(ctx: PgContext, entries: Map<string, number>): Promise<void> {
  const ids = [...entries.keys()].sort(compareBytes);
  for (const batch of chunks(ids, BATCH)) {
    const at = batch.map((id) => new Date(entries.get(id) ?? 0));
    await run(ctx.pool, WRITE, [batch, at]);
  }
}

function keepLatest(into: Map<string, number>, id: string, at: number): void {
  const known = into.get(id);
  if (known === undefined || at > known) into.set(id, at);
}

/** A buffer flushed every `flushMs` (0 writes through on each touch). */
export function createPgLastSeen(ctx: PgContext, flushMs: number): PgLastSeen {
  let buffered = new Map<string, number>();
  const writing = new Set<Map<string, number>>();
  let timer: NodeJS.Timeout | undefined;

  const flights = new Set<Promise<void>>();

  /** Writes what is buffered now; also waits for writes already under way (close needs both). */
  const flush = async (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const earlier = [...flights];
    if (buffered.size > 0) {
      const entries = buffered;
      buffered = new Map();
      writing.add(entries);
      const flight: Promise<void> = write(ctx, entries)
        .catch((error: unknown) => {
          for (const [id, at] of entries) keepLatest(buffered, id, at);
          throw error;
        })
        .finally(() => {
          writing.delete(entries);
          flights.delete(flight);
        });
      flights.add(flight);
      await flight;
    }
    await Promise.allSettled(earlier);
  };

  const schedule = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      // kept in the buffer on failure; the next touch schedules another flush
      flush().catch(() => undefined);
    }, flushMs);
    timer.unref();
  };

  return {
    async touch(ids, at) {
      const t = at.getTime();
      if (flushMs === 0) {
        await write(ctx, new Map(ids.map((id) => [id, t])));
        return;
      }
      for (const id of ids) keepLatest(buffered, id, t);
      schedule();
    },
    pending(id) {
      let latest = buffered.get(id);
      for (const entries of writing) {
        const at = entries.get(id);
        if (at !== undefined && (latest === undefined || at > latest)) latest = at;
      }
      return latest === undefined ? undefined : new Date(latest);
    },
    flush,
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

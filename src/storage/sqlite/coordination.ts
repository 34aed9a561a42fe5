/**
 * Coordination between the processes sharing one SQLite file (`orchard serve --workers N`, or
 * several daemons on one file), with nothing but the file: rate-limit token buckets as one
 * upserted row each (`orchard_rate_buckets`, PostgreSQL's arithmetic), singleton jobs under a
 * lease row (`orchard_job_leases`: holder and expiry, taken by one conditional upsert, renewed
 * while the job runs, deleted after it; a crashed holder's lease is free once it expires), and a
 * version per notification topic (`orchard_notify_topics`) that listeners poll with one indexed
 * read per interval. The tables come from migration 13. Every statement is one autocommit write
 * or read, atomic under SQLite's write lock.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { Coordination, SharedBucket } from '../ports.js';
import { closedError } from '../support.js';
import { openSqliteConnection } from './connection.js';
import { op, stmt, type SqliteContext } from './db.js';

/**
 * How long a job's lease lasts without renewal (30 s; renewed every third of it while the job
 * runs). A crashed holder delays the job by at most this, well under any job's interval (five
 * minutes and more). Renewal comes from a timer, so only an event loop blocked for 20 s (two
 * missed renewals; a write waits at most the 5 s busy timeout) could let a second holder in.
 */
export const DEFAULT_LEASE_MS = 30_000;

/** How often listeners look for moved topics (1 s): one indexed read, only while any listens. */
export const DEFAULT_POLL_MS = 1_000;

// Every bucket refills completely within a minute: older rows hold nothing a new bucket would not.
const FULL_REFILL_MS = 60_000;

// level(t) = min(cap, tokens + max(0, t - at) * perMs); a token is taken when level >= 1.
const LEVEL = 'min(@per, b.tokens + max(0, @now - b.at_ms) * @per / 60000.0)';

const TAKE = `INSERT INTO orchard_rate_buckets AS b (scope, key, tokens, at_ms, taken)
  VALUES (@scope, @key, @per - 1.0, @now, 1)
  ON CONFLICT (scope, key) DO UPDATE SET
    tokens = ${LEVEL} - CASE WHEN ${LEVEL} >= 1 THEN 1 ELSE 0 END,
    at_ms = max(b.at_ms, @now),
    taken = ${LEVEL} >= 1
  RETURNING tokens, taken`;

const PEEK = `SELECT ${LEVEL} AS tokens FROM orchard_rate_buckets b WHERE scope = @scope AND key = @key`;

const SWEEP = 'DELETE FROM orchard_rate_buckets WHERE at_ms < @before';

// Taken when free or expired; RETURNING yields nothing when another holder's lease still runs.
const ACQUIRE = `INSERT INTO orchard_job_leases AS l (name, holder, expires_at)
  VALUES (@name, @holder, @until)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE l.expires_at <= @now
  RETURNING holder`;

const RENEW =
  'UPDATE orchard_job_leases SET expires_at = @until WHERE name = @name AND holder = @holder';

const RELEASE = 'DELETE FROM orchard_job_leases WHERE name = @name AND holder = @holder';

// One version sequence for every topic: a poll reads only the rows past the last version seen.
const NOTIFY = `INSERT INTO orchard_notify_topics (topic, version)
  VALUES (@topic, (SELECT coalesce(max(version), 0) + 1 FROM orchard_notify_topics))
  ON CONFLICT (topic) DO UPDATE SET version = excluded.version
  RETURNING version`;

const LATEST = 'SELECT coalesce(max(version), 0) FROM orchard_notify_topics';

const MOVED =
  'SELECT topic, version FROM orchard_notify_topics WHERE version > @seen ORDER BY version';

/** Options of {@link openSqliteCoordination}. */
export interface SqliteCoordinationOptions {
  /** The database file every sharing process opens (already created and migrated, or not). */
  path: string;
  /** Logs lost leases and failed polls and sweeps (never a secret). */
  logger?: Logger;
  /** Lease length of singleton jobs in ms; default {@link DEFAULT_LEASE_MS}. */
  leaseMs?: number;
  /** Milliseconds between polls for notifications; default {@link DEFAULT_POLL_MS}. */
  pollMs?: number;
  /** The lease clock in ms (the processes share one machine, so one clock); default `Date.now`. */
  now?: () => number;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
}

/** Seconds until one token is back at `tokens` with `perMinute` refill. */
function waitSeconds(tokens: number, perMinute: number): number | undefined {
  if (tokens >= 1) return undefined;
  return Math.max(1, Math.ceil(((1 - tokens) * 60) / perMinute));
}

function checkBucket(bucket: SharedBucket): void {
  if (!Number.isInteger(bucket.perMinute) || bucket.perMinute <= 0)
    throw new TypeError('perMinute must be a positive integer');
  if (!Number.isFinite(bucket.now)) throw new TypeError('now must be a finite number');
}

function bucketParams(bucket: SharedBucket) {
  return { scope: bucket.scope, key: bucket.key, per: bucket.perMinute, now: bucket.now };
}

/** The buckets of {@link openSqliteCoordination}, pruning rows of full buckets once a minute. */
function buckets(ctx: SqliteContext, logger: Logger | undefined) {
  let sweptAt = -Infinity;
  const sweep = (now: number): void => {
    if (now - sweptAt < FULL_REFILL_MS) return;
    sweptAt = now;
    try {
      stmt(ctx, SWEEP).run({ before: now - FULL_REFILL_MS });
    } catch (err) {
      logger?.warn({ err }, 'rate bucket sweep failed');
    }
  };
  return {
    take: (bucket: SharedBucket): Promise<number | undefined> =>
      op(ctx, () => {
        checkBucket(bucket);
        const row = stmt(ctx, TAKE).get(bucketParams(bucket)) as
          { tokens: number; taken: number } | undefined;
        sweep(bucket.now);
        return row?.taken === 1 ? undefined : waitSeconds(row?.tokens ?? 0, bucket.perMinute);
      }),
    blocked: (bucket: SharedBucket): Promise<number | undefined> =>
      op(ctx, () => {
        checkBucket(bucket);
        const row = stmt(ctx, PEEK).get(bucketParams(bucket)) as { tokens: number } | undefined;
        return row === undefined ? undefined : waitSeconds(row.tokens, bucket.perMinute);
      }),
  };
}

/** Runs `fn` under the lease `name` held by `holder`, renewing it; released after. */
async function underLease<T>(
  ctx: SqliteContext,
  lease: { name: string; holder: string; leaseMs: number; now: () => number; logger?: Logger },
  fn: () => Promise<T>,
): Promise<T> {
  const { name, holder, leaseMs, now, logger } = lease;
  const renew = (): void => {
    try {
      const { changes } = stmt(ctx, RENEW).run({ name, holder, until: now() + leaseMs });
      if (changes === 0) logger?.warn({ job: name }, 'job lease lost while the job ran');
    } catch (err) {
      logger?.warn({ err, job: name }, 'job lease renewal failed');
    }
  };
  const timer = setInterval(renew, Math.max(1, Math.floor(leaseMs / 3)));
  timer.unref();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    // A release that fails (database closed or busy) leaves the lease to expire.
    if (!ctx.closed)
      try {
        stmt(ctx, RELEASE).run({ name, holder });
      } catch (err) {
        logger?.warn({ err, job: name }, 'job lease release failed; it expires by itself');
      }
  }
}

/** The notifications of {@link openSqliteCoordination}: topic versions polled while any listens. */
function notifications(ctx: SqliteContext, pollMs: number, logger: Logger | undefined) {
  const topics = new Map<string, Set<() => void>>();
  // Versions this process wrote (its own listeners were called at once), until a poll passes them.
  const own = new Set<number>();
  let seen = 0;
  let timer: NodeJS.Timeout | undefined;
  const fire = (topic: string): void => {
    for (const fn of topics.get(topic) ?? []) {
      try {
        fn();
      } catch (err) {
        logger?.warn({ err, topic }, 'coordination listener failed');
      }
    }
  };
  const poll = (): void => {
    if (ctx.closed) return;
    try {
      const rows = stmt(ctx, MOVED).all({ seen }) as { topic: string; version: number }[];
      for (const { topic, version } of rows) {
        seen = Math.max(seen, version);
        if (!own.delete(version)) fire(topic);
      }
      for (const version of own) if (version <= seen) own.delete(version);
    } catch (err) {
      logger?.warn({ err }, 'coordination poll failed');
    }
  };
  const start = (): void => {
    if (timer !== undefined) return;
    seen = stmt(ctx, LATEST).pluck().get() as number;
    own.clear();
    timer = setInterval(poll, pollMs);
    timer.unref();
  };
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  return {
    async notify(topic: string): Promise<void> {
      if (ctx.closed) return;
      fire(topic);
      const version = await op(ctx, () => stmt(ctx, NOTIFY).pluck().get({ topic }) as number);
      if (timer !== undefined) own.add(version);
    },
    listen(topic: string, fn: () => void): () => void {
      if (ctx.closed) return () => undefined;
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(fn);
      start();
      return () => {
        set.delete(fn);
        if (set.size === 0) topics.delete(topic);
        if (topics.size === 0) stop();
      };
    },
    close(): void {
      stop();
      topics.clear();
    },
  };
}

/**
 * The coordination of the processes on the SQLite file `options.path`, on a connection of its own
 * (created and migrated as needed). Throws StorageError when the file cannot be opened or
 * migrated, TypeError on an empty path or a non-positive lease or poll interval.
 */
export function openSqliteCoordination(options: SqliteCoordinationOptions): Coordination {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  if (!(leaseMs > 0) || !(pollMs > 0))
    throw new TypeError('leaseMs and pollMs must be positive numbers');
  const { ctx, release } = openSqliteConnection({
    path: options.path,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    checkSecrets: false,
    fileMode: null,
  }).part();
  const now = options.now ?? Date.now;
  const { logger } = options;
  const instance = `${hostname()}:${process.pid}:${randomUUID()}`;
  let calls = 0;
  const lease = (name: string, holder: string) => ({
    ...{ name, holder, leaseMs, now },
    ...(logger === undefined ? {} : { logger }),
  });
  const shared = buckets(ctx, logger);
  const topics = notifications(ctx, pollMs, logger);
  return {
    async exclusive(name, fn) {
      if (ctx.closed) throw closedError();
      // A holder per call: a second call in this process waits its turn like any other holder.
      const holder = `${instance}#${String(++calls)}`;
      const got = await op(ctx, () => {
        const at = now();
        return stmt(ctx, ACQUIRE).get({ name, holder, now: at, until: at + leaseMs });
      });
      if (got === undefined) {
        logger?.debug({ job: name }, 'job held by another process; skipped');
        return { skipped: true };
      }
      logger?.debug({ job: name, holder }, 'job lease taken');
      return { value: await underLease(ctx, lease(name, holder), fn) };
    },
    take: (bucket) => shared.take(bucket),
    blocked: (bucket) => shared.blocked(bucket),
    notify: (topic) => topics.notify(topic),
    listen: (topic, fn) => topics.listen(topic, fn),
    close() {
      topics.close();
      release();
      return Promise.resolve();
    },
  };
}

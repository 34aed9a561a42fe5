/**
 * Coordination between daemons sharing one PostgreSQL database, with nothing but PostgreSQL:
 * singleton jobs under session advisory locks (`pg_try_advisory_lock`, freed by the server when a
 * holder's connection dies), rate-limit token buckets as one upserted row each in an UNLOGGED
 * table (`orchard_rate_buckets`, created at open; losing it on a crash only refills buckets), and
 * cache invalidation over LISTEN/NOTIFY on one channel through a listener connection that
 * reconnects by itself. A notification only ever shortens a cache's life.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { StorageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Coordination, SharedBucket } from '../ports.js';
import { closedError } from '../support.js';
import { one, run, storageError } from './db.js';
import { coordinationListener } from './coordination-listen.js';

/** The one NOTIFY channel of every Orchard daemon. */
export const NOTIFY_CHANNEL = 'orchard_changes';

/** The UNLOGGED table of shared token buckets (rate limits), created at open when missing. */
export const RATE_BUCKETS_SCHEMA = `CREATE UNLOGGED TABLE IF NOT EXISTS orchard_rate_buckets (
  scope text NOT NULL,
  key text NOT NULL,
  tokens double precision NOT NULL,
  at_ms double precision NOT NULL,
  taken boolean NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS orchard_rate_buckets_at ON orchard_rate_buckets (at_ms)`;

// Every bucket refills completely within a minute: older rows hold nothing a new bucket would not.
const FULL_REFILL_MS = 60_000;

// level(t) = min(cap, tokens + max(0, t - at) * perMs); a token is taken when level >= 1.
const LEVEL =
  'LEAST($3::float8, b.tokens + GREATEST(0, $4::float8 - b.at_ms) * $3::float8 / 60000)';

const TAKE = `INSERT INTO orchard_rate_buckets AS b (scope, key, tokens, at_ms, taken)
  VALUES ($1, $2, $3::float8 - 1, $4::float8, true)
  ON CONFLICT (scope, key) DO UPDATE SET
    tokens = ${LEVEL} - CASE WHEN ${LEVEL} >= 1 THEN 1 ELSE 0 END,
    at_ms = GREATEST(b.at_ms, $4::float8),
    taken = ${LEVEL} >= 1
  RETURNING tokens, taken`;

const PEEK = `SELECT ${LEVEL} AS tokens FROM orchard_rate_buckets b WHERE scope = $1 AND key = $2`;

/** The PostgreSQL coordination, with what tests and health checks may ask of its listener. */
export interface PgCoordination extends Coordination {
  /** True while the listener connection is up (notifications arrive). */
  readonly listening: boolean;
  /** Resolves once the listener connection is up and listening. */
  whenListening(): Promise<void>;
}

/** Options of {@link pgCoordination}. */
export interface PgCoordinationOptions {
  /** The database URL, for the listener connection (LISTEN needs a connection of its own). */
  url: string;
  /** Logs lost listener connections and failed sweeps (never a secret). */
  logger?: Logger;
  /** Milliseconds between listener reconnect attempts; default 1,000. */
  reconnectMs?: number;
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

/** Creates the rate-bucket table once per database (concurrent openers wait on one lock). */
async function prepareBuckets(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('orchard-migrate'))");
    await client.query(RATE_BUCKETS_SCHEMA);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The coordination of the daemons on the database of `pool`. Resolves once the bucket table
 * exists and the listener is started (its first connection may still be under way: until it is,
 * and whenever it is lost, nothing depends on it). Rejects with StorageError when the database
 * cannot be reached.
 */
export async function pgCoordination(
  pool: pg.Pool,
  options: PgCoordinationOptions,
): Promise<PgCoordination> {
  try {
    await prepareBuckets(pool);
  } catch (error) {
    throw new StorageError('cannot prepare coordination tables', { cause: error });
  }
  const origin = randomUUID();
  const listener = coordinationListener({ ...options, channel: NOTIFY_CHANNEL, origin });
  let closed = false;
  let sweptAt = -Infinity;
  const guard = (): void => {
    if (closed) throw closedError();
  };
  // Beside a take, at most once a minute: rows of full buckets (a concurrent take re-creates its
  // row, so nothing is lost). A failed sweep is logged; the next one catches up.
  const sweep = async (now: number): Promise<void> => {
    if (now - sweptAt < FULL_REFILL_MS) return;
    sweptAt = now;
    try {
      await run(pool, 'DELETE FROM orchard_rate_buckets WHERE at_ms < $1::float8', [
        now - FULL_REFILL_MS,
      ]);
    } catch (err) {
      options.logger?.warn({ err }, 'rate bucket sweep failed');
    }
  };
  return {
    async exclusive(name, fn) {
      guard();
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw storageError(error);
      }
      let broken = false;
      // A held connection that dies emits 'error' on the client: unhandled, it would end the process.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        const got = await one<{ got: boolean }>(
          client,
          'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got',
          [`orchard-job:${name}`],
        ).catch((error: unknown) => {
          broken = true;
          throw storageError(error);
        });
        if (got?.got !== true) return { skipped: true };
        try {
          return { value: await fn() };
        } finally {
          await client
            .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`orchard-job:${name}`])
            .catch(() => {
              // The lock dies with the connection: never hand a connection holding it back.
              broken = true;
            });
        }
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async take(bucket) {
      guard();
      checkBucket(bucket);
      try {
        const [row] = await Promise.all([
          one<{ tokens: number; taken: boolean }>(pool, TAKE, [
            ...[bucket.scope, bucket.key, bucket.perMinute, bucket.now],
          ]),
          sweep(bucket.now),
        ]);
        return row?.taken === true ? undefined : waitSeconds(row?.tokens ?? 0, bucket.perMinute);
      } catch (error) {
        throw storageError(error);
      }
    },
    async blocked(bucket) {
      guard();
      checkBucket(bucket);
      try {
        const row = await one<{ tokens: number }>(pool, PEEK, [
          ...[bucket.scope, bucket.key, bucket.perMinute, bucket.now],
        ]);
        return row === undefined ? undefined : waitSeconds(row.tokens, bucket.perMinute);
      } catch (error) {
        throw storageError(error);
      }
    },
    async notify(topic) {
      if (closed) return;
      listener.local(topic);
      try {
        await run(pool, 'SELECT pg_notify($1, $2)', [
          NOTIFY_CHANNEL,
          JSON.stringify({ o: origin, t: topic }),
        ]);
      } catch (error) {
        throw storageError(error);
      }
    },
    listen: (topic, fn) => listener.on(topic, fn),
    get listening() {
      return listener.connected;
    },
    whenListening: () => listener.whenListening(),
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
    },
  };
}

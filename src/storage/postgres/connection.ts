/**
 * The pool of connections to Orchard's PostgreSQL database: opened, migrated to the one
 * versioned schema and seeded, then shared by every store opened on it. Each store gets a context
 * of its own (closing one makes only its calls fail); the pool ends with the last of them. A
 * database that goes away fails calls with StorageError (503) and the pool reconnects by itself
 * on the next call.
 */
import pg from 'pg';
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import { OrchardError, StorageError } from '../../errors.js';
import type { PgContext } from './db.js';
import { migrateSchema, type MigrationOutcome } from './migrations.js';
import { seedManagement } from './schema-management.js';
import { prepareSealedSecrets } from './sealed-secrets.js';

/** Pool settings; the defaults suit one daemon on a 2-4 core machine. */
export interface PgPoolOptions {
  /** Most connections this process opens; default 10. */
  max?: number;
  /** An idle connection is closed after this long (ms); default 30,000. */
  idleTimeoutMs?: number;
  /** Waiting for a connection (or for the server to answer a connect) fails after (ms); default 5,000. */
  connectionTimeoutMs?: number;
  /** Any one statement is cancelled after (ms); default 30,000. */
  statementTimeoutMs?: number;
  /**
   * The client stops waiting for an answer after (ms) and drops the connection: a database
   * whose network path silently drops packets would otherwise hold a request for as long as TCP
   * retries (minutes). Default: the statement timeout plus 5,000, so the server's cancel comes
   * first whenever the server can still answer.
   */
  queryTimeoutMs?: number;
}

/** How to open the pool. */
export interface PgConnectionOptions {
  /** `postgres://user@host:port/database` (or `postgresql://`). */
  url: string;
  /** Source of the timestamps the stores write; default `() => new Date()`. */
  clock?: () => Date;
  /** Keyring of the sealed device secrets; the database remembers which keys sealed values. */
  secrets?: SecretsKeyring;
  /** Whether the keyring is checked against the database; default true. */
  checkSecrets?: boolean;
  /** Pool settings. */
  pool?: PgPoolOptions;
  /** `application_name` shown in `pg_stat_activity`; default `orchard`. */
  applicationName?: string;
}

/** An open pool; `part()` hands a store its context and its `release`. */
export interface PgConnection {
  /** The pool (for coordination helpers in this folder). */
  pool: pg.Pool;
  /** What the migration at open did. */
  migration: MigrationOutcome;
  /** A context for one more store; the last `release()` ends the pool. */
  part(): { ctx: PgContext; release: () => Promise<void> };
}

const INT8 = 20;

/** Parses `int8` as a number (Orchard's counters stay far below 2^53); the rest as pg does. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 && format !== 'binary') return (value: string) => Number(value);
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** Throws TypeError unless `url` is a postgres:// or postgresql:// URL. */
export function checkPostgresUrl(url: unknown): asserts url is string {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url))
    throw new TypeError('url must be a postgres:// URL');
}

/** A new pool for `options` (not yet connected). Errors of idle connections are absorbed. */
export function createPool(options: PgConnectionOptions): pg.Pool {
  checkPostgresUrl(options.url);
  const p = options.pool ?? {};
  const statementTimeout = p.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: p.max ?? 10,
    idleTimeoutMillis: p.idleTimeoutMs ?? 30_000,
    connectionTimeoutMillis: p.connectionTimeoutMs ?? 5_000,
    statement_timeout: statementTimeout,
    query_timeout: p.queryTimeoutMs ?? statementTimeout + 5_000,
    // Idle connections to a server that vanished are found by TCP keepalive, not by a request.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: options.applicationName ?? 'orchard',
    types,
  });
  // An idle connection whose server went away emits 'error' on the pool; unhandled it would end
  // the process. The pool drops that connection and opens a new one on the next call.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Opens the pool, migrates the schema, seeds the rows every database has (root group, owner)
 * and checks the secrets keyring. Rejects with StorageError when the database cannot be reached
 * or migrated or is newer than this code, SecretsError for a keyring that does not fit,
 * TypeError on a bad URL.
 */
export async function openPostgresConnection(options: PgConnectionOptions): Promise<PgConnection> {
  const clock = options.clock ?? (() => new Date());
  const pool = createPool(options);
  let migration: MigrationOutcome;
  try {
    migration = await migrateSchema(pool, clock());
    await seedManagement(pool, clock());
    if (options.checkSecrets !== false) await prepareSealedSecrets(pool, options.secrets, clock());
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof OrchardError || error instanceof TypeError) throw error;
    throw new StorageError('cannot open the PostgreSQL database', { cause: error });
  }
  let users = 0;
  let ended: Promise<void> | undefined;
  return {
    pool,
    migration,
    part() {
      users += 1;
      const ctx: PgContext = { pool, clock, closed: false };
      if (options.secrets !== undefined) ctx.secrets = options.secrets;
      const release = (): Promise<void> => {
        if (ctx.closed) return ended ?? Promise.resolve();
        ctx.closed = true;
        users -= 1;
        if (users > 0) return Promise.resolve();
        ended = pool.end().catch(() => undefined);
        return ended;
      };
      return { ctx, release };
    },
  };
}

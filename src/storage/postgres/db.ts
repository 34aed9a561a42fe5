/**
 * The PostgreSQL adapter's connection context and query helpers: named prepared statements,
 * transactions with retry on serialization failures and deadlocks, and the mapping of driver
 * failures to StorageError (503 to devices, never 401). Only files in this folder import `pg`.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import { OrchardError, StorageError } from '../../errors.js';
import { closedError } from '../support.js';

/** A pool or one checked-out client: what a query runs on. */
export type Queryable = pg.Pool | pg.PoolClient;

/** What every PostgreSQL port module shares (one per store; the pool is shared). */
export interface PgContext {
  pool: pg.Pool;
  /** Source of every timestamp the stores write (the database's `now()` is never used). */
  clock: () => Date;
  /** True once this store was closed: every later call rejects with StorageError. */
  closed: boolean;
  /** Seals device secrets at rest; absent stores them as given. */
  secrets?: SecretsKeyring;
}

const names = new Map<string, string>();

// PostgreSQL refuses U+0000 in text and jsonb (a device can send it in any string it reports).
// The JSON escape of U+0000 (`\u0000` after an odd number of backslashes) in a `$n::jsonb` text.
const JSON_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;
const jsonParams = new Map<string, ReadonlySet<number>>();

/** The (0-based) positions of the parameters `text` casts to jsonb (`$n::jsonb`). */
function jsonPositions(text: string): ReadonlySet<number> {
  let found = jsonParams.get(text);
  if (found === undefined) {
    found = new Set([...text.matchAll(/\$(\d+)::jsonb/g)].map((m) => Number(m[1]) - 1));
    jsonParams.set(text, found);
  }
  return found;
}

/** `value` with every U+0000 (in text and in the strings of a text array) replaced by U+FFFD. */
function withoutNul(value: unknown, json: boolean): unknown {
  if (typeof value === 'string') {
    if (!value.includes('\u0000') && !(json && value.includes('\\u0000'))) return value;
    const text = value.replaceAll('\u0000', '\uFFFD');
    return json ? text.replace(JSON_NUL, '$1\\ufffd') : text;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => withoutNul(v, false));
  return value;
}

/**
 * The parameters as PostgreSQL can hold them: U+0000 (which it refuses in text and jsonb with an
 * error that would otherwise fail the same device request forever) becomes U+FFFD, in writes and
 * in lookups alike, so a device reporting one is stored, and found again, with U+FFFD instead.
 */
export function storableValues(text: string, values: readonly unknown[]): unknown[] {
  const json = jsonPositions(text);
  return values.map((v, i) => withoutNul(v, json.has(i)));
}

/** The prepared-statement name of `text` (stable across connections and processes). */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `o_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs `text` with `values` as a named prepared statement on `on` (parsed once per connection)
 * and resolves its rows. Errors are the driver's; callers run inside {@link op} or {@link tx}.
 */
export async function query<R = Record<string, unknown>>(
  on: Queryable,
  text: string,
  values: readonly unknown[] = [],
): Promise<R[]> {
  const params = storableValues(text, values);
  const result = await on.query({ name: statementName(text), text, values: params });
  return result.rows as R[];
}

/** The first row of {@link query}, or undefined. */
export async function one<R = Record<string, unknown>>(
  on: Queryable,
  text: string,
  values: readonly unknown[] = [],
): Promise<R | undefined> {
  const rows = await query<R>(on, text, values);
  return rows[0];
}

/** The number of rows `text` changed (INSERT/UPDATE/DELETE). */
export async function run(
  on: Queryable,
  text: string,
  values: readonly unknown[] = [],
): Promise<number> {
  const params = storableValues(text, values);
  const result = await on.query({ name: statementName(text), text, values: params });
  return result.rowCount ?? 0;
}

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True for a unique-constraint violation (SQLSTATE 23505), optionally of one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (sqlState(error) !== '23505') return false;
  return constraint === undefined || (error as { constraint?: string }).constraint === constraint;
}

/** True for a failure a transaction retry can fix: serialization failure or deadlock. */
export function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/**
 * True when `error` means the connection itself is gone or unusable (a client read timeout, a
 * terminated connection, a socket error, SQLSTATE class 08 or an administrator's shutdown).
 */
export function isConnectionLost(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P02';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E(CONNRESET|PIPE|TIMEDOUT|CONNREFUSED|HOSTUNREACH)$/.test(code))
    return true;
  const message = error instanceof Error ? error.message : '';
  return /Query read timeout|Connection terminated|Client has encountered a connection error/i.test(
    message,
  );
}

/** The error a caller sees: TypeError and Orchard's own errors pass, the rest is StorageError. */
export function storageError(error: unknown): Error {
  if (error instanceof TypeError || error instanceof OrchardError) return error;
  return new StorageError('PostgreSQL operation failed', { cause: error });
}

/**
 * Runs an operation of a store: rejects with StorageError after close; TypeError and
 * OrchardError (SecretsError included) pass through; any driver failure (the database gone,
 * a timeout) becomes StorageError with it as `cause`. Never throws synchronously.
 */
export async function op<T>(ctx: PgContext, fn: () => Promise<T>): Promise<T> {
  if (ctx.closed) throw closedError();
  try {
    return await fn();
  } catch (error) {
    throw storageError(error);
  }
}

/** Options of {@link tx}. */
export interface TxOptions {
  /** Isolation level; default `read committed` (PostgreSQL's default). */
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Attempts on serialization failure or deadlock; default 5. */
  attempts?: number;
}

/**
 * Runs `fn` in one transaction on a client of the pool (BEGIN … COMMIT, ROLLBACK on failure),
 * retrying the whole function on serialization failures and deadlocks, and maps failures as
 * {@link op} does. `fn` may run more than once: keep side effects outside the database out of it.
 */
export async function tx<T>(
  ctx: PgContext,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: TxOptions = {},
): Promise<T> {
  if (ctx.closed) throw closedError();
  const attempts = options.attempts ?? 5;
  const begin =
    options.isolation === undefined ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${options.isolation}`;
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await ctx.pool.connect();
    } catch (error) {
      throw storageError(error);
    }
    let broken = false;
    // A checked-out client has no listener of its own: a backend that dies between two queries
    // would emit an unhandled 'error' (ending the process). Mark it broken instead.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      const value = await fn(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      // On a connection already lost (a read timeout in a network black hole) a ROLLBACK would
      // wait out a second timeout: drop the connection instead; the server rolls back itself.
      if (isConnectionLost(error)) broken = true;
      else {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      if (attempt < attempts && isRetryable(error)) continue;
      throw storageError(error);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

/** A plain Uint8Array copy of a stored bytea (the driver returns Buffers). */
export function bytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/** Sets `target[key]` only when `value` is neither null nor undefined. */
export function setIf<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | null | undefined,
): void {
  if (value !== null && value !== undefined) target[key] = value;
}

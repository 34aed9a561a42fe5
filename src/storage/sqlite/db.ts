/** The SQLite adapter's connection context: statement cache, error mapping, row helpers. */
import type Database from 'better-sqlite3';
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import { SecretsError, StorageError } from '../../errors.js';
import { closedError } from '../support.js';

/** What every SQLite port module shares. */
export interface SqliteContext {
  db: Database.Database;
  clock: () => Date;
  closed: boolean;
  statements: Map<string, Database.Statement>;
  /** Seals UnlockTokens at rest and re-seals on rotation; absent stores them as given. */
  secrets?: SecretsKeyring;
}

/** A cached prepared statement for `sql`. */
export function stmt(ctx: SqliteContext, sql: string): Database.Statement {
  let statement = ctx.statements.get(sql);
  if (statement === undefined) {
    statement = ctx.db.prepare(sql);
    ctx.statements.set(sql, statement);
  }
  return statement;
}

const rawColumns = new WeakMap<Database.Statement, readonly string[]>();

/** A cached prepared statement for `sql` that reads rows as arrays (`raw` mode). */
export function rawStmt(ctx: SqliteContext, sql: string): Database.Statement {
  const key = `raw\u0000${sql}`;
  let statement = ctx.statements.get(key);
  if (statement === undefined) {
    statement = ctx.db.prepare(sql).raw(true);
    ctx.statements.set(key, statement);
  }
  return statement;
}

/**
 * Every row of the cached statement for `sql` as a plain object. Rows are read as arrays and
 * built here: for reads of thousands of rows this is about a third faster than the driver's
 * own row objects (and the objects share one shape). Same result as `stmt(ctx, sql).all(...)`.
 */
export function allRows<T>(ctx: SqliteContext, sql: string, ...params: unknown[]): T[] {
  const statement = rawStmt(ctx, sql);
  let columns = rawColumns.get(statement);
  if (columns === undefined) {
    columns = statement.columns().map((c) => c.name);
    rawColumns.set(statement, columns);
  }
  const rows = statement.all(...params) as unknown[][];
  const out: T[] = new Array<T>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as unknown[];
    const o: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) o[columns[i] as string] = row[i];
    out[r] = o as T;
  }
  return out;
}

/**
 * What a failed database operation throws: `TypeError` (API misuse), StorageError and SecretsError
 * (a sealed value that does not open) as they are, anything else as a StorageError (503) carrying
 * the driver error as `cause`.
 */
function storageFailure(error: unknown): Error {
  if (error instanceof TypeError || error instanceof StorageError || error instanceof SecretsError)
    return error;
  return new StorageError('SQLite operation failed', { cause: error });
}

/** Runs a synchronous database operation at once; throws what {@link op} rejects with. */
export function opNow<T>(ctx: SqliteContext, fn: () => T): T {
  try {
    if (ctx.closed) throw closedError();
    return fn();
  } catch (error) {
    throw storageFailure(error);
  }
}

/** {@link opNow} as a promise: its result, or a rejection with what it throws. */
export function op<T>(ctx: SqliteContext, fn: () => T): Promise<T> {
  try {
    return Promise.resolve(opNow(ctx, fn));
  } catch (error) {
    return Promise.reject(storageFailure(error)); // already one: passed on as it is
  }
}

type TxRunner = Database.Transaction<(fn: () => unknown) => unknown>;
const runners = new WeakMap<Database.Database, TxRunner>();

/**
 * Runs `fn` in an IMMEDIATE transaction (takes the write lock first, so readers never upgrade);
 * nested, as a savepoint. One transaction function per database runs every `fn`: the driver's
 * `transaction()` builds five wrappers each time it is called.
 */
export function writeTx<T>(ctx: SqliteContext, fn: () => T): T {
  let run = runners.get(ctx.db);
  if (run === undefined) {
    run = ctx.db.transaction((f: () => unknown) => f());
    runners.set(ctx.db, run);
  }
  return run.immediate(fn) as T;
}

/** Milliseconds of a date, or null. */
export function ms(date: Date | undefined): number | null {
  return date === undefined ? null : date.getTime();
}

/** A Date from stored milliseconds. */
export function date(value: number): Date {
  return new Date(value);
}

/** A plain Uint8Array copy of a stored BLOB (better-sqlite3 returns Buffers). */
export function bytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/** Sets `target[key]` only when `value` is not null (keeps optional properties absent). */
export function setIf<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | null | undefined,
): void {
  if (value !== null && value !== undefined) target[key] = value;
}

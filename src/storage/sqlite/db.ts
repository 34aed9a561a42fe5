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

/**
 * Runs a synchronous database operation as a promise. `TypeError` (API misuse) and SecretsError
 * (a sealed value that does not open) pass through; any other failure becomes a StorageError
 * (503) carrying the driver error as `cause`.
 */
export function op<T>(ctx: SqliteContext, fn: () => T): Promise<T> {
  try {
    if (ctx.closed) throw closedError();
    return Promise.resolve(fn());
  } catch (error) {
    if (
      error instanceof TypeError ||
      error instanceof StorageError ||
      error instanceof SecretsError
    )
      return Promise.reject(error);
    return Promise.reject(new StorageError('SQLite operation failed', { cause: error }));
  }
}

/** Runs `fn` in an IMMEDIATE transaction (takes the write lock first, so readers never upgrade). */
export function writeTx<T>(ctx: SqliteContext, fn: () => T): T {
  return ctx.db.transaction(fn).immediate();
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

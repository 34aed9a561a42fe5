/** Helpers shared by the SQLite admin stores. */
import { randomBytes } from 'node:crypto';
import { OrchardError, StorageError } from '../../errors.js';
import { closedError } from '../support.js';
import type { SqliteContext } from './db.js';

/**
 * Runs a synchronous admin operation as a promise: after close it rejects with StorageError;
 * TypeError and OrchardError pass through; any other (driver) failure becomes StorageError with
 * it as `cause`. It never throws synchronously.
 */
export function adminGuard<T>(ctx: SqliteContext, fn: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(guarded(ctx, fn));
  });
}

function guarded<T>(ctx: SqliteContext, fn: () => T): T {
  if (ctx.closed) throw closedError();
  try {
    return fn();
  } catch (error) {
    if (error instanceof TypeError || error instanceof OrchardError) throw error;
    throw new StorageError('admin store operation failed', { cause: error });
  }
}

/** A short random id with a prefix, e.g. `ak_3f9c0e1a2b4d`. */
export function newAdminId(prefix: string, random: (n: number) => Buffer = randomBytes): string {
  return `${prefix}_${random(6).toString('hex')}`;
}

/** Helpers shared by the admin store modules. */
import { randomBytes } from 'node:crypto';
import { StorageError } from '../index.js';

/** A page of an admin list; `nextCursor` is absent on the last page. */
export interface AdminPage<T> {
  items: T[];
  nextCursor?: string;
}

/** Wraps a driver failure as StorageError; TypeError passes through. */
export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof TypeError || error instanceof StorageError) throw error;
    throw new StorageError('admin store operation failed', { cause: error });
  }
}

/** A short random id with a prefix, e.g. `ak_3f9c0e1a2b4d`. */
export function newId(prefix: string, random: (n: number) => Buffer = randomBytes): string {
  return `${prefix}_${random(6).toString('hex')}`;
}

/**
 * The memory admin store's state and the helpers its stores share. Records are replaced, never
 * mutated in place, so a returned record never changes under its holder.
 */
import { randomBytes } from 'node:crypto';
import { StorageError } from '../../errors.js';
import type { ApiKeyScope } from '../ports.js';
import { closedError } from '../support.js';

/** An API key as kept: its hash and its fields (times in ms). */
export interface KeyRow {
  id: string;
  name: string;
  scope: ApiKeyScope;
  hash: string;
  createdAt: number;
  revokedAt?: number;
}

/** One audit entry as kept: `detail` as JSON text, as SQLite keeps it. */
export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

/** An enrollment link as kept (times in ms). */
export interface LinkRow {
  id: string;
  hash: string;
  singleUse: boolean;
  uses: number;
  enrollments: number;
  expiresAt?: number;
  user?: string;
  createdAt: number;
  revokedAt?: number;
}

/** Everything the memory admin store holds. */
export interface AdminState {
  clock: () => Date;
  closed: boolean;
  keys: Map<string, KeyRow>;
  /** hash -> key id (hashes are unique, as SQLite's UNIQUE column makes them). */
  keyHashes: Map<string, string>;
  /** Audit rows in `seq` order. */
  audit: AuditRow[];
  /** Last `seq` handed out (AUTOINCREMENT: never reused unless its write was undone). */
  auditSeq: number;
  links: Map<string, LinkRow>;
  /** hash -> link id. */
  linkHashes: Map<string, string>;
  meta: Map<string, string>;
}

/** A fresh, empty state on `clock`. */
export function createAdminState(clock: () => Date): AdminState {
  return {
    clock,
    closed: false,
    keys: new Map(),
    keyHashes: new Map(),
    audit: [],
    auditSeq: 0,
    links: new Map(),
    linkHashes: new Map(),
    meta: new Map(),
  };
}

/**
 * Runs one synchronous step of a store as a promise: it rejects with the StorageError of a
 * closed store, or with whatever `fn` throws; it never throws synchronously.
 */
export function adminStep<T>(state: AdminState, fn: () => T): Promise<T> {
  return new Promise((resolve) => {
    if (state.closed) throw closedError();
    resolve(fn());
  });
}

/** Sets `map[key]`, or deletes it for `undefined`. */
export function put<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

/** Inserts a row keyed by a fresh id and a unique hash; StorageError on a taken id or hash. */
export function insertUnique<R extends { id: string; hash: string }>(
  rows: Map<string, R>,
  hashes: Map<string, string>,
  row: R,
): void {
  if (rows.has(row.id) || hashes.has(row.hash))
    throw new StorageError('admin store operation failed: duplicate id or hash');
  put(rows, row.id, row);
  put(hashes, row.hash, row.id);
}

/** A short random id with a prefix, e.g. `ak_3f9c0e1a2b4d` (the SQLite store's spelling). */
export function newAdminId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Orders strings as SQLite's BINARY collation does: by their UTF-8 bytes. */
export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

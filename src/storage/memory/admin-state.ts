/**
 * The memory admin store's state, its undo journal and its transaction. Records are replaced,
 * never mutated in place, so undoing a write is putting the old value back.
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
  /** Undo actions of the open transaction, newest last; `undefined` outside one. */
  journal?: (() => void)[];
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

/** Throws the StorageError of a closed store. */
export function assertAdminOpen(state: AdminState): void {
  if (state.closed) throw closedError();
}

/** Records how to undo a write, when a transaction is open. */
export function onUndo(state: AdminState, undo: () => void): void {
  state.journal?.push(undo);
}

/** Sets `map[key]` (deleting it for `undefined`), journalled so a rollback restores it. */
export function put<K, V>(state: AdminState, map: Map<K, V>, key: K, value: V | undefined): void {
  if (state.journal !== undefined) {
    const had = map.has(key);
    const old = map.get(key);
    onUndo(state, () => {
      if (had) map.set(key, old as V);
      else map.delete(key);
    });
  }
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

/** Inserts a row keyed by a fresh id and a unique hash; StorageError on a taken id or hash. */
export function insertUnique<R extends { id: string; hash: string }>(
  state: AdminState,
  rows: Map<string, R>,
  hashes: Map<string, string>,
  row: R,
): void {
  if (rows.has(row.id) || hashes.has(row.hash))
    throw new StorageError('admin store operation failed: duplicate id or hash');
  put(state, rows, row.id, row);
  put(state, hashes, row.hash, row.id);
}

/** A short random id with a prefix, e.g. `ak_3f9c0e1a2b4d` (the SQLite store's spelling). */
export function newAdminId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Orders strings as SQLite's BINARY collation does: by their UTF-8 bytes. */
export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` as one transaction: if it throws, its writes are undone and the error passes on
 * unchanged. A nested call is a savepoint: its failure undoes only its own writes. Like
 * better-sqlite3, a function returning a promise is a TypeError (its synchronous writes undone).
 */
export function runTransaction<T>(state: AdminState, fn: () => T): T {
  assertAdminOpen(state);
  const outer = state.journal === undefined;
  const journal = state.journal ?? [];
  const mark = journal.length;
  state.journal = journal;
  try {
    const result = fn();
    if (isThenable(result)) throw new TypeError('Transaction function cannot return a promise');
    return result;
  } catch (error) {
    while (journal.length > mark) journal.pop()?.();
    throw error;
  } finally {
    if (outer) delete state.journal;
  }
}

/**
 * The administrative stores in memory: API keys (by hash), the audit log, enrollment links and
 * settings, with the SQLite adapter's semantics (one conformance suite runs against both), so an
 * embedder can run the admin domain without a database. Methods are synchronous.
 */
import type {
  AdminStorage,
  ApiKeyRecord,
  ApiKeyStore,
  AuditEntry,
  AuditLog,
  SettingsStore,
} from '../ports.js';
import {
  assertAdminOpen,
  byBytes,
  createAdminState,
  insertUnique,
  newAdminId,
  onUndo,
  put,
  runTransaction,
  type AdminState,
  type AuditRow,
  type KeyRow,
} from './admin-state.js';
import { memoryEnrollmentLinks } from './admin-links.js';

/** Options of {@link createMemoryAdminStorage}. */
export interface MemoryAdminStorageOptions {
  /** Stamps created, revoked and audit times; default `() => new Date()`. */
  clock?: () => Date;
}

function keyRecord(row: KeyRow): ApiKeyRecord {
  const r: ApiKeyRecord = {
    id: row.id,
    name: row.name,
    scope: row.scope,
    createdAt: new Date(row.createdAt),
  };
  if (row.revokedAt !== undefined) r.revokedAt = new Date(row.revokedAt);
  return r;
}

function auditRecord(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: new Date(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

const active = (row: KeyRow): boolean => row.revokedAt === undefined;

function memoryApiKeys(s: AdminState): ApiKeyStore {
  const open = <T>(fn: () => T): T => {
    assertAdminOpen(s);
    return fn();
  };
  return {
    createApiKey(input) {
      if (!['read', 'write'].includes(input.scope)) throw new TypeError('bad scope');
      return open(() => {
        const row: KeyRow = { id: newAdminId('ak'), ...input, createdAt: s.clock().getTime() };
        insertUnique(s, s.keys, s.keyHashes, row);
        return keyRecord(row);
      });
    },
    findApiKeyByHash: (hash) =>
      open(() => {
        const row = s.keys.get(s.keyHashes.get(hash) ?? '');
        return row && active(row) ? keyRecord(row) : undefined;
      }),
    listApiKeys: () =>
      open(() =>
        [...s.keys.values()]
          .sort((a, b) => a.createdAt - b.createdAt || byBytes(a.id, b.id))
          .map(keyRecord),
      ),
    listActiveApiKeys: () =>
      open(() =>
        [...s.keys.values()]
          .filter(active)
          .map((row) => ({ record: keyRecord(row), hash: row.hash })),
      ),
    revokeApiKey: (id) =>
      open(() => {
        const row = s.keys.get(id);
        if (row === undefined || !active(row)) return false;
        put(s, s.keys, id, { ...row, revokedAt: s.clock().getTime() });
        return true;
      }),
    countActiveApiKeys: () => open(() => [...s.keys.values()].filter(active).length),
  };
}

/** The `seq` a cursor of {@link AuditLog.listAudit} holds; TypeError unless it is one. */
function auditCursor(cursor: string): number {
  const seq = /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(seq)) throw new TypeError('invalid cursor');
  return seq;
}

/** Index of the first row whose seq is at least `seq` (rows are in seq order). */
function firstAtOrAfter(rows: readonly AuditRow[], seq: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid]?.seq ?? Infinity) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function memoryAuditLog(s: AdminState): AuditLog {
  return {
    audit(entry) {
      const at = s.clock();
      const detail = JSON.stringify(entry.detail);
      assertAdminOpen(s);
      const seq = ++s.auditSeq;
      const { actor, action, target } = entry;
      s.audit.push({ seq, at: at.getTime(), actor, action, target, detail });
      onUndo(s, () => {
        s.audit.pop();
        s.auditSeq = seq - 1;
      });
      return { ...entry, seq, at };
    },
    listAudit(options) {
      const before =
        options.cursor === undefined ? Number.MAX_SAFE_INTEGER : auditCursor(options.cursor);
      assertAdminOpen(s);
      const end = firstAtOrAfter(s.audit, before);
      const rows = s.audit.slice(Math.max(0, end - options.limit - 1), end).reverse();
      const items = rows.slice(0, options.limit).map(auditRecord);
      const last = items.at(-1);
      return rows.length > options.limit && last
        ? { items, nextCursor: String(last.seq) }
        : { items };
    },
  };
}

function memorySettings(s: AdminState): SettingsStore {
  return {
    getMeta(key) {
      assertAdminOpen(s);
      return s.meta.get(key);
    },
    setMeta(key, value) {
      assertAdminOpen(s);
      put(s, s.meta, key, value);
    },
  };
}

/**
 * An {@link AdminStorage} held in process memory, lost on exit: API keys, the audit log,
 * enrollment links and settings, with the SQLite adapter's semantics. `transaction` undoes the
 * writes of a function that throws; after `close()` every call throws StorageError.
 */
export function createMemoryAdminStorage(options: MemoryAdminStorageOptions = {}): AdminStorage {
  const state = createAdminState(options.clock ?? (() => new Date()));
  return {
    ...memoryApiKeys(state),
    ...memoryAuditLog(state),
    ...memoryEnrollmentLinks(state),
    ...memorySettings(state),
    transaction: (fn) => runTransaction(state, fn),
    close() {
      state.closed = true;
    },
  };
}

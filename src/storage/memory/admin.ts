/**
 * The administrative stores in memory: API keys (by hash), the audit log, enrollment links,
 * settings and the management stores (groups, administrators, profile library, users), with the
 * SQLite adapter's semantics (one conformance suite runs against both), so an embedder can run
 * the admin domain without a database. Each method does its work at once and reports it as a
 * promise, as the SQLite adapter does.
 */
import {
  OWNER_PRINCIPAL_ID,
  type AdminStorage,
  type CheckinStore,
  type ApiKeyRecord,
  type ApiKeyStore,
  type AuditEntry,
  type AuditLog,
  type SettingsStore,
} from '../ports.js';
import {
  adminStep,
  byBytes,
  createAdminState,
  insertUnique,
  newAdminId,
  put,
  type AdminState,
  type AuditRow,
  type KeyRow,
} from './admin-state.js';
import { memoryEnrollmentLinks } from './admin-links.js';
import { memoryOrgGroups, memoryPrincipals } from './management.js';
import { memoryProfileLibrary } from './management-profiles.js';
import { memoryDeviceProfiles } from './device-profiles.js';
import { memoryOwnedDevices } from './owned-enrollments.js';
import { memoryPolicies } from './policies.js';
import { memoryUsers } from './users.js';
import { memoryCredentials, memoryWebSessions } from './web.js';

/** Options of {@link createMemoryAdminStorage}. */
export interface MemoryAdminStorageOptions {
  /** Stamps created, revoked and audit times; default `() => new Date()`. */
  clock?: () => Date;
  /**
   * The enrollments' store (the memory MDM store beside it): with it the store offers
   * `listOwnedDevices`, which reads owned enrollments and their records in one call.
   */
  enrollments?: Pick<CheckinStore, 'findEnrollments'>;
}

function keyRecord(row: KeyRow): ApiKeyRecord {
  const r: ApiKeyRecord = {
    id: row.id,
    name: row.name,
    scope: row.scope,
    principalId: row.principalId,
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
  const step = <T>(fn: () => T): Promise<T> => adminStep(s, fn);
  return {
    createApiKey: (input) =>
      step(() => {
        if (!['read', 'write'].includes(input.scope)) throw new TypeError('bad scope');
        const principalId = input.principalId ?? OWNER_PRINCIPAL_ID;
        const principal = s.principals.get(principalId);
        if (principal === undefined || principal.disabledAt !== undefined)
          throw new TypeError(`unknown or disabled principal ${principalId}`);
        const { name, scope, hash } = input;
        const id = newAdminId('ak');
        const row: KeyRow = { id, name, scope, hash, principalId, createdAt: s.clock().getTime() };
        insertUnique(s.keys, s.keyHashes, row);
        return keyRecord(row);
      }),
    findApiKeyByHash: (hash) =>
      step(() => {
        const row = s.keys.get(s.keyHashes.get(hash) ?? '');
        return row && active(row) ? keyRecord(row) : undefined;
      }),
    listApiKeys: () =>
      step(() =>
        [...s.keys.values()]
          .sort((a, b) => a.createdAt - b.createdAt || byBytes(a.id, b.id))
          .map(keyRecord),
      ),
    listActiveApiKeys: () =>
      step(() =>
        [...s.keys.values()]
          .filter(active)
          .map((row) => ({ record: keyRecord(row), hash: row.hash })),
      ),
    revokeApiKey: (id) =>
      step(() => {
        const row = s.keys.get(id);
        if (row === undefined || !active(row)) return false;
        put(s.keys, id, { ...row, revokedAt: s.clock().getTime() });
        return true;
      }),
    countActiveApiKeys: () => step(() => [...s.keys.values()].filter(active).length),
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
    audit: (entry) =>
      adminStep(s, () => {
        const at = s.clock();
        const detail = JSON.stringify(entry.detail);
        const seq = ++s.auditSeq;
        const { actor, action, target } = entry;
        s.audit.push({ seq, at: at.getTime(), actor, action, target, detail });
        return { ...entry, seq, at };
      }),
    listAudit: (options) =>
      adminStep(s, () => {
        const before =
          options.cursor === undefined ? Number.MAX_SAFE_INTEGER : auditCursor(options.cursor);
        const end = firstAtOrAfter(s.audit, before);
        const rows = s.audit.slice(Math.max(0, end - options.limit - 1), end).reverse();
        const items = rows.slice(0, options.limit).map(auditRecord);
        const last = items.at(-1);
        return rows.length > options.limit && last
          ? { items, nextCursor: String(last.seq) }
          : { items };
      }),
  };
}

function memorySettings(s: AdminState): SettingsStore {
  return {
    getMeta: (key) => adminStep(s, () => s.meta.get(key)),
    setMeta: (key, value) =>
      adminStep(s, () => {
        put(s.meta, key, value);
      }),
  };
}

/**
 * An {@link AdminStorage} held in process memory, lost on exit: API keys, the audit log,
 * enrollment links, settings and the management stores (seeded with the root group and the
 * owner, stamped by `clock`), with the SQLite adapter's semantics. After `close()` every call
 * rejects with StorageError. `listOwnedDevices` is there only when `enrollments` is given.
 */
export function createMemoryAdminStorage(options: MemoryAdminStorageOptions = {}): AdminStorage {
  const state = createAdminState(options.clock ?? (() => new Date()));
  return {
    ...memoryApiKeys(state),
    ...memoryAuditLog(state),
    ...memoryEnrollmentLinks(state),
    ...memorySettings(state),
    ...memoryOrgGroups(state),
    ...memoryPrincipals(state),
    ...memoryProfileLibrary(state),
    ...memoryUsers(state),
    ...memoryPolicies(state),
    ...memoryDeviceProfiles(state),
    ...memoryWebSessions(state),
    ...memoryCredentials(state),
    ...(options.enrollments === undefined ? {} : memoryOwnedDevices(state, options.enrollments)),
    close() {
      state.closed = true;
    },
  };
}

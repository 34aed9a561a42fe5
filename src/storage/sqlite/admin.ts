/**
 * The administrative stores in SQLite (tables `orchard_admin_*`, migration 6): API keys (by
 * hash, each owned by an administrator since migration 7), the audit log, enrollment links and
 * settings; the management stores (`management*.ts`) join them in one {@link AdminStorage}. better-sqlite3 runs each method at once;
 * its result or failure (driver failures become StorageError, 503) comes back as a promise.
 */
import {
  OWNER_PRINCIPAL_ID,
  type AdminStorage,
  type ApiKeyRecord,
  type ApiKeyScope,
  type ApiKeyStore,
  type AuditEntry,
  type AuditLog,
  type SettingsStore,
} from '../ports.js';
import { sqliteEnrollmentLinks } from './admin-tokens.js';
import { adminGuard, newAdminId } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';
import { activePrincipal, sqliteOrgGroups, sqlitePrincipals } from './management.js';
import { sqliteProfileLibrary } from './management-profiles.js';
import { sqliteDeviceProfiles } from './device-profiles.js';
import { sqlitePolicies } from './policies.js';
import { sqliteUsers } from './users.js';
import { sqliteCredentials, sqliteWebSessions } from './web.js';

interface KeyRow {
  id: string;
  name: string;
  scope: ApiKeyScope;
  principal_id: string;
  created_at: number;
  revoked_at: number | null;
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

function keyRecord(row: KeyRow): ApiKeyRecord {
  const r: ApiKeyRecord = {
    id: row.id,
    name: row.name,
    scope: row.scope,
    principalId: row.principal_id,
    createdAt: new Date(row.created_at),
  };
  if (row.revoked_at !== null) r.revokedAt = new Date(row.revoked_at);
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

const KEYS = 'orchard_admin_api_keys';

/** The {@link ApiKeyStore} on a connection context. */
export function sqliteApiKeys(ctx: SqliteContext): ApiKeyStore {
  const run = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    createApiKey: (input) =>
      run(() => {
        if (!['read', 'write'].includes(input.scope)) throw new TypeError('bad scope');
        const row: KeyRow = {
          id: newAdminId('ak'),
          name: input.name,
          scope: input.scope,
          principal_id: input.principalId ?? OWNER_PRINCIPAL_ID,
          created_at: ctx.clock().getTime(),
          revoked_at: null,
        };
        // One transaction with the check, so a key never lands on a principal disabled meanwhile.
        writeTx(ctx, () => {
          activePrincipal(ctx, row.principal_id);
          stmt(
            ctx,
            `INSERT INTO ${KEYS} (id, name, scope, hash, principal_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          ).run(row.id, row.name, row.scope, input.hash, row.principal_id, row.created_at);
        });
        return keyRecord(row);
      }),
    findApiKeyByHash: (hash) =>
      run(() => {
        const sql = `SELECT * FROM ${KEYS} WHERE hash = ? AND revoked_at IS NULL`;
        const row = stmt(ctx, sql).get(hash) as KeyRow | undefined;
        return row ? keyRecord(row) : undefined;
      }),
    listApiKeys: () =>
      run(() =>
        (stmt(ctx, `SELECT * FROM ${KEYS} ORDER BY created_at, id`).all() as KeyRow[]).map(
          keyRecord,
        ),
      ),
    listActiveApiKeys: () =>
      run(() =>
        (
          stmt(ctx, `SELECT * FROM ${KEYS} WHERE revoked_at IS NULL`).all() as (KeyRow & {
            hash: string;
          })[]
        ).map((row) => ({ record: keyRecord(row), hash: row.hash })),
      ),
    revokeApiKey: (id) =>
      run(
        () =>
          stmt(ctx, `UPDATE ${KEYS} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(
            ctx.clock().getTime(),
            id,
          ).changes === 1,
      ),
    countActiveApiKeys: () =>
      run(
        () =>
          stmt(ctx, `SELECT count(*) FROM ${KEYS} WHERE revoked_at IS NULL`)
            .pluck()
            .get() as number,
      ),
  };
}

/** The `seq` a cursor of {@link AuditLog.listAudit} holds; TypeError unless it is one (a decimal `seq`). */
function auditCursor(cursor: string): number {
  const seq = /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(seq)) throw new TypeError('invalid cursor');
  return seq;
}

/** The {@link AuditLog} on a connection context. */
export function sqliteAuditLog(ctx: SqliteContext): AuditLog {
  return {
    audit: (entry) =>
      adminGuard(ctx, () => {
        const at = ctx.clock();
        const sql =
          'INSERT INTO orchard_admin_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)';
        const detail = JSON.stringify(entry.detail);
        const info = stmt(ctx, sql).run(
          at.getTime(),
          entry.actor,
          entry.action,
          entry.target,
          detail,
        );
        return { ...entry, seq: Number(info.lastInsertRowid), at };
      }),
    listAudit: (options) =>
      adminGuard(ctx, () => {
        const before =
          options.cursor === undefined ? Number.MAX_SAFE_INTEGER : auditCursor(options.cursor);
        const sql = 'SELECT * FROM orchard_admin_audit WHERE seq < ? ORDER BY seq DESC LIMIT ?';
        const rows = stmt(ctx, sql).all(before, options.limit + 1) as AuditRow[];
        const items = rows.slice(0, options.limit).map(auditRecord);
        const last = items.at(-1);
        return rows.length > options.limit && last
          ? { items, nextCursor: String(last.seq) }
          : { items };
      }),
  };
}

/** The {@link SettingsStore} on a connection context. */
export function sqliteSettings(ctx: SqliteContext): SettingsStore {
  return {
    getMeta: (key) =>
      adminGuard(
        ctx,
        () =>
          stmt(ctx, 'SELECT value FROM orchard_admin_meta WHERE key = ?').pluck().get(key) as
            string | undefined,
      ),
    setMeta: (key, value) =>
      adminGuard(ctx, () => {
        stmt(ctx, 'INSERT OR REPLACE INTO orchard_admin_meta (key, value) VALUES (?, ?)').run(
          key,
          value,
        );
      }),
  };
}

/** Every admin port on a connection context; `close` releases the context. */
export function sqliteAdminStorage(ctx: SqliteContext, close: () => void): AdminStorage {
  return {
    ...sqliteApiKeys(ctx),
    ...sqliteAuditLog(ctx),
    ...sqliteEnrollmentLinks(ctx),
    ...sqliteSettings(ctx),
    ...sqliteOrgGroups(ctx),
    ...sqlitePrincipals(ctx),
    ...sqliteProfileLibrary(ctx),
    ...sqliteUsers(ctx),
    ...sqlitePolicies(ctx),
    ...sqliteDeviceProfiles(ctx),
    ...sqliteWebSessions(ctx),
    ...sqliteCredentials(ctx),
    close,
  };
}

/**
 * The daemon's own state in SQLite: API keys (hashed), the audit log, enrollment tokens (hashed)
 * and a small key-value table. Its tables are prefixed `orchard_admin_` and live in the same
 * database file as the MDM storage, over a connection of their own (WAL, busy timeout), so one
 * file backs up everything. Methods are synchronous; driver failures become StorageError (503).
 */
import Database from 'better-sqlite3';
import { StorageError } from '../index.js';
import { tokenMethods, type TokenMethods } from './admin-store-tokens.js';
import { guard, newId, type AdminPage } from './admin-store-util.js';

export type { AdminPage } from './admin-store-util.js';

/** Scope of an API key: `read` may only GET; `write` may do everything. */
export type ApiKeyScope = 'read' | 'write';

/** An API key as stored (the key itself is never stored, only its SHA-256). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scope: ApiKeyScope;
  createdAt: Date;
  revokedAt?: Date;
}

/** One audit entry: who (`actor`), what (`action` on `target`), when, and non-secret details. */
export interface AuditEntry {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** The daemon's admin state. */
export interface AdminStore extends TokenMethods {
  /** Stores a key by its hash; throws TypeError on a bad scope or a duplicate hash. */
  createApiKey(input: { name: string; scope: ApiKeyScope; hash: string }): ApiKeyRecord;
  /** The unrevoked key with this hash, or `undefined`. */
  findApiKeyByHash(hash: string): ApiKeyRecord | undefined;
  listApiKeys(): ApiKeyRecord[];
  /** Every unrevoked key with its hash, for constant-time comparison. */
  listActiveApiKeys(): { record: ApiKeyRecord; hash: string }[];
  /** Revokes a key; resolves false when unknown or already revoked. */
  revokeApiKey(id: string): boolean;
  /** Number of unrevoked keys. */
  countActiveApiKeys(): number;
  /** Appends an audit entry and returns it. */
  audit(entry: Omit<AuditEntry, 'seq' | 'at'>): AuditEntry;
  /** Audit entries, newest first; a cursor this list did not return throws TypeError. */
  listAudit(options: { limit: number; cursor?: string }): AdminPage<AuditEntry>;
  /** A stored setting, or `undefined`. */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  /** Runs `fn` in one write transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orchard_admin_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orchard_admin_api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL CHECK (scope IN ('read','write')),
  hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS orchard_admin_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orchard_admin_enrollment_tokens (
  id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, single_use INTEGER NOT NULL,
  uses INTEGER NOT NULL DEFAULT 0, expires_at INTEGER, user_name TEXT,
  created_at INTEGER NOT NULL, revoked_at INTEGER, enrollments INTEGER NOT NULL DEFAULT 0);
`;

interface KeyRow {
  id: string;
  name: string;
  scope: ApiKeyScope;
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

function openDb(path: string): Database.Database {
  try {
    const db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    throw new StorageError(`cannot open the admin tables in ${path}`, { cause: error });
  }
}

function apiKeyMethods(db: Database.Database, clock: () => Date) {
  return {
    createApiKey(input: { name: string; scope: ApiKeyScope; hash: string }): ApiKeyRecord {
      if (!['read', 'write'].includes(input.scope)) throw new TypeError('bad scope');
      const row: KeyRow = {
        id: newId('ak'),
        name: input.name,
        scope: input.scope,
        created_at: clock().getTime(),
        revoked_at: null,
      };
      guard(() =>
        db
          .prepare('INSERT INTO orchard_admin_api_keys VALUES (?, ?, ?, ?, ?, NULL)')
          .run(row.id, row.name, row.scope, input.hash, row.created_at),
      );
      return keyRecord(row);
    },
    findApiKeyByHash(hash: string): ApiKeyRecord | undefined {
      const row = guard(() =>
        db
          .prepare('SELECT * FROM orchard_admin_api_keys WHERE hash = ? AND revoked_at IS NULL')
          .get(hash),
      ) as KeyRow | undefined;
      return row ? keyRecord(row) : undefined;
    },
    listApiKeys: (): ApiKeyRecord[] =>
      guard(() =>
        (
          db
            .prepare('SELECT * FROM orchard_admin_api_keys ORDER BY created_at, id')
            .all() as KeyRow[]
        ).map(keyRecord),
      ),
    listActiveApiKeys: (): { record: ApiKeyRecord; hash: string }[] =>
      guard(() =>
        (
          db
            .prepare('SELECT * FROM orchard_admin_api_keys WHERE revoked_at IS NULL')
            .all() as (KeyRow & { hash: string })[]
        ).map((row) => ({ record: keyRecord(row), hash: row.hash })),
      ),
    revokeApiKey: (id: string): boolean =>
      guard(
        () =>
          db
            .prepare(
              'UPDATE orchard_admin_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
            )
            .run(clock().getTime(), id).changes === 1,
      ),
    countActiveApiKeys: (): number =>
      guard(
        () =>
          (
            db
              .prepare('SELECT count(*) AS n FROM orchard_admin_api_keys WHERE revoked_at IS NULL')
              .get() as {
              n: number;
            }
          ).n,
      ),
  };
}

/** The `seq` a cursor of {@link AdminStore.listAudit} holds; TypeError unless it is one (a decimal `seq`). */
function auditCursor(cursor: string): number {
  const seq = /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(seq)) throw new TypeError('invalid cursor');
  return seq;
}

function auditMethods(db: Database.Database, clock: () => Date) {
  return {
    audit(entry: Omit<AuditEntry, 'seq' | 'at'>): AuditEntry {
      const at = clock();
      const info = guard(() =>
        db
          .prepare(
            'INSERT INTO orchard_admin_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
          )
          .run(at.getTime(), entry.actor, entry.action, entry.target, JSON.stringify(entry.detail)),
      );
      return { ...entry, seq: Number(info.lastInsertRowid), at };
    },
    listAudit(options: { limit: number; cursor?: string }): AdminPage<AuditEntry> {
      const before =
        options.cursor === undefined ? Number.MAX_SAFE_INTEGER : auditCursor(options.cursor);
      const rows = guard(() =>
        db
          .prepare('SELECT * FROM orchard_admin_audit WHERE seq < ? ORDER BY seq DESC LIMIT ?')
          .all(before, options.limit + 1),
      ) as AuditRow[];
      const items = rows.slice(0, options.limit).map(auditRecord);
      const last = items.at(-1);
      return rows.length > options.limit && last
        ? { items, nextCursor: String(last.seq) }
        : { items };
    },
  };
}

/**
 * Opens (creating as needed) the admin tables in the SQLite file at `path`. Throws StorageError
 * when the file cannot be opened.
 */
export function openAdminStore(path: string, clock: () => Date = () => new Date()): AdminStore {
  const db = openDb(path);
  return {
    ...apiKeyMethods(db, clock),
    ...auditMethods(db, clock),
    ...tokenMethods(db, clock),
    getMeta: (key) =>
      guard(
        () =>
          (
            db.prepare('SELECT value FROM orchard_admin_meta WHERE key = ?').get(key) as
              { value: string } | undefined
          )?.value,
      ),
    setMeta: (key, value) => {
      guard(() =>
        db
          .prepare('INSERT OR REPLACE INTO orchard_admin_meta (key, value) VALUES (?, ?)')
          .run(key, value),
      );
    },
    transaction: (fn) => guard(() => db.transaction(fn).immediate()),
    close: () => {
      db.close();
    },
  };
}

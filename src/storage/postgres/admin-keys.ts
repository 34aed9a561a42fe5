/**
 * API keys, the audit log and the settings in PostgreSQL (`orchard_admin_api_keys`,
 * `orchard_admin_audit`, `orchard_admin_meta`). A key is created only for an active
 * administrator, checked in the same statement under a share lock on the principal's row, so a
 * key never lands on an administrator another daemon disables meanwhile. Audit entries are
 * numbered by an identity column: `seq` grows with every entry, whichever daemon writes it.
 */
import { randomBytes } from 'node:crypto';
import {
  OWNER_PRINCIPAL_ID,
  type ApiKeyRecord,
  type ApiKeyScope,
  type ApiKeyStore,
  type AuditEntry,
  type AuditLog,
  type SettingsStore,
} from '../ports.js';
import { one, op, query, run, setIf, type PgContext } from './db.js';

const KEYS = 'orchard_admin_api_keys';
const KEY_COLUMNS = 'id, name, scope, principal_id, created_at, revoked_at';

interface KeyRow {
  id: string;
  name: string;
  scope: ApiKeyScope;
  principal_id: string;
  created_at: Date;
  revoked_at: Date | null;
}

interface AuditRow {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

function keyRecord(row: KeyRow): ApiKeyRecord {
  const r: ApiKeyRecord = {
    id: row.id,
    name: row.name,
    scope: row.scope,
    principalId: row.principal_id,
    createdAt: row.created_at,
  };
  setIf(r, 'revokedAt', row.revoked_at);
  return r;
}

/**
 * Inserts the key when its principal (area D's `orchard_principals`) exists and is not disabled.
 * FOR SHARE waits for a concurrent disable and then re-checks the row, and holds off a disable
 * until this key is committed (the disable then revokes it).
 */
const CREATE_KEY = `WITH p AS (
    SELECT id FROM orchard_principals WHERE id = $5::text AND disabled_at IS NULL FOR SHARE)
  INSERT INTO ${KEYS} (id, name, scope, hash, principal_id, created_at)
  SELECT $1::text, $2::text, $3::text, $4::text, p.id, $6::timestamptz FROM p
  RETURNING ${KEY_COLUMNS}`;

/** The {@link ApiKeyStore} on a context. */
export function pgApiKeys(ctx: PgContext): ApiKeyStore {
  return {
    createApiKey: (input) =>
      op(ctx, async () => {
        if (!['read', 'write'].includes(input.scope)) throw new TypeError('bad scope');
        const principal = input.principalId ?? OWNER_PRINCIPAL_ID;
        const id = `ak_${randomBytes(6).toString('hex')}`;
        const values = [id, input.name, input.scope, input.hash, principal, ctx.clock()];
        const row = await one<KeyRow>(ctx.pool, CREATE_KEY, values);
        if (row === undefined) throw new TypeError(`unknown or disabled principal ${principal}`);
        return keyRecord(row);
      }),
    findApiKeyByHash: (hash) =>
      op(ctx, async () => {
        const sql = `SELECT ${KEY_COLUMNS} FROM ${KEYS} WHERE hash = $1 AND revoked_at IS NULL`;
        const row = await one<KeyRow>(ctx.pool, sql, [hash]);
        return row && keyRecord(row);
      }),
    listApiKeys: () =>
      op(ctx, async () => {
        const sql = `SELECT ${KEY_COLUMNS} FROM ${KEYS} ORDER BY created_at, id`;
        return (await query<KeyRow>(ctx.pool, sql)).map(keyRecord);
      }),
    listActiveApiKeys: () =>
      op(ctx, async () => {
        const sql = `SELECT ${KEY_COLUMNS}, hash FROM ${KEYS} WHERE revoked_at IS NULL`;
        const rows = await query<KeyRow & { hash: string }>(ctx.pool, sql);
        return rows.map((row) => ({ record: keyRecord(row), hash: row.hash }));
      }),
    revokeApiKey: (id) =>
      op(ctx, async () => {
        const sql = `UPDATE ${KEYS} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`;
        return (await run(ctx.pool, sql, [ctx.clock(), id])) === 1;
      }),
    countActiveApiKeys: () =>
      op(ctx, async () => {
        const sql = `SELECT count(*) AS n FROM ${KEYS} WHERE revoked_at IS NULL`;
        return (await one<{ n: number }>(ctx.pool, sql))?.n ?? 0;
      }),
  };
}

/** The `seq` a cursor of {@link AuditLog.listAudit} holds; TypeError unless it is one (a decimal `seq`). */
function auditCursor(cursor: string): number {
  const seq = /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(seq)) throw new TypeError('invalid cursor');
  return seq;
}

function auditRecord(row: AuditRow): AuditEntry {
  const { seq, at, actor, action, target, detail } = row;
  return { seq, at, actor, action, target, detail };
}

const AUDIT = `INSERT INTO orchard_admin_audit (at, actor, action, target, detail)
  VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING seq`;
const LIST_AUDIT = `SELECT seq, at, actor, action, target, detail FROM orchard_admin_audit
  WHERE seq < $1 ORDER BY seq DESC LIMIT $2`;

/** The {@link AuditLog} on a context. */
export function pgAuditLog(ctx: PgContext): AuditLog {
  return {
    audit: (entry) =>
      op(ctx, async () => {
        // JSON.stringify throws TypeError on what JSON cannot hold (a bigint), before any write.
        const text = JSON.stringify(entry.detail);
        const at = ctx.clock();
        const values = [at, entry.actor, entry.action, entry.target, text];
        const row = await one<{ seq: number }>(ctx.pool, AUDIT, values);
        return { ...entry, seq: row?.seq ?? 0, at };
      }),
    listAudit: (options) =>
      op(ctx, async () => {
        const before =
          options.cursor === undefined ? Number.MAX_SAFE_INTEGER : auditCursor(options.cursor);
        const rows = await query<AuditRow>(ctx.pool, LIST_AUDIT, [before, options.limit + 1]);
        const items = rows.slice(0, options.limit).map(auditRecord);
        const last = items.at(-1);
        return rows.length > options.limit && last
          ? { items, nextCursor: String(last.seq) }
          : { items };
      }),
  };
}

/** The {@link SettingsStore} on a context. */
export function pgSettings(ctx: PgContext): SettingsStore {
  return {
    getMeta: (key) =>
      op(ctx, async () => {
        const sql = 'SELECT value FROM orchard_admin_meta WHERE key = $1';
        return (await one<{ value: string }>(ctx.pool, sql, [key]))?.value;
      }),
    setMeta: (key, value) =>
      op(ctx, async () => {
        const sql = `INSERT INTO orchard_admin_meta (key, value) VALUES ($1, $2)
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
        await run(ctx.pool, sql, [key, value]);
      }),
  };
}

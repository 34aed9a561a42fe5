/** SQLite adapter: enrollments (check-in store). */
import type {
  AuthenticateInput,
  CheckinStore,
  EnrollmentIdentity,
  EnrollmentRecord,
  EnrollmentType,
  StateChangeOptions,
  TokenUpdateInput,
} from '../ports.js';
import { checkFacts, checkIds, chunks, unique } from '../policies-check.js';
import { checkId, checkPage, decodeCursor, encodeCursor } from '../support.js';
import type { SqliteContext } from './db.js';
import { allRows, date, op, setIf, stmt, writeTx } from './db.js';
import { endBinding } from './cert-bindings.js';
import type { LastSeenBuffer } from './last-seen.js';
import { insertOutboxEvent } from './outbox.js';
import { unlockTokenFromStore, unlockTokenToStore } from './sealed-secrets.js';

interface EnrollmentRow {
  id: string;
  type: EnrollmentType;
  device_id: string;
  parent_id: string | null;
  user_id: string | null;
  user_short_name: string | null;
  user_long_name: string | null;
  enrolled: number;
  facts: string;
  token_update_count: number;
  created_at: number;
  updated_at: number;
  last_seen_at: number | null;
}

const COLUMNS = `id, type, device_id, parent_id, user_id, user_short_name, user_long_name,
  enrolled, facts, token_update_count, created_at, updated_at, last_seen_at`;

function toRecord(row: EnrollmentRow): EnrollmentRecord {
  const record: EnrollmentRecord = {
    id: row.id,
    type: row.type,
    deviceId: row.device_id,
    enrolled: row.enrolled === 1,
    facts: JSON.parse(row.facts) as Record<string, unknown>,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    tokenUpdateCount: row.token_update_count,
  };
  setIf(record, 'parentId', row.parent_id);
  setIf(record, 'userId', row.user_id);
  setIf(record, 'userShortName', row.user_short_name);
  setIf(record, 'userLongName', row.user_long_name);
  setIf(record, 'lastSeenAt', row.last_seen_at === null ? null : date(row.last_seen_at));
  return record;
}

function find(ctx: SqliteContext, id: string): EnrollmentRecord | undefined {
  const row = stmt(ctx, `SELECT ${COLUMNS} FROM enrollments WHERE id = ?`).get(id) as
    EnrollmentRow | undefined;
  return row === undefined ? undefined : toRecord(row);
}

/** Writes the identity columns, creating the row when absent; returns the previous record. */
function upsertIdentity(
  ctx: SqliteContext,
  input: EnrollmentIdentity,
): EnrollmentRecord | undefined {
  checkId(input.id, 'enrollment id');
  checkId(input.deviceId, 'deviceId');
  const previous = find(ctx, input.id);
  const now = ctx.clock().getTime();
  stmt(
    ctx,
    `INSERT INTO enrollments (id, type, device_id, parent_id, user_id, user_short_name,
       user_long_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET type = excluded.type, device_id = excluded.device_id,
       parent_id = excluded.parent_id, user_id = excluded.user_id,
       user_short_name = excluded.user_short_name, user_long_name = excluded.user_long_name,
       updated_at = excluded.updated_at`,
  ).run(
    input.id,
    input.type,
    input.deviceId,
    input.parentId ?? null,
    input.userId ?? null,
    input.userShortName ?? null,
    input.userLongName ?? null,
    now,
    now,
  );
  return previous;
}

/**
 * Reads the enrollment as the transaction's change left it and writes the event reporting it,
 * in the same transaction: a failed event write rolls the change back.
 */
function changed(
  ctx: SqliteContext,
  id: string,
  options: StateChangeOptions | undefined,
): EnrollmentRecord {
  const record = find(ctx, id);
  if (record === undefined) throw new Error('enrollment vanished inside its transaction');
  const event = options?.event?.(record);
  if (event !== undefined) insertOutboxEvent(ctx, event);
  return record;
}

function storeAuthenticate(
  ctx: SqliteContext,
  input: AuthenticateInput,
  options: StateChangeOptions | undefined,
): EnrollmentRecord {
  return writeTx(ctx, () => {
    upsertIdentity(ctx, input);
    stmt(
      ctx,
      'UPDATE enrollments SET enrolled = 0, token_update_count = 0, facts = ? WHERE id = ?',
    ).run(JSON.stringify(input.facts), input.id);
    return changed(ctx, input.id, options);
  });
}

function storeTokenUpdate(
  ctx: SqliteContext,
  input: TokenUpdateInput,
  options: StateChangeOptions | undefined,
): EnrollmentRecord {
  return writeTx(ctx, () => {
    const previous = upsertIdentity(ctx, input);
    const facts = { ...previous?.facts, ...input.facts };
    stmt(
      ctx,
      `UPDATE enrollments SET enrolled = 1, token_update_count = token_update_count + 1,
         facts = ?, unlock_token = COALESCE(?, unlock_token) WHERE id = ?`,
    ).run(JSON.stringify(facts), unlockTokenToStore(ctx, input.id, input.unlockToken), input.id);
    const { token, pushMagic, topic } = input.push;
    stmt(
      ctx,
      `INSERT INTO push_info (enrollment_id, token, push_magic, topic) VALUES (?, ?, ?, ?)
       ON CONFLICT (enrollment_id) DO UPDATE SET token = excluded.token,
         push_magic = excluded.push_magic, topic = excluded.topic, invalidated_at = NULL`,
    ).run(input.id, token, pushMagic, topic);
    return changed(ctx, input.id, options);
  });
}

function markCheckedOut(
  ctx: SqliteContext,
  id: string,
  options: StateChangeOptions | undefined,
): boolean {
  const now = ctx.clock().getTime();
  const sql = 'UPDATE enrollments SET enrolled = 0, updated_at = ? WHERE id = ?';
  return writeTx(ctx, () => {
    if (stmt(ctx, sql).run(now, id).changes === 0) return false;
    endBinding(ctx, id, now);
    changed(ctx, id, options);
    return true;
  });
}

function listEnrollments(
  ctx: SqliteContext,
  options: Parameters<CheckinStore['listEnrollments']>[0],
): Awaited<ReturnType<CheckinStore['listEnrollments']>> {
  checkPage(options);
  const after = options.cursor === undefined ? '' : decodeCursor(options.cursor, 'string');
  const rows = (
    options.enrolled === undefined
      ? stmt(ctx, `SELECT ${COLUMNS} FROM enrollments WHERE id > ? ORDER BY id LIMIT ?`).all(
          after,
          options.limit + 1,
        )
      : stmt(
          ctx,
          `SELECT ${COLUMNS} FROM enrollments WHERE enrolled = ? AND id > ? ORDER BY id LIMIT ?`,
        ).all(options.enrolled ? 1 : 0, after, options.limit + 1)
  ) as EnrollmentRow[];
  const items = rows.slice(0, options.limit).map(toRecord);
  const last = items.at(-1);
  return rows.length > options.limit && last !== undefined
    ? { items, nextCursor: encodeCursor(last.id) }
    : { items };
}

/** The enrollments of `ids` that exist, in first-seen order, read in chunks of JSON arrays. */
function findMany(ctx: SqliteContext, ids: readonly string[]): EnrollmentRecord[] {
  checkIds(ids, 'enrollment id');
  const sql = `SELECT ${COLUMNS} FROM enrollments WHERE id IN (SELECT value FROM json_each(?))`;
  const out: EnrollmentRecord[] = [];
  for (const chunk of chunks(unique(ids))) {
    const rows = allRows<EnrollmentRow>(ctx, sql, JSON.stringify(chunk));
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of chunk) {
      const row = byId.get(id);
      if (row !== undefined) out.push(toRecord(row));
    }
  }
  return out;
}

/** Merges `facts` over the stored ones in one transaction; false when the enrollment is absent. */
function mergeFacts(ctx: SqliteContext, id: string, facts: Record<string, unknown>): boolean {
  checkFacts(facts);
  return writeTx(ctx, () => {
    const sql = 'SELECT facts FROM enrollments WHERE id = ?';
    const stored = stmt(ctx, sql).pluck().get(id) as string | undefined;
    if (stored === undefined) return false;
    const merged = { ...(JSON.parse(stored) as Record<string, unknown>), ...facts };
    stmt(ctx, 'UPDATE enrollments SET facts = ?, updated_at = ? WHERE id = ?').run(
      JSON.stringify(merged),
      ctx.clock().getTime(),
      id,
    );
    return true;
  });
}

/** The {@link CheckinStore} of the SQLite adapter; `lastSeen` buffers `touchLastSeen`. */
export function sqliteCheckin(ctx: SqliteContext, lastSeen: LastSeenBuffer): CheckinStore {
  return {
    storeAuthenticate: (input, options) => op(ctx, () => storeAuthenticate(ctx, input, options)),
    storeTokenUpdate: (input, options) => op(ctx, () => storeTokenUpdate(ctx, input, options)),
    markCheckedOut: (id, options) => op(ctx, () => markCheckedOut(ctx, id, options)),
    findEnrollment: (id) =>
      op(ctx, () => {
        const record = find(ctx, id);
        return record === undefined ? undefined : lastSeen.overlay(record);
      }),
    findEnrollments: (ids) =>
      op(ctx, () => findMany(ctx, ids).map((record) => lastSeen.overlay(record))),
    mergeFacts: (id, facts) => op(ctx, () => mergeFacts(ctx, id, facts)),
    listEnrollments: (options) =>
      op(ctx, () => {
        const page = listEnrollments(ctx, options);
        page.items = page.items.map((record) => lastSeen.overlay(record));
        return page;
      }),
    touchLastSeen: (ids, at) =>
      op(ctx, () => {
        lastSeen.touch(ids, at);
      }),
    findUnlockToken: (id) =>
      op(ctx, () => {
        const sql = 'SELECT unlock_token AS t FROM enrollments WHERE id = ?';
        const row = stmt(ctx, sql).get(id) as { t: Uint8Array | null } | undefined;
        return row?.t == null ? undefined : unlockTokenFromStore(ctx, id, row.t);
      }),
  };
}

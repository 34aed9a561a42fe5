/**
 * PostgreSQL adapter: check-ins: enrollments, Authenticate/TokenUpdate/CheckOut, facts, listing,
 * last seen, UnlockToken. Each state change is one statement (an upsert, or a data-modifying
 * `WITH`), so two daemons answering the same device never interleave half-changes; with an event
 * it runs in a transaction with the event's insert (B's `insertOutboxEvent`). Owner: area A.
 */
import { checkFacts, checkIds, chunks, unique } from '../policies-check.js';
import type {
  AuthenticateInput,
  CheckinStore,
  EnrollmentIdentity,
  EnrollmentRecord,
  EnrollmentType,
  StateChangeOptions,
  TokenUpdateInput,
} from '../ports.js';
import { checkId, checkPage, decodeCursor, encodeCursor } from '../support.js';
import { one, op, query, run, setIf, tx, type PgContext, type Queryable } from './db.js';
import type { PgLastSeen } from './last-seen.js';
import { insertOutboxEvent } from './outbox.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface EnrollmentRow {
  id: string;
  type: EnrollmentType;
  device_id: string;
  parent_id: string | null;
  user_id: string | null;
  user_short_name: string | null;
  user_long_name: string | null;
  enrolled: boolean;
  facts: Record<string, unknown>;
  token_update_count: number;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date | null;
}

const COLUMNS = `id, type, device_id, parent_id, user_id, user_short_name, user_long_name,
  enrolled, facts, token_update_count, created_at, updated_at, last_seen_at`;

/** Ids per `= ANY($1)` lookup. */
const LOOKUP_CHUNK = 10_000;

function toRecord(row: EnrollmentRow): EnrollmentRecord {
  const record: EnrollmentRecord = {
    id: row.id,
    type: row.type,
    deviceId: row.device_id,
    enrolled: row.enrolled,
    facts: row.facts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    tokenUpdateCount: row.token_update_count,
  };
  setIf(record, 'parentId', row.parent_id);
  setIf(record, 'userId', row.user_id);
  setIf(record, 'userShortName', row.user_short_name);
  setIf(record, 'userLongName', row.user_long_name);
  setIf(record, 'lastSeenAt', row.last_seen_at);
  return record;
}

/** The record with a buffered `lastSeenAt` applied when it is newer than the stored one. */
function overlay(lastSeen: PgLastSeen, record: EnrollmentRecord): EnrollmentRecord {
  const at = lastSeen.pending(record.id);
  if (at !== undefined && at.getTime() > (record.lastSeenAt?.getTime() ?? 0))
    record.lastSeenAt = at;
  return record;
}

/** The identity columns' values ($1..$7) of `input`, after checking its ids. */
function identityValues(input: EnrollmentIdentity): unknown[] {
  checkId(input.id, 'enrollment id');
  checkId(input.deviceId, 'deviceId');
  return [
    input.id,
    input.type,
    input.deviceId,
    input.parentId ?? null,
    input.userId ?? null,
    input.userShortName ?? null,
    input.userLongName ?? null,
  ];
}

const IDENTITY_UPDATE = `type = excluded.type, device_id = excluded.device_id,
  parent_id = excluded.parent_id, user_id = excluded.user_id,
  user_short_name = excluded.user_short_name, user_long_name = excluded.user_long_name,
  updated_at = excluded.updated_at`;

const AUTHENTICATE = `INSERT INTO enrollments (id, type, device_id, parent_id, user_id,
    user_short_name, user_long_name, enrolled, facts, token_update_count, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, false, $8::jsonb, 0, $9, $9)
  ON CONFLICT (id) DO UPDATE SET ${IDENTITY_UPDATE}, enrolled = false, token_update_count = 0,
    facts = excluded.facts
  RETURNING ${COLUMNS}`;

/** The enrollment upsert and the push-info upsert, in one statement. */
const TOKEN_UPDATE = `WITH e AS (
    INSERT INTO enrollments (id, type, device_id, parent_id, user_id, user_short_name,
      user_long_name, enrolled, facts, token_update_count, created_at, updated_at, unlock_token)
    VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8::jsonb, 1, $9, $9, $10)
    ON CONFLICT (id) DO UPDATE SET ${IDENTITY_UPDATE}, enrolled = true,
      token_update_count = enrollments.token_update_count + 1,
      facts = enrollments.facts || excluded.facts,
      unlock_token = COALESCE(excluded.unlock_token, enrollments.unlock_token)
    RETURNING ${COLUMNS}),
  p AS (
    INSERT INTO push_info (enrollment_id, token, push_magic, topic) VALUES ($1, $11, $12, $13)
    ON CONFLICT (enrollment_id) DO UPDATE SET token = excluded.token,
      push_magic = excluded.push_magic, topic = excluded.topic, invalidated_at = NULL)
  SELECT * FROM e`;

/** Not enrolled, and the certificate binding ended (kept if already ended), in one statement. */
const CHECK_OUT = `WITH e AS (
    UPDATE enrollments SET enrolled = false, updated_at = $2 WHERE id = $1 RETURNING ${COLUMNS}),
  b AS (
    UPDATE cert_bindings SET ended_at = COALESCE(ended_at, $2)
     WHERE enrollment_id = $1 AND EXISTS (SELECT 1 FROM e))
  SELECT * FROM e`;

/**
 * Runs the change `text` (resolving the enrollment's row, or none) alone, or with the event
 * `options` builds from the changed record in one transaction: both are stored or neither.
 */
async function change(
  ctx: PgContext,
  text: string,
  values: unknown[],
  options: StateChangeOptions | undefined,
): Promise<EnrollmentRecord | undefined> {
  const build = options?.event;
  const apply = async (on: Queryable): Promise<EnrollmentRecord | undefined> => {
    const row = await one<EnrollmentRow>(on, text, values);
    return row === undefined ? undefined : toRecord(row);
  };
  if (build === undefined) return op(ctx, () => apply(ctx.pool));
  return tx(ctx, async (client) => {
    const record = await apply(client);
    if (record === undefined) return undefined;
    const event = build(structuredClone(record));
    if (event !== undefined) await insertOutboxEvent(client, ctx, event);
    return record;
  });
}

async function storeAuthenticate(
  ctx: PgContext,
  input: AuthenticateInput,
  options: StateChangeOptions | undefined,
): Promise<EnrollmentRecord> {
  const values = identityValues(input);
  checkFacts(input.facts);
  values.push(JSON.stringify(input.facts), ctx.clock());
  const record = await change(ctx, AUTHENTICATE, values, options);
  if (record === undefined) throw new Error('the enrollment upsert returned no row');
  return record;
}

async function storeTokenUpdate(
  ctx: PgContext,
  input: TokenUpdateInput,
  options: StateChangeOptions | undefined,
): Promise<EnrollmentRecord> {
  const values = identityValues(input);
  const facts = input.facts ?? {};
  checkFacts(facts);
  const unlock = input.unlockToken;
  const { token, pushMagic, topic } = input.push;
  values.push(
    JSON.stringify(facts),
    ctx.clock(),
    unlock === undefined ? null : toStore(ctx, 'unlock-token', input.id, unlock),
    token,
    pushMagic,
    topic,
  );
  const record = await change(ctx, TOKEN_UPDATE, values, options);
  if (record === undefined) throw new Error('the enrollment upsert returned no row');
  return record;
}

async function listEnrollments(
  ctx: PgContext,
  options: Parameters<CheckinStore['listEnrollments']>[0],
): ReturnType<CheckinStore['listEnrollments']> {
  checkPage(options);
  const after = options.cursor === undefined ? '' : decodeCursor(options.cursor, 'string');
  const rows =
    options.enrolled === undefined
      ? await query<EnrollmentRow>(
          ctx.pool,
          `SELECT ${COLUMNS} FROM enrollments WHERE id > $1
            ORDER BY id LIMIT $2`,
          [after, options.limit + 1],
        )
      : await query<EnrollmentRow>(
          ctx.pool,
          `SELECT ${COLUMNS} FROM enrollments WHERE enrolled = $1 AND id > $2
            ORDER BY id LIMIT $3`,
          [options.enrolled, after, options.limit + 1],
        );
  const items = rows.slice(0, options.limit).map(toRecord);
  const last = items.at(-1);
  return rows.length > options.limit && last !== undefined
    ? { items, nextCursor: encodeCursor(last.id) }
    : { items };
}

/** The enrollments of `ids` that exist, in first-seen order. */
async function findMany(ctx: PgContext, ids: readonly string[]): Promise<EnrollmentRecord[]> {
  checkIds(ids, 'enrollment id');
  const sql = `SELECT ${COLUMNS} FROM enrollments WHERE id = ANY($1::text[])`;
  const out: EnrollmentRecord[] = [];
  for (const chunk of chunks(unique(ids), LOOKUP_CHUNK)) {
    const rows = await query<EnrollmentRow>(ctx.pool, sql, [chunk]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of chunk) {
      const row = byId.get(id);
      if (row !== undefined) out.push(toRecord(row));
    }
  }
  return out;
}

async function findOne(ctx: PgContext, id: string): Promise<EnrollmentRecord | undefined> {
  const row = await one<EnrollmentRow>(
    ctx.pool,
    `SELECT ${COLUMNS} FROM enrollments WHERE id = $1`,
    [id],
  );
  return row === undefined ? undefined : toRecord(row);
}

async function findUnlockToken(ctx: PgContext, id: string): Promise<Uint8Array | undefined> {
  const sql = 'SELECT unlock_token AS t FROM enrollments WHERE id = $1';
  const row = await one<{ t: Buffer | null }>(ctx.pool, sql, [id]);
  return row?.t == null ? undefined : fromStore(ctx, 'unlock-token', id, row.t);
}

/** Merges `facts` over the stored ones in one statement; false when the enrollment is absent. */
async function mergeFacts(
  ctx: PgContext,
  id: string,
  facts: Record<string, unknown>,
): Promise<boolean> {
  checkFacts(facts);
  const sql = `UPDATE enrollments SET facts = facts || $2::jsonb, updated_at = $3 WHERE id = $1`;
  return (await run(ctx.pool, sql, [id, JSON.stringify(facts), ctx.clock()])) > 0;
}

/** The {@link CheckinStore} on a context; last-seen instants go through `lastSeen`. */
export function pgCheckin(ctx: PgContext, lastSeen: PgLastSeen): CheckinStore {
  const seen = (record: EnrollmentRecord): EnrollmentRecord => overlay(lastSeen, record);
  return {
    storeAuthenticate: (input, options) =>
      op(ctx, async () => seen(await storeAuthenticate(ctx, input, options))),
    storeTokenUpdate: (input, options) =>
      op(ctx, async () => seen(await storeTokenUpdate(ctx, input, options))),
    markCheckedOut: (id, options) =>
      op(ctx, async () => {
        const values = [id, ctx.clock()];
        return (await change(ctx, CHECK_OUT, values, options)) !== undefined;
      }),
    findEnrollment: (id) =>
      op(ctx, async () => {
        const record = await findOne(ctx, id);
        return record === undefined ? undefined : seen(record);
      }),
    findEnrollments: (ids) => op(ctx, async () => (await findMany(ctx, ids)).map(seen)),
    mergeFacts: (id, facts) => op(ctx, () => mergeFacts(ctx, id, facts)),
    listEnrollments: (options) =>
      op(ctx, async () => {
        const page = await listEnrollments(ctx, options);
        page.items = page.items.map(seen);
        return page;
      }),
    touchLastSeen: (ids, at) => op(ctx, () => lastSeen.touch(ids, at)),
    findUnlockToken: (id) => op(ctx, () => findUnlockToken(ctx, id)),
  };
}

/**
 * What Orchard sent to and installed on each enrollment, in PostgreSQL:
 * `orchard_device_profiles` keyed by (enrollment, identifier) and `orchard_profile_reconcile`.
 * A batch of records is written in one transaction by multi-row `INSERT ... SELECT FROM unnest(...)
 * ON CONFLICT DO UPDATE` statements (one per 5,000 records), its rows in key order so two daemons
 * writing the same records lock them alike; lists of ids are bound as one array.
 */
import {
  checkDeviceProfiles,
  checkIds,
  checkLimit,
  checkReconcile,
  chunks,
  compareBytes,
  decodePairCursor,
  encodePairCursor,
  MAX_OWNED_PAGE,
  unique,
} from '../policies-check.js';
import type {
  DeliveryChannel,
  DeviceProfileRecord,
  DeviceProfileState,
  DeviceProfileStore,
  Page,
  ReconcileRecord,
} from '../ports.js';
import { checkDate, checkId } from '../support.js';
import { one, op, query, run, setIf, tx, type PgContext, type Queryable } from './db.js';

interface Row {
  enrollment_id: string;
  identifier: string;
  profile_id: string;
  version: number;
  payload_uuid: string | null;
  state: DeviceProfileState;
  reason: string | null;
  channel: DeliveryChannel;
  command_uuid: string | null;
  installed_at: Date | null;
  updated_at: Date;
}

interface ReconcileRow {
  enrollment_id: string;
  command_uuid: string | null;
  queued_at: Date | null;
  reconciled_at: Date | null;
}

/** Records per INSERT statement of a batch (eleven arrays of this many values each). */
export const PUT_CHUNK = 5000;

const TABLE = 'orchard_device_profiles';
const COLUMNS = `enrollment_id, identifier, profile_id, version, payload_uuid, state, reason,
  channel, command_uuid, installed_at, updated_at`;
const SELECT = `SELECT ${COLUMNS} FROM ${TABLE}`;

const UPSERT = `INSERT INTO ${TABLE} (${COLUMNS})
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[])
  ON CONFLICT (enrollment_id, identifier) DO UPDATE SET profile_id = EXCLUDED.profile_id,
    version = EXCLUDED.version, payload_uuid = EXCLUDED.payload_uuid, state = EXCLUDED.state,
    reason = EXCLUDED.reason, channel = EXCLUDED.channel, command_uuid = EXCLUDED.command_uuid,
    installed_at = EXCLUDED.installed_at, updated_at = EXCLUDED.updated_at`;

function record(row: Row): DeviceProfileRecord {
  const r: DeviceProfileRecord = {
    enrollmentId: row.enrollment_id,
    identifier: row.identifier,
    profileId: row.profile_id,
    version: row.version,
    state: row.state,
    channel: row.channel,
    updatedAt: row.updated_at,
  };
  setIf(r, 'payloadUuid', row.payload_uuid);
  setIf(r, 'reason', row.reason);
  setIf(r, 'commandUuid', row.command_uuid);
  setIf(r, 'installedAt', row.installed_at);
  return r;
}

function reconcileRecord(row: ReconcileRow): ReconcileRecord {
  const r: ReconcileRecord = { enrollmentId: row.enrollment_id };
  setIf(r, 'commandUuid', row.command_uuid);
  setIf(r, 'queuedAt', row.queued_at);
  setIf(r, 'reconciledAt', row.reconciled_at);
  return r;
}

/** By (enrollment, identifier) in byte order: the order every writer locks rows in. */
function byKey(a: DeviceProfileRecord, b: DeviceProfileRecord): number {
  return compareBytes(a.enrollmentId, b.enrollmentId) || compareBytes(a.identifier, b.identifier);
}

/** The eleven column arrays of `records` (times as ISO strings, exact to the millisecond). */
function columns(records: readonly DeviceProfileRecord[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 11 }, () => new Array<unknown>(records.length));
  records.forEach((r, i) => {
    const values = [
      ...[r.enrollmentId, r.identifier, r.profileId, r.version, r.payloadUuid ?? null, r.state],
      ...[r.reason ?? null, r.channel, r.commandUuid ?? null, r.installedAt?.toISOString() ?? null],
      r.updatedAt.toISOString(),
    ];
    values.forEach((value, c) => {
      (cols[c] as unknown[])[i] = value;
    });
  });
  return cols;
}

async function put(ctx: PgContext, records: readonly DeviceProfileRecord[]): Promise<void> {
  checkDeviceProfiles(records);
  if (records.length === 0) return;
  const sorted = [...records].sort(byKey);
  const batches = chunks(sorted, PUT_CHUNK).map(columns);
  await tx(ctx, async (client) => {
    for (const values of batches) await run(client, UPSERT, values);
  });
}

async function listOf(
  ctx: PgContext,
  enrollmentIds: readonly string[],
): Promise<DeviceProfileRecord[]> {
  checkIds(enrollmentIds, 'enrollment id');
  if (enrollmentIds.length === 0) return [];
  const sql = `${SELECT} WHERE enrollment_id = ANY($1::text[]) ORDER BY enrollment_id, identifier`;
  const rows = await query<Row>(ctx.pool, sql, [unique(enrollmentIds)]);
  return rows.map(record);
}

const BY_PROFILE = `${SELECT} WHERE profile_id = $1 AND (enrollment_id, identifier) > ($2, $3)
  ORDER BY enrollment_id, identifier LIMIT $4`;
const BY_PROFILE_STATES = `${SELECT} WHERE profile_id = $1
  AND (enrollment_id, identifier) > ($2, $3) AND state = ANY($5::text[])
  ORDER BY enrollment_id, identifier LIMIT $4`;

async function listProfileDevices(
  ctx: PgContext,
  profileId: string,
  options: Parameters<DeviceProfileStore['listProfileDevices']>[1],
): Promise<Page<DeviceProfileRecord>> {
  checkLimit(options.limit, MAX_OWNED_PAGE);
  const [afterId, afterIdentifier] =
    options.cursor === undefined ? ['', ''] : decodePairCursor(options.cursor);
  const values: unknown[] = [profileId, afterId, afterIdentifier, options.limit + 1];
  const rows =
    options.states === undefined
      ? await query<Row>(ctx.pool, BY_PROFILE, values)
      : await query<Row>(ctx.pool, BY_PROFILE_STATES, [...values, [...options.states]]);
  const items = rows.slice(0, options.limit).map(record);
  const last = items.at(-1);
  return rows.length > options.limit && last
    ? { items, nextCursor: encodePairCursor(last.enrollmentId, last.identifier) }
    : { items };
}

async function remove(
  ctx: PgContext,
  enrollmentId: string,
  identifiers?: readonly string[],
): Promise<number> {
  if (identifiers === undefined)
    return run(ctx.pool, `DELETE FROM ${TABLE} WHERE enrollment_id = $1`, [enrollmentId]);
  checkIds(identifiers, 'identifier');
  const sql = `DELETE FROM ${TABLE} WHERE enrollment_id = $1 AND identifier = ANY($2::text[])`;
  return run(ctx.pool, sql, [enrollmentId, unique(identifiers)]);
}

async function putReconcile(ctx: PgContext, r: ReconcileRecord): Promise<void> {
  checkReconcile(r);
  await run(
    ctx.pool,
    `INSERT INTO orchard_profile_reconcile (enrollment_id, command_uuid, queued_at, reconciled_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT (enrollment_id) DO UPDATE SET
       command_uuid = EXCLUDED.command_uuid, queued_at = EXCLUDED.queued_at,
       reconciled_at = EXCLUDED.reconciled_at`,
    [r.enrollmentId, r.commandUuid ?? null, r.queuedAt ?? null, r.reconciledAt ?? null],
  );
}

async function findReconcile(
  ctx: PgContext,
  enrollmentId: string,
): Promise<ReconcileRecord | undefined> {
  checkId(enrollmentId, 'enrollment id');
  const sql = `SELECT enrollment_id, command_uuid, queued_at, reconciled_at
    FROM orchard_profile_reconcile WHERE enrollment_id = $1`;
  const row = await one<ReconcileRow>(ctx.pool, sql, [enrollmentId]);
  return row && reconcileRecord(row);
}

/**
 * The due test of `reconcileDue` in SQL: no record, or not reconciled since `$2` and nothing
 * queued since; candidates keep their given order (their ordinality).
 */
const DUE = `SELECT c.id FROM unnest($1::text[]) WITH ORDINALITY AS c (id, n)
  LEFT JOIN orchard_profile_reconcile r ON r.enrollment_id = c.id
  WHERE r.enrollment_id IS NULL
    OR ((r.reconciled_at IS NULL OR r.reconciled_at < $2)
      AND (r.queued_at IS NULL OR r.queued_at < $2))
  ORDER BY c.n LIMIT $3`;

async function reconcileDueOf(
  ctx: PgContext,
  candidates: readonly string[],
  before: Date,
  limit: number,
): Promise<string[]> {
  checkIds(candidates, 'enrollment id');
  checkDate(before, 'before');
  checkLimit(limit, MAX_OWNED_PAGE);
  if (candidates.length === 0) return [];
  const rows = await query<{ id: string }>(ctx.pool, DUE, [unique(candidates), before, limit]);
  return rows.map((r) => r.id);
}

async function findByCommand(
  on: Queryable,
  enrollmentId: string,
  commandUuid: string,
): Promise<DeviceProfileRecord | undefined> {
  const sql = `${SELECT} WHERE enrollment_id = $1 AND command_uuid = $2
    ORDER BY identifier LIMIT 1`;
  const row = await one<Row>(on, sql, [enrollmentId, commandUuid]);
  return row && record(row);
}

/** The {@link DeviceProfileStore} on a context. */
export function pgDeviceProfiles(ctx: PgContext): DeviceProfileStore {
  const guard = <T>(fn: () => Promise<T>): Promise<T> => op(ctx, fn);
  return {
    putDeviceProfiles: (records) => guard(() => put(ctx, records)),
    listDeviceProfiles: (enrollmentId) =>
      guard(async () => {
        const sql = `${SELECT} WHERE enrollment_id = $1 ORDER BY identifier`;
        return (await query<Row>(ctx.pool, sql, [enrollmentId])).map(record);
      }),
    listDeviceProfilesOf: (enrollmentIds) => guard(() => listOf(ctx, enrollmentIds)),
    findDeviceProfile: (enrollmentId, identifier) =>
      guard(async () => {
        const sql = `${SELECT} WHERE enrollment_id = $1 AND identifier = $2`;
        const row = await one<Row>(ctx.pool, sql, [enrollmentId, identifier]);
        return row && record(row);
      }),
    findDeviceProfileByCommand: (enrollmentId, commandUuid) =>
      guard(() => findByCommand(ctx.pool, enrollmentId, commandUuid)),
    listProfileDevices: (profileId, options) =>
      guard(() => listProfileDevices(ctx, profileId, options)),
    deleteDeviceProfiles: (enrollmentId, identifiers) =>
      guard(() => remove(ctx, enrollmentId, identifiers)),
    putReconcile: (r) => guard(() => putReconcile(ctx, r)),
    findReconcile: (enrollmentId) => guard(() => findReconcile(ctx, enrollmentId)),
    listReconcileDue: (candidates, before, limit) =>
      guard(() => reconcileDueOf(ctx, candidates, before, limit)),
  };
}

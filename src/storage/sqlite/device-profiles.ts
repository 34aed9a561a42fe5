/**
 * What Orchard sent to and installed on each enrollment, in SQLite (migration 9):
 * `orchard_device_profiles` keyed by (enrollment, identifier) and `orchard_profile_reconcile`.
 * A batch of records is written in one transaction with one prepared statement (100,000 rows in
 * well under a second); lists of ids are bound as JSON arrays in chunks.
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
  reconcileDue,
  unique,
} from '../policies-check.js';
import type {
  DeliveryChannel,
  DeviceProfileRecord,
  DeviceProfileState,
  DeviceProfileStore,
  ReconcileRecord,
} from '../ports.js';
import { checkDate, checkId } from '../support.js';
import { adminGuard } from './admin-util.js';
import { ms, setIf, stmt, writeTx, type SqliteContext } from './db.js';

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
  installed_at: number | null;
  updated_at: number;
}

interface ReconcileRow {
  enrollment_id: string;
  command_uuid: string | null;
  queued_at: number | null;
  reconciled_at: number | null;
}

const TABLE = 'orchard_device_profiles';
const SELECT = `SELECT * FROM ${TABLE}`;
const IN_IDS = 'IN (SELECT value FROM json_each(?))';

function record(row: Row): DeviceProfileRecord {
  const r: DeviceProfileRecord = {
    enrollmentId: row.enrollment_id,
    identifier: row.identifier,
    profileId: row.profile_id,
    version: row.version,
    state: row.state,
    channel: row.channel,
    updatedAt: new Date(row.updated_at),
  };
  setIf(r, 'payloadUuid', row.payload_uuid);
  setIf(r, 'reason', row.reason);
  setIf(r, 'commandUuid', row.command_uuid);
  if (row.installed_at !== null) r.installedAt = new Date(row.installed_at);
  return r;
}

function reconcileRecord(row: ReconcileRow): ReconcileRecord {
  const r: ReconcileRecord = { enrollmentId: row.enrollment_id };
  setIf(r, 'commandUuid', row.command_uuid);
  if (row.queued_at !== null) r.queuedAt = new Date(row.queued_at);
  if (row.reconciled_at !== null) r.reconciledAt = new Date(row.reconciled_at);
  return r;
}

/** Records per multi-row INSERT: one call into the driver binds this many rows. */
const ROWS_PER_INSERT = 100;
const INSERT_HEAD = `INSERT OR REPLACE INTO ${TABLE} (enrollment_id, identifier, profile_id, version,
  payload_uuid, state, reason, channel, command_uuid, installed_at, updated_at) VALUES `;
const ROW_PLACES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_ONE = INSERT_HEAD + ROW_PLACES;
const INSERT_MANY = INSERT_HEAD + Array<string>(ROWS_PER_INSERT).fill(ROW_PLACES).join(', ');

/** Appends the bound values of `r`, in the column order of {@link INSERT_HEAD}. */
function pushValues(out: unknown[], r: DeviceProfileRecord): void {
  out.push(
    r.enrollmentId,
    r.identifier,
    r.profileId,
    r.version,
    r.payloadUuid ?? null,
    r.state,
    r.reason ?? null,
    r.channel,
    r.commandUuid ?? null,
    ms(r.installedAt),
    r.updatedAt.getTime(),
  );
}

/**
 * Writes the records in one transaction, {@link ROWS_PER_INSERT} rows per statement call (a
 * fifth less CPU than a call per row for 100,000 records) and the rest one by one.
 */
function put(ctx: SqliteContext, records: readonly DeviceProfileRecord[]): void {
  checkDeviceProfiles(records);
  if (records.length === 0) return;
  const many = stmt(ctx, INSERT_MANY);
  const one = stmt(ctx, INSERT_ONE);
  const values: unknown[] = [];
  writeTx(ctx, () => {
    const whole = records.length - (records.length % ROWS_PER_INSERT);
    for (let i = 0; i < whole; i += ROWS_PER_INSERT) {
      values.length = 0;
      for (let j = i; j < i + ROWS_PER_INSERT; j++)
        pushValues(values, records[j] as DeviceProfileRecord);
      many.run(values);
    }
    for (let i = whole; i < records.length; i++) {
      values.length = 0;
      pushValues(values, records[i] as DeviceProfileRecord);
      one.run(values);
    }
  });
}

/** A raw row (`SELECT *` as an array, in the table's column order) as a record. */
function rawRecord(row: unknown[]): DeviceProfileRecord {
  const r: DeviceProfileRecord = {
    enrollmentId: row[0] as string,
    identifier: row[1] as string,
    profileId: row[2] as string,
    version: row[3] as number,
    state: row[5] as DeviceProfileState,
    channel: row[7] as DeliveryChannel,
    updatedAt: new Date(row[10] as number),
  };
  if (row[4] !== null) r.payloadUuid = row[4] as string;
  if (row[6] !== null) r.reason = row[6] as string;
  if (row[8] !== null) r.commandUuid = row[8] as string;
  if (row[9] !== null) r.installedAt = new Date(row[9] as number);
  return r;
}

const COLUMN_ORDER = [
  ...['enrollment_id', 'identifier', 'profile_id', 'version', 'payload_uuid', 'state'],
  ...['reason', 'channel', 'command_uuid', 'installed_at', 'updated_at'],
] as const;
const LIST_OF = `SELECT ${COLUMN_ORDER.join(', ')} FROM ${TABLE} WHERE enrollment_id ${IN_IDS}
  ORDER BY enrollment_id, identifier`;

function listOf(ctx: SqliteContext, enrollmentIds: readonly string[]): DeviceProfileRecord[] {
  checkIds(enrollmentIds, 'enrollment id');
  const sorted = unique(enrollmentIds).sort(compareBytes);
  // Rows as arrays built straight into records (no row object between).
  const statement = stmt(ctx, LIST_OF).raw(true);
  const out: DeviceProfileRecord[] = [];
  // Chunks of sorted ids keep the whole result in (enrollment, identifier) order.
  for (const ids of chunks(sorted))
    for (const row of statement.all(JSON.stringify(ids)) as unknown[][]) out.push(rawRecord(row));
  return out;
}

function listProfileDevices(
  ctx: SqliteContext,
  profileId: string,
  options: Parameters<DeviceProfileStore['listProfileDevices']>[1],
) {
  checkLimit(options.limit, MAX_OWNED_PAGE);
  const [afterId, afterIdentifier] =
    options.cursor === undefined ? ['', ''] : decodePairCursor(options.cursor);
  const states = options.states === undefined ? null : JSON.stringify(options.states);
  const sql = `${SELECT} WHERE profile_id = ?
      AND (enrollment_id > ? OR (enrollment_id = ? AND identifier > ?))
      AND (? IS NULL OR state ${IN_IDS})
    ORDER BY enrollment_id, identifier LIMIT ?`;
  const rows = stmt(ctx, sql).all(
    ...[profileId, afterId, afterId, afterIdentifier],
    ...[states, states, options.limit + 1],
  ) as Row[];
  const items = rows.slice(0, options.limit).map(record);
  const last = items.at(-1);
  return rows.length > options.limit && last
    ? { items, nextCursor: encodePairCursor(last.enrollmentId, last.identifier) }
    : { items };
}

function remove(ctx: SqliteContext, enrollmentId: string, identifiers?: readonly string[]): number {
  if (identifiers === undefined)
    return stmt(ctx, `DELETE FROM ${TABLE} WHERE enrollment_id = ?`).run(enrollmentId).changes;
  checkIds(identifiers, 'identifier');
  const sql = `DELETE FROM ${TABLE} WHERE enrollment_id = ? AND identifier ${IN_IDS}`;
  return writeTx(ctx, () =>
    chunks(unique(identifiers)).reduce(
      (n, ids) => n + stmt(ctx, sql).run(enrollmentId, JSON.stringify(ids)).changes,
      0,
    ),
  );
}

function reconcileDueOf(
  ctx: SqliteContext,
  candidates: readonly string[],
  before: Date,
  limit: number,
): string[] {
  checkIds(candidates, 'enrollment id');
  checkDate(before, 'before');
  checkLimit(limit, MAX_OWNED_PAGE);
  const sql = `SELECT * FROM orchard_profile_reconcile WHERE enrollment_id ${IN_IDS}`;
  const out: string[] = [];
  for (const ids of chunks(unique(candidates))) {
    const rows = stmt(ctx, sql).all(JSON.stringify(ids)) as ReconcileRow[];
    const byId = new Map(rows.map((row) => [row.enrollment_id, reconcileRecord(row)]));
    for (const id of ids) {
      if (out.length >= limit) return out;
      if (reconcileDue(byId.get(id), before)) out.push(id);
    }
  }
  return out;
}

/** The {@link DeviceProfileStore} on a connection context. */
export function sqliteDeviceProfiles(ctx: SqliteContext): DeviceProfileStore {
  const run = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    putDeviceProfiles: (records) =>
      run(() => {
        put(ctx, records);
      }),
    listDeviceProfiles: (enrollmentId) =>
      run(() =>
        (
          stmt(ctx, `${SELECT} WHERE enrollment_id = ? ORDER BY identifier`).all(
            enrollmentId,
          ) as Row[]
        ).map(record),
      ),
    listDeviceProfilesOf: (enrollmentIds) => run(() => listOf(ctx, enrollmentIds)),
    findDeviceProfile: (enrollmentId, identifier) =>
      run(() => {
        const sql = `${SELECT} WHERE enrollment_id = ? AND identifier = ?`;
        const row = stmt(ctx, sql).get(enrollmentId, identifier) as Row | undefined;
        return row && record(row);
      }),
    findDeviceProfileByCommand: (enrollmentId, commandUuid) =>
      run(() => {
        const sql = `${SELECT} WHERE enrollment_id = ? AND command_uuid = ?
          ORDER BY identifier LIMIT 1`;
        const row = stmt(ctx, sql).get(enrollmentId, commandUuid) as Row | undefined;
        return row && record(row);
      }),
    listProfileDevices: (profileId, options) =>
      run(() => listProfileDevices(ctx, profileId, options)),
    deleteDeviceProfiles: (enrollmentId, identifiers) =>
      run(() => remove(ctx, enrollmentId, identifiers)),
    putReconcile: (r) =>
      run(() => {
        checkReconcile(r);
        stmt(
          ctx,
          `INSERT OR REPLACE INTO orchard_profile_reconcile (enrollment_id, command_uuid,
             queued_at, reconciled_at) VALUES (?, ?, ?, ?)`,
        ).run(r.enrollmentId, r.commandUuid ?? null, ms(r.queuedAt), ms(r.reconciledAt));
      }),
    findReconcile: (enrollmentId) =>
      run(() => {
        checkId(enrollmentId, 'enrollment id');
        const sql = 'SELECT * FROM orchard_profile_reconcile WHERE enrollment_id = ?';
        const row = stmt(ctx, sql).get(enrollmentId) as ReconcileRow | undefined;
        return row && reconcileRecord(row);
      }),
    listReconcileDue: (candidates, before, limit) =>
      run(() => reconcileDueOf(ctx, candidates, before, limit)),
  };
}

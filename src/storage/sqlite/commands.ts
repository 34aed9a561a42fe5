/** SQLite adapter: the command queue. */
import type {
  CommandQueue,
  CommandRecord,
  CommandResultInput,
  CommandStatus,
  CommandTarget,
  EnrollmentCommand,
  EnrollmentPushOutcome,
  NewCommand,
  OutboxEvent,
  Page,
  QueuedCommand,
  ReportAndNext,
  ReportAndNextOptions,
  TargetPushOutcome,
} from '../ports.js';
import {
  checkDate,
  checkNewCommand,
  checkPage,
  checkPushOutcomes,
  decodeCursor,
  encodeCursor,
  isFinished,
} from '../support.js';
import type { SqliteContext } from './db.js';
import { date, ms, op, setIf, stmt, writeTx } from './db.js';
import { FINISHED_STATUSES_SQL, PENDING_STATUSES_SQL } from './migrations.js';
import { insertOutboxEvent } from './outbox.js';
import { fromStore, resultOwner, toStore } from './sealed-secrets.js';

interface TargetRow {
  seq: number;
  command_uuid: string;
  enrollment_id: string;
  status: CommandStatus;
  result: Uint8Array | null;
  updated_at: number;
  push_outcome: EnrollmentPushOutcome | null;
  push_reason: string | null;
  push_apns_id: string | null;
  push_at: number | null;
}

/** Pending rows read per round of {@link nextCommand}. */
const SCAN = 16;

function toTarget(ctx: SqliteContext, row: TargetRow): CommandTarget {
  const target: CommandTarget = {
    enrollmentId: row.enrollment_id,
    status: row.status,
    updatedAt: date(row.updated_at),
  };
  if (row.result !== null) {
    const owner = resultOwner(row.command_uuid, row.enrollment_id);
    target.result = fromStore(ctx, 'command-result', owner, row.result);
  }
  if (row.push_outcome !== null && row.push_at !== null) {
    target.lastPush = { outcome: row.push_outcome, at: date(row.push_at) };
    if (row.push_reason !== null) target.lastPush.reason = row.push_reason;
    if (row.push_apns_id !== null) target.lastPush.apnsId = row.push_apns_id;
  }
  return target;
}

function recordPushOutcomes(
  ctx: SqliteContext,
  uuid: string,
  outcomes: readonly TargetPushOutcome[],
): number {
  checkPushOutcomes(uuid, outcomes);
  const update = stmt(
    ctx,
    `UPDATE command_targets SET push_outcome = ?, push_reason = ?, push_apns_id = ?, push_at = ?
     WHERE command_uuid = ? AND enrollment_id = ?`,
  );
  return writeTx(ctx, () => {
    let count = 0;
    for (const o of outcomes) {
      const at = o.at.getTime();
      count += update.run(
        o.outcome,
        o.reason ?? null,
        o.apnsId ?? null,
        at,
        uuid,
        o.enrollmentId,
      ).changes;
    }
    return count;
  });
}

/** Targets inserted per statement when queueing (bounds the JSON text bound at once). */
const TARGET_CHUNK = 50_000;

function enqueue(ctx: SqliteContext, command: NewCommand, ids: readonly string[]): void {
  checkNewCommand(command, ids);
  const now = ctx.clock().getTime();
  writeTx(ctx, () => {
    if (stmt(ctx, 'SELECT 1 FROM commands WHERE uuid = ?').get(command.uuid) !== undefined) {
      throw new TypeError(`command ${command.uuid} is already stored`);
    }
    stmt(
      ctx,
      `INSERT INTO commands (uuid, request_type, body, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(
      command.uuid,
      command.requestType,
      toStore(ctx, 'command', command.uuid, command.body),
      now,
      ms(command.expiresAt),
    );
    // One statement per chunk of targets (rows from a JSON array, in order): about 40% faster
    // than a row at a time for 100,000 targets.
    const targets = stmt(
      ctx,
      `INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
       SELECT ?, value, 'queued', ? FROM json_each(?)`,
    );
    const distinct = [...new Set(ids)];
    for (let i = 0; i < distinct.length; i += TARGET_CHUNK)
      targets.run(command.uuid, now, JSON.stringify(distinct.slice(i, i + TARGET_CHUNK)));
  });
}

/**
 * Queues `command` for every enrollment enrolled now, in id order, in one write transaction and
 * one INSERT … SELECT through the `enrollments_enrolled` index; `[]` stores nothing.
 */
function enqueueEnrolled(ctx: SqliteContext, command: NewCommand): string[] {
  checkNewCommand(command);
  const now = ctx.clock().getTime();
  return writeTx(ctx, () => {
    if (stmt(ctx, 'SELECT 1 FROM commands WHERE uuid = ?').get(command.uuid) !== undefined) {
      throw new TypeError(`command ${command.uuid} is already stored`);
    }
    const ids = stmt(ctx, 'SELECT id FROM enrollments WHERE enrolled = 1 ORDER BY id')
      .pluck()
      .all() as string[];
    if (ids.length === 0) return ids;
    stmt(
      ctx,
      `INSERT INTO commands (uuid, request_type, body, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(
      command.uuid,
      command.requestType,
      toStore(ctx, 'command', command.uuid, command.body),
      now,
      ms(command.expiresAt),
    );
    stmt(
      ctx,
      `INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
       SELECT ?, id, 'queued', ? FROM enrollments WHERE enrolled = 1 ORDER BY id`,
    ).run(command.uuid, now);
    return ids;
  });
}

function setStatus(ctx: SqliteContext, seq: number, status: CommandStatus): void {
  const sql = 'UPDATE command_targets SET status = ?, updated_at = ? WHERE seq = ?';
  stmt(ctx, sql).run(status, ctx.clock().getTime(), seq);
}

/** The next command, marked sent (see {@link CommandQueue.nextCommand}); run in a write transaction. */
function takeNext(
  ctx: SqliteContext,
  enrollmentId: string,
  options: { skipNotNow: boolean; now: Date },
): QueuedCommand | undefined {
  const now = options.now.getTime();
  const scan = stmt(
    ctx,
    `SELECT t.seq, t.status, t.command_uuid, c.expires_at FROM command_targets t
     JOIN commands c ON c.uuid = t.command_uuid
     WHERE t.enrollment_id = ? AND t.seq > ? AND t.status IN ${PENDING_STATUSES_SQL}
     ORDER BY t.seq LIMIT ${SCAN}`,
  );
  let after = 0;
  for (;;) {
    const rows = scan.all(enrollmentId, after) as {
      seq: number;
      status: CommandStatus;
      command_uuid: string;
      expires_at: number | null;
    }[];
    for (const row of rows) {
      if (row.expires_at !== null && row.expires_at <= now) setStatus(ctx, row.seq, 'expired');
      else if (!(options.skipNotNow && row.status === 'NotNow')) {
        setStatus(ctx, row.seq, 'sent');
        const sql = 'SELECT uuid, request_type, body FROM commands WHERE uuid = ?';
        const c = stmt(ctx, sql).get(row.command_uuid) as {
          uuid: string;
          request_type: string;
          body: Uint8Array;
        };
        const body = fromStore(ctx, 'command', c.uuid, c.body);
        return { uuid: c.uuid, requestType: c.request_type, body };
      }
    }
    const last = rows.at(-1);
    if (rows.length < SCAN || last === undefined) return undefined;
    after = last.seq;
  }
}

/** Stores a report (see {@link CommandQueue.storeResult}); run in a write transaction. */
function putResult(
  ctx: SqliteContext,
  enrollmentId: string,
  input: CommandResultInput,
  event: OutboxEvent | undefined,
): boolean {
  const sql = `SELECT seq, status FROM command_targets
    WHERE command_uuid = ? AND enrollment_id = ?`;
  const row = stmt(ctx, sql).get(input.uuid, enrollmentId) as
    { seq: number; status: CommandStatus } | undefined;
  if (row === undefined) return false;
  // A late NotNow must not revive a canceled or expired target.
  const status = input.status === 'NotNow' && isFinished(row.status) ? row.status : input.status;
  stmt(ctx, 'UPDATE command_targets SET status = ?, result = ?, updated_at = ? WHERE seq = ?').run(
    status,
    toStore(ctx, 'command-result', resultOwner(input.uuid, enrollmentId), input.result),
    ctx.clock().getTime(),
    row.seq,
  );
  if (event !== undefined) insertOutboxEvent(ctx, event);
  return true;
}

function nextCommand(
  ctx: SqliteContext,
  enrollmentId: string,
  options: { skipNotNow: boolean; now: Date },
): QueuedCommand | undefined {
  checkDate(options.now, 'now');
  return writeTx(ctx, () => takeNext(ctx, enrollmentId, options));
}

function storeResult(
  ctx: SqliteContext,
  enrollmentId: string,
  input: CommandResultInput,
  event: OutboxEvent | undefined,
): boolean {
  return writeTx(ctx, () => putResult(ctx, enrollmentId, input, event));
}

/** A report and the next command in one write transaction (one commit per command poll). */
function reportAndNext(
  ctx: SqliteContext,
  enrollmentId: string,
  input: CommandResultInput,
  options: ReportAndNextOptions,
): ReportAndNext {
  checkDate(options.now, 'now');
  return writeTx(ctx, () => ({
    stored: putResult(ctx, enrollmentId, input, options.event),
    next: takeNext(ctx, enrollmentId, options),
  }));
}

function findCommand(ctx: SqliteContext, uuid: string): CommandRecord | undefined {
  const sql =
    'SELECT uuid, request_type, body, created_at, expires_at FROM commands WHERE uuid = ?';
  const row = stmt(ctx, sql).get(uuid) as
    | {
        uuid: string;
        request_type: string;
        body: Uint8Array;
        created_at: number;
        expires_at: number | null;
      }
    | undefined;
  if (row === undefined) return undefined;
  const targets = stmt(
    ctx,
    'SELECT * FROM command_targets WHERE command_uuid = ? ORDER BY seq',
  ).all(uuid) as TargetRow[];
  const record: CommandRecord = {
    uuid: row.uuid,
    requestType: row.request_type,
    body: fromStore(ctx, 'command', row.uuid, row.body),
    createdAt: date(row.created_at),
    targets: targets.map((t) => toTarget(ctx, t)),
  };
  setIf(record, 'expiresAt', row.expires_at === null ? null : date(row.expires_at));
  return record;
}

function listForEnrollment(
  ctx: SqliteContext,
  enrollmentId: string,
  options: Parameters<CommandQueue['listForEnrollment']>[1],
): Page<EnrollmentCommand> {
  checkPage(options);
  const after = options.cursor === undefined ? 0 : decodeCursor(options.cursor, 'number');
  const filter = options.status === undefined ? '' : 'AND t.status = ?';
  const params: (string | number)[] = [enrollmentId, after];
  if (options.status !== undefined) params.push(options.status);
  const rows = stmt(
    ctx,
    `SELECT t.*, c.request_type, c.created_at FROM command_targets t
     JOIN commands c ON c.uuid = t.command_uuid
     WHERE t.enrollment_id = ? AND t.seq > ? ${filter} ORDER BY t.seq LIMIT ?`,
  ).all(...params, options.limit + 1) as (TargetRow & {
    request_type: string;
    created_at: number;
  })[];
  const page = rows.slice(0, options.limit);
  const items = page.map((row) => ({
    ...toTarget(ctx, row),
    uuid: row.command_uuid,
    requestType: row.request_type,
    createdAt: date(row.created_at),
  }));
  const last = page.at(-1);
  return rows.length > options.limit && last !== undefined
    ? { items, nextCursor: encodeCursor(last.seq) }
    : { items };
}

function expireCommands(ctx: SqliteContext, now: Date): number {
  checkDate(now, 'now');
  return stmt(
    ctx,
    `UPDATE command_targets SET status = 'expired', updated_at = ?
     WHERE status IN ${PENDING_STATUSES_SQL} AND command_uuid IN
       (SELECT uuid FROM commands WHERE expires_at IS NOT NULL AND expires_at <= ?)`,
  ).run(ctx.clock().getTime(), now.getTime()).changes;
}

/** Targets deleted per purge transaction, so a big purge never holds the write lock long. */
const PURGE_BATCH = 2000;

function purgeBatch(ctx: SqliteContext, olderThan: number): number {
  return writeTx(ctx, () => {
    const deleted = stmt(
      ctx,
      `DELETE FROM command_targets WHERE seq IN (SELECT seq FROM command_targets
         WHERE status IN ${FINISHED_STATUSES_SQL} AND updated_at < ? LIMIT ${PURGE_BATCH})
       RETURNING command_uuid AS uuid`,
    ).all(olderThan) as { uuid: string }[];
    const orphan = stmt(
      ctx,
      `DELETE FROM commands WHERE uuid = ? AND NOT EXISTS
         (SELECT 1 FROM command_targets t WHERE t.command_uuid = ?)`,
    );
    for (const uuid of new Set(deleted.map((row) => row.uuid))) orphan.run(uuid, uuid);
    return deleted.length;
  });
}

/** Purges in batches, yielding to the event loop between them so requests keep flowing. */
async function purgeFinished(ctx: SqliteContext, olderThan: Date): Promise<number> {
  checkDate(olderThan, 'olderThan');
  let total = 0;
  for (;;) {
    const deleted = await op(ctx, () => purgeBatch(ctx, olderThan.getTime()));
    total += deleted;
    if (deleted < PURGE_BATCH) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The {@link CommandQueue} of the SQLite adapter. */
export function sqliteCommands(ctx: SqliteContext): CommandQueue {
  return {
    enqueue: (command, ids) =>
      op(ctx, () => {
        enqueue(ctx, command, ids);
      }),
    enqueueEnrolled: (command) => op(ctx, () => enqueueEnrolled(ctx, command)),
    nextCommand: (id, options) => op(ctx, () => nextCommand(ctx, id, options)),
    storeResult: (id, input, options) => op(ctx, () => storeResult(ctx, id, input, options?.event)),
    reportAndNext: (id, input, options) => op(ctx, () => reportAndNext(ctx, id, input, options)),
    cancel: (enrollmentId, uuid) =>
      op(ctx, () => {
        const sql = `UPDATE command_targets SET status = 'canceled', updated_at = ?
          WHERE command_uuid = ? AND enrollment_id = ? AND status IN ${PENDING_STATUSES_SQL}`;
        return stmt(ctx, sql).run(ctx.clock().getTime(), uuid, enrollmentId).changes > 0;
      }),
    clearQueue: (enrollmentId) =>
      op(ctx, () => {
        const sql = `UPDATE command_targets SET status = 'canceled', updated_at = ?
          WHERE enrollment_id = ? AND status IN ${PENDING_STATUSES_SQL}`;
        return stmt(ctx, sql).run(ctx.clock().getTime(), enrollmentId).changes;
      }),
    findCommand: (uuid) => op(ctx, () => findCommand(ctx, uuid)),
    listForEnrollment: (id, options) => op(ctx, () => listForEnrollment(ctx, id, options)),
    recordPushOutcomes: (uuid, outcomes) => op(ctx, () => recordPushOutcomes(ctx, uuid, outcomes)),
    expireCommands: (now) => op(ctx, () => expireCommands(ctx, now)),
    purgeFinished: (olderThan) => purgeFinished(ctx, olderThan),
  };
}

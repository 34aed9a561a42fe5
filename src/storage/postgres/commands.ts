/**
 * PostgreSQL adapter: the command queue. Several daemons share it: the next command is read
 * through the partial index of pending targets and its rows locked in queue order, a result is
 * stored by a conditional update (a target a device answered takes no second result), bulk work
 * runs in few statements (`unnest`), and retention runs in short batches. Command bodies and
 * results are sealed with a secrets keyring. Owner: area B.
 */
import type pg from 'pg';
import type {
  CommandQueue,
  CommandResultInput,
  CommandStatus,
  NewCommand,
  OutboxEvent,
  QueuedCommand,
  ReportAndNext,
  ReportAndNextOptions,
  TargetPushOutcome,
} from '../ports.js';
import { resultOwner } from '../sealed-owners.js';
import { checkDate, checkId, checkNewCommand, checkPushOutcomes } from '../support.js';
import type { PgContext } from './db.js';
import { one, op, query, run, tx } from './db.js';
import { findCommand, listForEnrollment } from './commands-read.js';
import { purgeFinished } from './commands-retention.js';
import { insertOutboxEvent } from './outbox.js';
import {
  ANSWERED_STATUSES_SQL,
  FINISHED_STATUSES_SQL,
  PENDING_STATUSES_SQL,
} from './schema-queue.js';
import { fromStore, toStore } from './sealed-secrets.js';

/** Pending rows locked per round of {@link nextCommand}. */
const SCAN = 16;

/**
 * Stores the command once and its targets in one statement: the command row, then its targets
 * by INSERT … SELECT FROM unnest (duplicates dropped, order kept). A uuid already stored inserts
 * nothing (`ON CONFLICT DO NOTHING` feeds no row to the targets) and is a TypeError.
 */
async function insertCommand(
  ctx: PgContext,
  command: NewCommand,
  ids: readonly string[],
): Promise<void> {
  const now = ctx.clock();
  const body = toStore(ctx, 'command', command.uuid, command.body);
  const inserted = await run(
    ctx.pool,
    `WITH c AS (INSERT INTO commands (uuid, request_type, body, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (uuid) DO NOTHING RETURNING uuid)
     INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
     SELECT c.uuid, u.e, 'queued', $4 FROM c
       CROSS JOIN unnest($6::text[]) WITH ORDINALITY AS u (e, n) ORDER BY u.n`,
    [command.uuid, command.requestType, body, now, command.expiresAt ?? null, [...new Set(ids)]],
  );
  if (inserted === 0) throw new TypeError(`command ${command.uuid} is already stored`);
}

/**
 * Stores the command and a target for every enrolled enrollment in one statement (INSERT …
 * SELECT through `enrollments_enrolled`, in id order), resolving the targeted ids; the command
 * row is inserted only when some enrollment is enrolled. Nothing inserted: `[]`, or a TypeError
 * when the uuid was already stored.
 */
async function insertForEnrolled(ctx: PgContext, command: NewCommand): Promise<string[]> {
  const now = ctx.clock();
  const body = toStore(ctx, 'command', command.uuid, command.body);
  const rows = await query<{ id: string }>(
    ctx.pool,
    `WITH c AS (INSERT INTO commands (uuid, request_type, body, created_at, expires_at)
       SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM enrollments WHERE enrolled)
       ON CONFLICT (uuid) DO NOTHING RETURNING uuid)
     INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
     SELECT c.uuid, e.id, 'queued', $4 FROM c CROSS JOIN enrollments e
       WHERE e.enrolled ORDER BY e.id
     RETURNING enrollment_id AS id`,
    [command.uuid, command.requestType, body, now, command.expiresAt ?? null],
  );
  if (rows.length > 0) return rows.map((r) => r.id);
  const stored = await one(ctx.pool, 'SELECT 1 AS s FROM commands WHERE uuid = $1', [command.uuid]);
  if (stored !== undefined) throw new TypeError(`command ${command.uuid} is already stored`);
  return [];
}

/**
 * Runs the enqueues of one store one after another, in call order: a target's seq is taken
 * when its row is inserted and becomes visible at commit, so two enqueues overlapping on two
 * connections could number (or show) their targets out of call order. One statement each keeps
 * the wait short.
 */
function inCallOrder(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const next = last.then(work);
    last = next.catch(() => undefined);
    return next;
  };
}

/**
 * One round of the next-command lookup (`$1` enrollment id, `$2` the seq to start after): the
 * pending targets, through the partial index `command_targets_pending`, locked in queue order.
 * Exported for the plan test: its cost must not grow with the finished targets.
 */
export const NEXT_COMMAND_SCAN = `SELECT t.seq, t.status, t.command_uuid, c.expires_at
  FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
  WHERE t.enrollment_id = $1 AND t.seq > $2 AND t.status IN ${PENDING_STATUSES_SQL}
  ORDER BY t.seq LIMIT ${SCAN} FOR UPDATE OF t`;

interface ScanRow {
  seq: number;
  status: CommandStatus;
  command_uuid: string;
  expires_at: Date | null;
}

/** Marks the target `sent` and reads its command, in one statement. */
async function markSent(
  client: pg.PoolClient,
  ctx: PgContext,
  target: ScanRow,
  at: Date,
): Promise<QueuedCommand> {
  const uuid = target.command_uuid;
  const c = await one<{ request_type: string; body: Uint8Array }>(
    client,
    `WITH s AS (UPDATE command_targets SET status = 'sent', updated_at = $1 WHERE seq = $2
       RETURNING command_uuid)
     SELECT c.request_type, c.body FROM commands c JOIN s ON c.uuid = s.command_uuid`,
    [at, target.seq],
  );
  if (c === undefined) throw new Error(`command ${uuid} vanished under its target`);
  return { uuid, requestType: c.request_type, body: fromStore(ctx, 'command', uuid, c.body) };
}

/**
 * The first deliverable target among the enrollment's pending ones after `after`, expiring the
 * lapsed ones on the way, marked `sent`; else the last seq this round looked at (none: the end).
 * Rows are locked in queue order and waited for (not skipped): a device polling through two
 * daemons at once gets the same head of its queue from both, never a later command first.
 */
async function scanRound(
  client: pg.PoolClient,
  ctx: PgContext,
  enrollmentId: string,
  after: number,
  options: { skipNotNow: boolean; now: Date },
): Promise<{ sent?: QueuedCommand; last?: number }> {
  // FOR UPDATE with LIMIT may return fewer rows than the limit when a row changed while
  // waited for, so the caller stops on an empty round only.
  const rows = await query<ScanRow>(client, NEXT_COMMAND_SCAN, [enrollmentId, after]);
  const expired: number[] = [];
  let found: ScanRow | undefined;
  for (const row of rows) {
    if (row.expires_at !== null && row.expires_at.getTime() <= options.now.getTime()) {
      expired.push(row.seq);
    } else if (!(options.skipNotNow && row.status === 'NotNow')) {
      found = row;
      break;
    }
  }
  const at = ctx.clock();
  if (expired.length > 0) {
    const sql = `UPDATE command_targets SET status = 'expired', updated_at = $1
      WHERE seq = ANY($2::bigint[])`;
    await run(client, sql, [at, expired]);
  }
  if (found !== undefined) return { sent: await markSent(client, ctx, found, at) };
  const last = rows.at(-1)?.seq;
  return last === undefined ? {} : { last };
}

/**
 * Whether the enrollment has a pending target: one plain read through the partial index
 * `command_targets_pending`, no lock and no transaction. Exported for the plan test.
 */
export const HAS_PENDING = `SELECT 1 AS p FROM command_targets
  WHERE enrollment_id = $1 AND status IN ${PENDING_STATUSES_SQL} LIMIT 1`;

/**
 * The next command: an idle queue (the usual poll) costs one indexed read and no transaction;
 * only when a target is pending are its rows locked in a transaction and scanned. A target
 * committed after the read is found by the device's next poll, as it would be had it committed
 * just after the transaction; a target another daemon finishes in between is re-read under lock.
 */
async function nextCommand(
  ctx: PgContext,
  enrollmentId: string,
  options: { skipNotNow: boolean; now: Date },
): Promise<QueuedCommand | undefined> {
  checkId(enrollmentId, 'enrollment id');
  checkDate(options.now, 'now');
  if ((await one(ctx.pool, HAS_PENDING, [enrollmentId])) === undefined) return undefined;
  return tx(ctx, (client) => takeNext(client, ctx, enrollmentId, options));
}

/** The next command marked sent, round after round of locked pending rows, in `client`'s transaction. */
async function takeNext(
  client: pg.PoolClient,
  ctx: PgContext,
  enrollmentId: string,
  options: { skipNotNow: boolean; now: Date },
): Promise<QueuedCommand | undefined> {
  let after = 0;
  for (;;) {
    const round = await scanRound(client, ctx, enrollmentId, after, options);
    if (round.sent !== undefined) return round.sent;
    if (round.last === undefined) return undefined;
    after = round.last;
  }
}

/**
 * The conditional update of {@link storeResult} (`$1` uuid, `$2` enrollment id, `$3` sealed
 * result, `$4` time, `$5` status): a target already answered takes no second result.
 */
const STORE_RESULT = `UPDATE command_targets SET result = $3, updated_at = $4,
     status = CASE WHEN $5 = 'NotNow' AND status IN ${FINISHED_STATUSES_SQL}
                   THEN status ELSE $5 END
   WHERE command_uuid = $1 AND enrollment_id = $2
     AND status NOT IN ${ANSWERED_STATUSES_SQL}`;

/** Checks a report and gives the values of {@link STORE_RESULT}, its result sealed. */
function resultValues(ctx: PgContext, enrollmentId: string, input: CommandResultInput): unknown[] {
  checkId(enrollmentId, 'enrollment id');
  checkId(input.uuid, 'command uuid');
  if (!(input.result instanceof Uint8Array)) throw new TypeError('result must be a Uint8Array');
  const result = toStore(
    ctx,
    'command-result',
    resultOwner(input.uuid, enrollmentId),
    input.result,
  );
  return [input.uuid, enrollmentId, result, ctx.clock(), input.status];
}

/** Stores a result and its event (when stored) in `client`'s transaction; resolves whether stored. */
async function putResult(
  client: pg.PoolClient,
  ctx: PgContext,
  values: unknown[],
  event: OutboxEvent | undefined,
): Promise<boolean> {
  if ((await run(client, STORE_RESULT, values)) === 0) return false;
  if (event !== undefined) await insertOutboxEvent(client, ctx, event);
  return true;
}

/**
 * Stores a device's report by one conditional update: a target already answered (Acknowledged,
 * Error, CommandFormatError) takes no second result, so of two daemons storing a report for the
 * same target one wins and the other resolves false; a late NotNow keeps a finished status.
 */
async function storeResult(
  ctx: PgContext,
  enrollmentId: string,
  input: CommandResultInput,
  event?: OutboxEvent,
): Promise<boolean> {
  const values = resultValues(ctx, enrollmentId, input);
  if (event === undefined) return (await run(ctx.pool, STORE_RESULT, values)) > 0;
  // The result and its event in one transaction: a crash keeps both or neither.
  return tx(ctx, (client) => putResult(client, ctx, values, event));
}

/**
 * A report and the next command in one transaction: one commit per command poll instead of two
 * (and no separate pending read). Locks are taken as the two calls take them; a deadlock with
 * another daemon serving the same device is retried by {@link tx}.
 */
async function reportAndNext(
  ctx: PgContext,
  enrollmentId: string,
  input: CommandResultInput,
  options: ReportAndNextOptions,
): Promise<ReportAndNext> {
  const values = resultValues(ctx, enrollmentId, input);
  checkDate(options.now, 'now');
  return tx(ctx, async (client) => {
    const stored = await putResult(client, ctx, values, options.event);
    return { stored, next: await takeNext(client, ctx, enrollmentId, options) };
  });
}

/**
 * Records the outcomes in one UPDATE … FROM unnest (the last outcome of an id repeated wins);
 * resolves how many outcomes named an existing target, as the other adapters count.
 */
async function recordPushOutcomes(
  ctx: PgContext,
  uuid: string,
  outcomes: readonly TargetPushOutcome[],
): Promise<number> {
  checkPushOutcomes(uuid, outcomes);
  if (outcomes.length === 0) return 0;
  const latest = new Map(outcomes.map((o) => [o.enrollmentId, o]));
  const rows = [...latest.values()].sort((a, b) => (a.enrollmentId < b.enrollmentId ? -1 : 1));
  const pick = <T>(f: (o: TargetPushOutcome) => T): T[] => rows.map(f);
  // In a transaction only for its retry: two pushes of one command may lock rows in any order.
  const updated = await tx(ctx, (client) =>
    query<{ enrollment_id: string }>(
      client,
      `UPDATE command_targets t SET push_outcome = u.outcome, push_reason = u.reason,
         push_apns_id = u.apns_id, push_at = u.at
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         AS u (enrollment_id, outcome, reason, apns_id, at)
       WHERE t.command_uuid = $1 AND t.enrollment_id = u.enrollment_id
       RETURNING t.enrollment_id`,
      [
        uuid,
        pick((o) => o.enrollmentId),
        pick((o) => o.outcome),
        pick((o) => o.reason ?? null),
        pick((o) => o.apnsId ?? null),
        pick((o) => o.at),
      ],
    ),
  );
  const recorded = new Set(updated.map((row) => row.enrollment_id));
  return outcomes.filter((o) => recorded.has(o.enrollmentId)).length;
}

/** Cancels pending targets of one enrollment (all, or one command), locked in queue order. */
async function cancelPending(
  ctx: PgContext,
  enrollmentId: string,
  uuid: string | undefined,
): Promise<number> {
  const filter = uuid === undefined ? '' : 'AND command_uuid = $3';
  const values: unknown[] = [ctx.clock(), enrollmentId];
  if (uuid !== undefined) values.push(uuid);
  return run(
    ctx.pool,
    `UPDATE command_targets SET status = 'canceled', updated_at = $1
     WHERE seq IN (SELECT seq FROM command_targets
       WHERE enrollment_id = $2 ${filter} AND status IN ${PENDING_STATUSES_SQL}
       ORDER BY seq FOR UPDATE)
       AND status IN ${PENDING_STATUSES_SQL}`,
    values,
  );
}

/** Targets expired per statement by {@link expireCommands}. */
const EXPIRE_BATCH = 2000;

/**
 * Marks pending targets of lapsed commands `expired` in short statements of at most
 * {@link EXPIRE_BATCH} rows (rows another daemon holds are skipped and caught next time).
 */
async function expireCommands(ctx: PgContext, now: Date): Promise<number> {
  checkDate(now, 'now');
  let total = 0;
  for (;;) {
    const changed = await op(ctx, () =>
      run(
        ctx.pool,
        `UPDATE command_targets SET status = 'expired', updated_at = $1
         WHERE seq IN (SELECT t.seq FROM commands c
           JOIN command_targets t ON t.command_uuid = c.uuid
           WHERE c.expires_at IS NOT NULL AND c.expires_at <= $2
             AND t.status IN ${PENDING_STATUSES_SQL}
           LIMIT ${EXPIRE_BATCH} FOR UPDATE OF t SKIP LOCKED)
           AND status IN ${PENDING_STATUSES_SQL}`,
        [ctx.clock(), now],
      ),
    );
    total += changed;
    if (changed < EXPIRE_BATCH) return total;
  }
}

/** The {@link CommandQueue} on a context. */
export function pgCommands(ctx: PgContext): CommandQueue {
  const serial = inCallOrder();
  return {
    enqueue: (command, ids) =>
      serial(() =>
        op(ctx, async () => {
          checkNewCommand(command, ids);
          await insertCommand(ctx, command, ids);
        }),
      ),
    enqueueEnrolled: (command) =>
      serial(() =>
        op(ctx, async () => {
          checkNewCommand(command);
          return insertForEnrolled(ctx, command);
        }),
      ),
    nextCommand: (id, options) => op(ctx, () => nextCommand(ctx, id, options)),
    storeResult: (id, input, options) => op(ctx, () => storeResult(ctx, id, input, options?.event)),
    reportAndNext: (id, input, options) => op(ctx, () => reportAndNext(ctx, id, input, options)),
    cancel: (enrollmentId, uuid) =>
      op(ctx, async () => (await cancelPending(ctx, enrollmentId, uuid)) > 0),
    clearQueue: (enrollmentId) => op(ctx, () => cancelPending(ctx, enrollmentId, undefined)),
    findCommand: (uuid) => op(ctx, () => findCommand(ctx, uuid)),
    listForEnrollment: (id, options) => op(ctx, () => listForEnrollment(ctx, id, options)),
    recordPushOutcomes: (uuid, outcomes) => op(ctx, () => recordPushOutcomes(ctx, uuid, outcomes)),
    expireCommands: (now) => expireCommands(ctx, now),
    purgeFinished: (olderThan) => purgeFinished(ctx, olderThan),
  };
}

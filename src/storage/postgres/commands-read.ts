/**
 * PostgreSQL adapter: reading the command queue: a command with its targets, an enrollment's
 * commands page by page in queue order. Results are opened with the secrets keyring. Owner:
 * area B.
 */
import type {
  CommandQueue,
  CommandRecord,
  CommandStatus,
  CommandTarget,
  EnrollmentCommand,
  EnrollmentPushOutcome,
  Page,
} from '../ports.js';
import { resultOwner } from '../sealed-owners.js';
import { checkPage, decodeCursor, encodeCursor } from '../support.js';
import type { PgContext } from './db.js';
import { one, query, setIf } from './db.js';
import { fromStore } from './sealed-secrets.js';

interface TargetRow {
  seq: number;
  command_uuid: string;
  enrollment_id: string;
  status: CommandStatus;
  result: Uint8Array | null;
  updated_at: Date;
  push_outcome: EnrollmentPushOutcome | null;
  push_reason: string | null;
  push_apns_id: string | null;
  push_at: Date | null;
}

const TARGET_COLUMNS = `t.seq, t.command_uuid, t.enrollment_id, t.status, t.result, t.updated_at,
  t.push_outcome, t.push_reason, t.push_apns_id, t.push_at`;

function toTarget(ctx: PgContext, row: TargetRow): CommandTarget {
  const target: CommandTarget = {
    enrollmentId: row.enrollment_id,
    status: row.status,
    updatedAt: row.updated_at,
  };
  if (row.result !== null) {
    const owner = resultOwner(row.command_uuid, row.enrollment_id);
    target.result = fromStore(ctx, 'command-result', owner, row.result);
  }
  if (row.push_outcome !== null && row.push_at !== null) {
    target.lastPush = { outcome: row.push_outcome, at: row.push_at };
    setIf(target.lastPush, 'reason', row.push_reason);
    setIf(target.lastPush, 'apnsId', row.push_apns_id);
  }
  return target;
}

/** The command with all its targets in queue order, or `undefined` when absent. */
export async function findCommand(
  ctx: PgContext,
  uuid: string,
): Promise<CommandRecord | undefined> {
  const row = await one<{
    request_type: string;
    body: Uint8Array;
    created_at: Date;
    expires_at: Date | null;
  }>(ctx.pool, 'SELECT request_type, body, created_at, expires_at FROM commands WHERE uuid = $1', [
    uuid,
  ]);
  if (row === undefined) return undefined;
  const targets = await query<TargetRow>(
    ctx.pool,
    `SELECT ${TARGET_COLUMNS} FROM command_targets t WHERE t.command_uuid = $1 ORDER BY t.seq`,
    [uuid],
  );
  const record: CommandRecord = {
    uuid,
    requestType: row.request_type,
    body: fromStore(ctx, 'command', uuid, row.body),
    createdAt: row.created_at,
    targets: targets.map((t) => toTarget(ctx, t)),
  };
  setIf(record, 'expiresAt', row.expires_at);
  return record;
}

/** One page of the enrollment's commands in queue order, optionally of one status. */
export async function listForEnrollment(
  ctx: PgContext,
  enrollmentId: string,
  options: Parameters<CommandQueue['listForEnrollment']>[1],
): Promise<Page<EnrollmentCommand>> {
  checkPage(options);
  const after = options.cursor === undefined ? 0 : decodeCursor(options.cursor, 'number');
  const filter = options.status === undefined ? '' : 'AND t.status = $4';
  const values: unknown[] = [enrollmentId, after, options.limit + 1];
  if (options.status !== undefined) values.push(options.status);
  const rows = await query<TargetRow & { request_type: string; created_at: Date }>(
    ctx.pool,
    `SELECT ${TARGET_COLUMNS}, c.request_type, c.created_at FROM command_targets t
     JOIN commands c ON c.uuid = t.command_uuid
     WHERE t.enrollment_id = $1 AND t.seq > $2 ${filter} ORDER BY t.seq LIMIT $3`,
    values,
  );
  const page = rows.slice(0, options.limit);
  const items = page.map((row) => ({
    ...toTarget(ctx, row),
    uuid: row.command_uuid,
    requestType: row.request_type,
    createdAt: row.created_at,
  }));
  const last = page.at(-1);
  return rows.length > options.limit && last !== undefined
    ? { items, nextCursor: encodeCursor(last.seq) }
    : { items };
}

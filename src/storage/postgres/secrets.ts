/** PostgreSQL adapter: push info and bootstrap tokens (certificate bindings: `./cert-bindings.ts`). Owner: area A. */
import { unique } from '../policies-check.js';
import type { BootstrapTokenStore, PushInfo, PushInfoStore } from '../ports.js';
import { checkId } from '../support.js';
import { bytes, one, op, query, run, setIf, type PgContext } from './db.js';
import { PENDING_STATUSES_SQL } from './schema-queue.js';

interface PushRow {
  enrollment_id: string;
  token: string;
  push_magic: string;
  topic: string;
  invalidated_at: Date | null;
  queue_head: string | null;
}

/** The oldest target never offered to the device (`PushInfo.queueHead`), via the pending index. */
const QUEUE_HEAD = `(SELECT t.command_uuid FROM command_targets t
  WHERE t.enrollment_id = p.enrollment_id AND t.status IN ${PENDING_STATUSES_SQL}
    AND t.status = 'queued' ORDER BY t.seq LIMIT 1) AS queue_head`;

async function findPushInfo(ctx: PgContext, ids: readonly string[]): Promise<PushInfo[]> {
  const sql = `SELECT enrollment_id, token, push_magic, topic, invalidated_at, ${QUEUE_HEAD}
    FROM push_info p WHERE enrollment_id = ANY($1::text[])`;
  const rows = await query<PushRow>(ctx.pool, sql, [unique(ids)]);
  return rows.map((row) => {
    const info: PushInfo = {
      enrollmentId: row.enrollment_id,
      token: row.token,
      pushMagic: row.push_magic,
      topic: row.topic,
    };
    setIf(info, 'invalidatedAt', row.invalidated_at);
    setIf(info, 'queueHead', row.queue_head);
    return info;
  });
}

async function storeBootstrapToken(
  ctx: PgContext,
  enrollmentId: string,
  sealed: Uint8Array | undefined,
): Promise<void> {
  checkId(enrollmentId, 'enrollment id');
  if (sealed === undefined) {
    await run(ctx.pool, 'DELETE FROM bootstrap_tokens WHERE enrollment_id = $1', [enrollmentId]);
    return;
  }
  await run(
    ctx.pool,
    `INSERT INTO bootstrap_tokens (enrollment_id, sealed, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (enrollment_id) DO UPDATE SET sealed = excluded.sealed,
       updated_at = excluded.updated_at`,
    [enrollmentId, Buffer.from(sealed), ctx.clock()],
  );
}

/** The push-info and bootstrap-token ports on a context. */
export function pgDeviceSecrets(ctx: PgContext): PushInfoStore & BootstrapTokenStore {
  return {
    findPushInfo: (ids) => op(ctx, () => findPushInfo(ctx, ids)),
    invalidatePushToken: (enrollmentId, at) =>
      op(ctx, async () => {
        const sql = 'UPDATE push_info SET invalidated_at = $2 WHERE enrollment_id = $1';
        return (await run(ctx.pool, sql, [enrollmentId, at])) > 0;
      }),
    storeBootstrapToken: (enrollmentId, sealed) =>
      op(ctx, () => storeBootstrapToken(ctx, enrollmentId, sealed)),
    findBootstrapToken: (enrollmentId) =>
      op(ctx, async () => {
        const sql = 'SELECT sealed FROM bootstrap_tokens WHERE enrollment_id = $1';
        const row = await one<{ sealed: Buffer }>(ctx.pool, sql, [enrollmentId]);
        return row === undefined ? undefined : bytes(row.sealed);
      }),
  };
}

/** SQLite adapter: push info and bootstrap tokens (certificate bindings: `./cert-bindings.ts`). */
import type { BootstrapTokenStore, PushInfo, PushInfoStore } from '../ports.js';
import { checkId } from '../support.js';
import type { SqliteContext } from './db.js';
import { allRows, bytes, date, op, setIf, stmt } from './db.js';
import { PENDING_STATUSES_SQL } from './migrations.js';

interface PushRow {
  enrollment_id: string;
  token: string;
  push_magic: string;
  topic: string;
  invalidated_at: number | null;
  queue_head: string | null;
}

/**
 * The oldest target never offered to the device (`PushInfo.queueHead`), through the pending
 * targets' partial index (its condition is repeated so the planner uses it).
 */
const QUEUE_HEAD = `(SELECT t.command_uuid FROM command_targets t
  WHERE t.enrollment_id = p.enrollment_id AND t.status IN ${PENDING_STATUSES_SQL}
    AND t.status = 'queued' ORDER BY t.seq LIMIT 1) AS queue_head`;

/** Ids per `IN (...)` query; well under SQLite's bound-parameter limit. */
const CHUNK = 500;

function findPushInfo(ctx: SqliteContext, ids: readonly string[]): PushInfo[] {
  const unique = [...new Set(ids)];
  const out: PushInfo[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    // One statement for any chunk (a JSON array), rows built from arrays (db.ts `allRows`).
    const sql = `SELECT enrollment_id, token, push_magic, topic, invalidated_at, ${QUEUE_HEAD}
      FROM push_info p WHERE enrollment_id IN (SELECT value FROM json_each(?))`;
    for (const row of allRows<PushRow>(ctx, sql, JSON.stringify(chunk))) {
      const info: PushInfo = {
        enrollmentId: row.enrollment_id,
        token: row.token,
        pushMagic: row.push_magic,
        topic: row.topic,
      };
      setIf(info, 'invalidatedAt', row.invalidated_at === null ? null : date(row.invalidated_at));
      setIf(info, 'queueHead', row.queue_head);
      out.push(info);
    }
  }
  return out;
}

/** The push and bootstrap-token ports of the SQLite adapter. */
export function sqliteDeviceSecrets(ctx: SqliteContext): PushInfoStore & BootstrapTokenStore {
  return {
    findPushInfo: (ids) => op(ctx, () => findPushInfo(ctx, ids)),
    invalidatePushToken: (enrollmentId, at) =>
      op(ctx, () => {
        const sql = 'UPDATE push_info SET invalidated_at = ? WHERE enrollment_id = ?';
        return stmt(ctx, sql).run(at.getTime(), enrollmentId).changes > 0;
      }),
    storeBootstrapToken: (enrollmentId, sealed) =>
      op(ctx, () => {
        checkId(enrollmentId, 'enrollment id');
        if (sealed === undefined) {
          stmt(ctx, 'DELETE FROM bootstrap_tokens WHERE enrollment_id = ?').run(enrollmentId);
          return;
        }
        stmt(
          ctx,
          `INSERT INTO bootstrap_tokens (enrollment_id, sealed, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (enrollment_id) DO UPDATE SET sealed = excluded.sealed,
             updated_at = excluded.updated_at`,
        ).run(enrollmentId, sealed, ctx.clock().getTime());
      }),
    findBootstrapToken: (enrollmentId) =>
      op(ctx, () => {
        const sql = 'SELECT sealed FROM bootstrap_tokens WHERE enrollment_id = ?';
        const row = stmt(ctx, sql).get(enrollmentId) as { sealed: Uint8Array } | undefined;
        return row === undefined ? undefined : bytes(row.sealed);
      }),
  };
}

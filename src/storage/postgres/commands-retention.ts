/**
 * PostgreSQL adapter: retention of the command queue. Finished targets are deleted in short
 * transactions of a bounded size (found through the partial index of finished targets), so a
 * purge of millions of rows never holds locks long, and commands left without targets go with
 * them. Owner: area B.
 */
import type pg from 'pg';
import { checkDate } from '../support.js';
import type { PgContext } from './db.js';
import { query, run, tx } from './db.js';
import { FINISHED_STATUSES_SQL } from './schema-queue.js';

/** Targets deleted per purge transaction. */
export const PURGE_BATCH = 2000;

/**
 * Deletes the commands among `uuids` left without targets. Their rows are locked first (sorted,
 * so purges never deadlock) and the check runs in a statement started after the locks are held:
 * of two daemons purging the last targets of one command, the later one sees the earlier one's
 * deletions and removes the command.
 */
async function deleteOrphans(client: pg.PoolClient, uuids: string[]): Promise<void> {
  if (uuids.length === 0) return;
  uuids.sort();
  await query(
    client,
    'SELECT uuid FROM commands WHERE uuid = ANY($1::text[]) ORDER BY uuid FOR UPDATE',
    [uuids],
  );
  await run(
    client,
    `DELETE FROM commands c WHERE c.uuid = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM command_targets t WHERE t.command_uuid = c.uuid)`,
    [uuids],
  );
}

/** One batch: at most {@link PURGE_BATCH} targets (rows another daemon holds are skipped). */
async function purgeBatch(ctx: PgContext, olderThan: Date): Promise<number> {
  return tx(ctx, async (client) => {
    const deleted = await query<{ uuid: string }>(
      client,
      `DELETE FROM command_targets WHERE seq IN (SELECT seq FROM command_targets
         WHERE status IN ${FINISHED_STATUSES_SQL} AND updated_at < $1
         LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)
       RETURNING command_uuid AS uuid`,
      [olderThan],
    );
    await deleteOrphans(client, [...new Set(deleted.map((row) => row.uuid))]);
    return deleted.length;
  });
}

/**
 * Deletes finished targets last updated before `olderThan` and the commands they leave empty,
 * batch by batch; resolves the number of targets deleted.
 */
export async function purgeFinished(ctx: PgContext, olderThan: Date): Promise<number> {
  checkDate(olderThan, 'olderThan');
  let total = 0;
  for (;;) {
    const deleted = await purgeBatch(ctx, olderThan);
    total += deleted;
    if (deleted < PURGE_BATCH) return total;
  }
}

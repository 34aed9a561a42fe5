/**
 * SQLite storage at scale: 100,000 enrollments and 1,000,000 command rows (8 finished and 2
 * queued per enrollment), populated in one transaction. Reports next-command lookup, result
 * store, enqueue, last-seen batches and lookups as ratios to a bare prepared `SELECT 1` on the
 * same connection settings, then times `purgeFinished` over the 800,000 finished rows.
 * `BENCH_STORAGE_SCALE` (default 1) shrinks the data set for smoke runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createSqliteStorage } from '../src/storage/sqlite/index.js';
import type { Rate } from './lib.js';
import { measure, report } from './lib.js';

const scale = Number(process.env.BENCH_STORAGE_SCALE ?? '1');
const ENROLLMENTS = Math.round(100_000 * scale);
const PER_ENROLLMENT = 10;
const FINISHED_PER_ENROLLMENT = 8;
const T0 = Date.UTC(2026, 0, 1);

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const enrollmentId = (i: number): string => `DEV-${pad(i, 6)}`;

/** Fills the schema with recursive-CTE inserts in one transaction; returns seconds taken. */
function populate(path: string, enrollments: number): number {
  const db = new Database(path);
  db.pragma('cache_size = -262144');
  const started = performance.now();
  const rows = enrollments * PER_ENROLLMENT;
  // Bulk load without the secondary indexes, then rebuild them from their own definitions.
  const indexes = db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
       AND tbl_name IN ('enrollments', 'commands', 'command_targets')`,
    )
    .all() as { name: string; sql: string }[];
  db.transaction(() => {
    for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
       INSERT INTO enrollments (id, type, device_id, enrolled, facts, token_update_count,
         created_at, updated_at)
       SELECT printf('DEV-%06d', i), 'device', printf('DEV-%06d', i), 1,
         '{"SerialNumber":"C02BENCH","OSVersion":"15.1"}', 1, ?, ? FROM n`,
    ).run(enrollments, T0, T0);
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
       INSERT INTO commands (uuid, request_type, body, created_at)
       SELECT printf('CMD-%07d', i), 'DeviceInformation', zeroblob(96), ? FROM n`,
    ).run(rows, T0);
    // Row i targets enrollment i % N; the first 8 rounds over all enrollments are finished.
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
       INSERT INTO command_targets (command_uuid, enrollment_id, status, result, updated_at)
       SELECT printf('CMD-%07d', i), printf('DEV-%06d', i % ?),
         CASE WHEN i / ? < ? THEN 'Acknowledged' ELSE 'queued' END,
         CASE WHEN i / ? < ? THEN zeroblob(64) ELSE NULL END, ? FROM n`,
    ).run(
      rows,
      enrollments,
      enrollments,
      FINISHED_PER_ENROLLMENT,
      enrollments,
      FINISHED_PER_ENROLLMENT,
      T0,
    );
    for (const { sql } of indexes) db.exec(sql);
  })();
  db.exec('ANALYZE');
  // As after normal operation: the bulk load's pages moved from the WAL into the main file.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (performance.now() - started) / 1000;
}

function oneShot(name: string, ops: number, seconds: number, cpuSeconds: number): Rate {
  return { name, ops, opsPerSec: ops / seconds, opsPerCpuSec: ops / Math.max(cpuSeconds, 1e-9) };
}

/** Runs the benchmark and prints its table. */
export default async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-bench-storage-'));
  const path = join(dir, 'bench.db');
  try {
    await createSqliteStorage({ path }).close();
    const populateSec = populate(path, ENROLLMENTS);
    const rows = ENROLLMENTS * PER_ENROLLMENT;
    console.log(
      `\npopulated ${ENROLLMENTS} enrollments, ${rows} command rows in ${populateSec.toFixed(1)} s`,
    );

    // Baseline: the floor cost of any durable write here, a one-row UPDATE in its own
    // IMMEDIATE transaction on a connection with the adapter's settings.
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec(
      'CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO bench_floor VALUES (1, 0)',
    );
    const bump = raw.prepare('UPDATE bench_floor SET v = v + 1 WHERE id = 1');
    const baseline = await measure('bare write transaction (1-row UPDATE)', () =>
      raw.transaction(() => bump.run()).immediate(),
    );
    const select1 = raw.prepare('SELECT 1');
    const bareRead = await measure('bare prepared SELECT 1', () => select1.get());

    // The same lookup on a store 1/100 the size: equal rates mean the index does its job.
    const smallPath = join(dir, 'small.db');
    await createSqliteStorage({ path: smallPath }).close();
    populate(smallPath, ENROLLMENTS / 100);
    const small = createSqliteStorage({ path: smallPath });
    let j = 0;
    const smallNow = new Date();
    const smallPoll = await measure(
      `nextCommand, ${ENROLLMENTS / 100} enrollments / ${(ENROLLMENTS / 100) * PER_ENROLLMENT} rows`,
      () =>
        small.nextCommand(enrollmentId((j = (j * 7919 + 1) % (ENROLLMENTS / 100))), {
          skipNotNow: false,
          now: smallNow,
        }),
    );
    await small.close();

    const store = createSqliteStorage({ path, clock: () => new Date() });
    const now = new Date();
    let i = 0;
    const next = () => enrollmentId((i = (i * 7919 + 1) % ENROLLMENTS));
    const poll = await measure(
      `nextCommand, ${ENROLLMENTS} enrollments / ${ENROLLMENTS * PER_ENROLLMENT} rows`,
      () => store.nextCommand(next(), { skipNotNow: false, now }),
    );
    // Each ack answers the oldest queued command of a fresh enrollment, so rows stay real.
    let acked = 0;
    const ack = await measure('nextCommand + storeResult (Acknowledged)', async () => {
      const id = enrollmentId(acked++ % ENROLLMENTS);
      const cmd = await store.nextCommand(id, { skipNotNow: false, now });
      if (cmd !== undefined) {
        await store.storeResult(id, {
          uuid: cmd.uuid,
          status: 'Acknowledged',
          result: new Uint8Array(64),
        });
      }
    });
    let n = 0;
    const body = new Uint8Array(96);
    const enqueue = await measure('enqueue (1 target)', () =>
      store.enqueue({ uuid: `NEW-${n++}`, requestType: 'DeviceInformation', body }, [next()]),
    );
    const find = await measure('findEnrollment', () => store.findEnrollment(next()));
    const batch = Array.from({ length: 100 }, () => next());
    const touch = await measure('touchLastSeen (batch of 100, write-behind)', () =>
      store.touchLastSeen(batch, new Date()),
    );

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const purged = await store.purgeFinished(new Date(T0 + 1));
    const cpu = process.cpuUsage(cpu0);
    const purge = oneShot(
      `purgeFinished (rows/s, ${purged} rows)`,
      purged,
      (performance.now() - t0) / 1000,
      (cpu.user + cpu.system) / 1e6,
    );

    report(`SQLite storage, ${ENROLLMENTS} enrollments / ${rows} command rows`, baseline, [
      { rate: bareRead },
      { rate: smallPoll },
      { rate: poll },
      { rate: ack },
      { rate: enqueue },
      { rate: find },
      { rate: touch },
      { rate: purge },
    ]);
    await store.close();
    raw.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

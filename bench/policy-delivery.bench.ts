/**
 * Issue 18 performance: a policy change reaching 100,000 enrolled, owned iPhones on a real SQLite
 * data dir (`delivery.apply` of an Auto assignment already stored: plan, judge, sign once, queue
 * one command for every target, record, one coalesced push) next to the bare `core.enqueue` of
 * one InstallProfile to the same 100,000 enrollments with its push, in the same run. Each is the
 * median of three runs, interleaved; a push provider stub counts the pushes. Goal: the change
 * queues in under 5 s. `BENCH_POLICY_SCALE` (else `ORCHARD_SCALE`, default 1) scales the fleet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { silentLogger } from '../src/logger.js';
import { createDeliveryService } from '../src/management/delivery/service.js';
import { createGroupService } from '../src/management/groups-service.js';
import { createProfileLibrary } from '../src/management/profile-library.js';
import { renderProfile } from '../src/management/profile-render.js';
import { encodePlist, type PlistDict } from '../src/protocol/plist.js';
import type { PushTarget } from '../src/push/ports.js';
import { createMdmCore } from '../src/service/core.js';
import { openSqliteDatabase, type SqliteDatabase } from '../src/storage/sqlite/index.js';
import { signing } from '../test/management/profile-fixtures.js';
import { benchRow, median, type BenchOptions, type BenchRow } from './lib.js';

const scale = Number(process.env.BENCH_POLICY_SCALE ?? process.env.ORCHARD_SCALE ?? '1');
const ENROLLMENTS = Math.max(1, Math.round(100_000 * scale));
const RUNS = 3;
const GOAL_SECONDS = 5;
const TOPIC = 'com.apple.mgmt.External.policy-delivery-bench';
const POLICY = 'pol_bench';
const T0 = Date.UTC(2026, 0, 1);
/** `BENCH_POLICY_SPLIT=1` prints the seconds each port method took during the policy changes. */
const SPLIT = process.env.BENCH_POLICY_SPLIT === '1';

/** Enrolled iPhones with push tokens, each owned by its own user of the root group. */
function populate(path: string, n: number): number {
  const db = new Database(path);
  db.pragma('cache_size = -262144');
  const started = performance.now();
  const series = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)`;
  db.transaction(() => {
    db.prepare(
      `${series} INSERT INTO enrollments (id, type, device_id, enrolled, facts,
         token_update_count, created_at, updated_at)
       SELECT printf('DEV-%06d', i), 'device', printf('DEV-%06d', i), 1,
         '{"ProductName":"iPhone16,1","Model":"iPhone16,1","OSVersion":"17.4","IsSupervised":false,"SerialNumber":"' || printf('S%06d', i) || '"}',
         1, ?, ? FROM n`,
    ).run(n, T0, T0);
    db.prepare(
      `${series} INSERT INTO push_info (enrollment_id, token, push_magic, topic)
       SELECT printf('DEV-%06d', i), printf('%064x', i), 'MAGIC', ? FROM n`,
    ).run(n, TOPIC);
    db.prepare(
      `${series} INSERT INTO orchard_users (id, username, email, group_id, policy, generic,
         created_at, updated_at)
       SELECT printf('usr_%06d', i), printf('user%06d', i), printf('user%06d@example.com', i),
         'global', ?, 0, ?, ? FROM n`,
    ).run(n, POLICY, T0, T0);
    db.prepare(
      `${series} INSERT INTO orchard_enrollment_owners (enrollment_id, user_id, group_id, assigned_at)
       SELECT printf('DEV-%06d', i), printf('usr_%06d', i), 'global', ? FROM n`,
    ).run(n, T0);
  })();
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (performance.now() - started) / 1000;
}

/** A Wi-Fi profile (any iPhone takes it, no variables): one body for the whole fleet. */
function wifi(run: number): Uint8Array {
  const id = `com.example.bench.wifi.${run}`;
  const profile: PlistDict = {
    ...{ PayloadType: 'Configuration', PayloadVersion: 1, PayloadIdentifier: id },
    ...{ PayloadUUID: `6F1D0C52-0000-4000-8000-00000000000${run}`, PayloadDisplayName: id },
    PayloadContent: [
      {
        ...{ PayloadType: 'com.apple.wifi.managed', PayloadVersion: 1 },
        ...{
          PayloadIdentifier: `${id}.wifi`,
          PayloadUUID: `6F1D0C52-0000-4000-8001-00000000000${run}`,
        },
        ...{ SSID_STR: `Office ${run}`, AutoJoin: true, EncryptionType: 'None' },
      },
    ],
  };
  return encodePlist(profile, { format: 'xml' });
}

/** Wall and CPU seconds of one port method, summed over the runs. */
interface Spent {
  wall: number;
  cpu: number;
}

/**
 * `port` with every method timed into `split` (wall and process CPU seconds by method name,
 * awaited), for the split printed with `BENCH_POLICY_SPLIT=1`. CPU time is the steadier figure
 * on a busy machine; both include whatever else ran while the call was awaited.
 */
function timedPort<T extends object>(port: T, split: Map<string, Spent>): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        try {
          return await (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          const c = process.cpuUsage(c0);
          const spent = split.get(key) ?? { wall: 0, cpu: 0 };
          spent.wall += (performance.now() - t0) / 1000;
          spent.cpu += (c.user + c.system) / 1e6;
          split.set(key, spent);
        }
      };
    },
  });
}

/** The stores, core, library and delivery service over the populated file; pushes counted. */
async function world(db: SqliteDatabase) {
  const pushed = { targets: 0 };
  const push = {
    push(targets: readonly PushTarget[]) {
      pushed.targets += targets.length;
      return Promise.resolve(
        targets.map((t) => ({ enrollmentId: t.enrollmentId, outcome: 'sent' as const })),
      );
    },
  };
  const core = createMdmCore(
    { storage: db.storage, push, logger: silentLogger },
    { topic: TOPIC, outbox: false, push: { maxQueued: 4 * ENROLLMENTS } },
  );
  const { admin } = db;
  const groups = createGroupService({ store: admin, principals: admin });
  const signer = { ...signing, chain: [] };
  const library = createProfileLibrary({ store: admin, groups, signing: signer });
  const at = new Date(T0);
  await admin.createPolicy({
    id: POLICY,
    name: 'bench',
    groupId: 'global',
    createdAt: at,
    updatedAt: at,
  });
  const split = new Map<string, Spent>();
  const timed = <T extends object>(target: T): T => (SPLIT ? timedPort(target, split) : target);
  const delivery = createDeliveryService({
    ...{ store: timed(admin), enrollments: timed(db.storage), commands: timed(core) },
    ...{ groups, signing: signer, clock: () => new Date(), logger: silentLogger },
  });
  return { core, admin, library, delivery, pushed, signer, split };
}

type World = Awaited<ReturnType<typeof world>>;

/** Waits (yielding to the background pushes) until the stub has seen `count` targets. */
async function pushesReach(w: World, count: number): Promise<void> {
  while (w.pushed.targets < count) await tick();
}

/** Wall and CPU seconds of one measurement (CPU time is steadier on a busy machine). */
interface Sample {
  wall: number;
  cpu: number;
}

/** Starts a measurement; the returned function ends it. */
function measure(): () => Sample {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  };
}

/** (a) One InstallProfile queued to every enrollment by the core, pushed. */
async function bareEnqueue(w: World, ids: readonly string[], run: number): Promise<Sample> {
  const payload = renderProfile(wifi(100 + run), w.signer);
  const before = w.pushed.targets;
  const done = measure();
  await w.core.enqueue(ids, { RequestType: 'InstallProfile', Payload: payload });
  await pushesReach(w, before + ids.length);
  return done();
}

/** (b) An Auto assignment stored, then applied to every device it reaches. */
async function policyChange(w: World, run: number): Promise<Sample> {
  const { profile } = await w.library.upload({
    groupId: 'global',
    content: wifi(run),
    actor: 'bench',
  });
  const at = new Date();
  const assignment = {
    policyId: POLICY,
    profileId: profile.id,
    assignmentType: 'auto',
    removal: 'always',
  } as const;
  await w.admin.putAssignment({ ...assignment, createdAt: at, updatedAt: at });
  const before = w.pushed.targets;
  const done = measure();
  const report = await w.delivery.apply({ kind: 'assign', ...assignment });
  const sample = done();
  if (report.totals.added !== ENROLLMENTS || w.pushed.targets - before < ENROLLMENTS)
    throw new Error(
      `the change reached ${report.totals.added} devices and pushed ${w.pushed.targets - before}, not ${ENROLLMENTS}`,
    );
  return sample;
}

/**
 * Prints the per-run mean wall and CPU seconds of each timed port method and what is left
 * (planning, signing) against the medians of the change.
 */
function printSplit(split: ReadonlyMap<string, Spent>, total: Spent): void {
  const rows = [...split].sort((a, b) => b[1].cpu - a[1].cpu);
  const wall = rows.reduce((n, [, s]) => n + s.wall, 0) / RUNS;
  const cpu = rows.reduce((n, [, s]) => n + s.cpu, 0) / RUNS;
  const f = (x: number) => x.toFixed(2);
  console.log('\n| port method (policy change, mean per run) | wall s | CPU s |\n|---|---:|---:|');
  for (const [name, s] of rows)
    console.log(`| ${name} | ${f(s.wall / RUNS)} | ${f(s.cpu / RUNS)} |`);
  console.log(
    `| everything else (planning, signing; vs the medians) | ${f(total.wall - wall)} | ${f(total.cpu - cpu)} |`,
  );
}

/**
 * The policy-delivery row: `delivery.apply` of an Auto assignment to every enrollment against
 * the bare `core.enqueue` of one InstallProfile to the same enrollments with its push, medians of
 * three interleaved runs. The fleet follows `BENCH_POLICY_SCALE`, else `ORCHARD_SCALE` (which
 * `npm run bench` sets from its scale); the goal stays 5 s.
 */
export async function rows(_options: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-policy-bench-'));
  const path = join(dir, 'orchard.db');
  try {
    await openSqliteDatabase({ path }).close();
    const loadSeconds = populate(path, ENROLLMENTS);
    const db = openSqliteDatabase({ path, cacheSizeKiB: 262_144 });
    const w = await world(db);
    const ids = Array.from({ length: ENROLLMENTS }, (_, i) => `DEV-${String(i).padStart(6, '0')}`);
    const bare: Sample[] = [];
    const change: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await bareEnqueue(w, ids, i));
      change.push(await policyChange(w, i));
    }
    await w.core.close();
    await db.close();
    const b = median(change.map((x) => x.wall));
    if (SPLIT) printSplit(w.split, { wall: b, cpu: median(change.map((x) => x.cpu)) });
    return [
      benchRow({
        id: 'policy.delivery',
        what: `policy change: one Auto profile to ${ENROLLMENTS.toLocaleString('en-US')} devices (plan, sign, queue, record, push)`,
        baseline: 'core.enqueue of one InstallProfile to every device, pushed',
        baselineValues: bare.map((x) => x.wall),
        values: change.map((x) => x.wall),
        unit: 's',
        higherIsBetter: false,
        goal: { below: GOAL_SECONDS },
        detail: {
          enrollments: ENROLLMENTS,
          loadSeconds,
          cpuSeconds: median(change.map((x) => x.cpu)),
          baselineCpuSeconds: median(bare.map((x) => x.cpu)),
        },
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The daemon at fleet size (issue 20): `orchard serve` as its own process on a SQLite data dir
 * holding 100,000 enrolled devices with push tokens (at scale 1), pushing to the simulator's
 * APNs endpoint in this process.
 * - Enqueueing one command for every enrollment through the admin API (`POST /api/v1/commands`,
 *   1,000 ids per request, as the API allows) with its pushes, against a raw better-sqlite3
 *   insert of the same command and target rows in one transaction (goal under 1.5 s).
 * - Resident memory of the idle daemon holding the enrollments, against a bare node:http process
 *   (goal under 100 MB).
 * Medians of three runs each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { encodePlist } from '../src/protocol/plist.js';
import { createSimApns, type SimApns } from '../src/sim/index.js';
import { benchRow, median, scaled, type BenchOptions, type BenchRow } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENROLLMENTS = 100_000;
const RUNS = 3;
/** The API takes at most 1,000 enrollment ids per request. */
const BATCH = 1000;
/** Requests in flight at once, as an operator's script might send them. */
const CONCURRENCY = 4;
/** How long the daemon sits idle before its memory is read. */
const IDLE_MS = 3000;
const T0 = Date.UTC(2026, 0, 1);

/** A daemon child process. */
interface Daemon {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The data dir and the push identity the daemon runs with. */
interface World {
  dir: string;
  dataDir: string;
  apiKey: string;
  topic: string;
  apns: SimApns;
  pushes: { count: number };
}

/** Enrolled iPhones with push tokens for `topic`, inserted with raw SQL in one transaction. */
function populate(path: string, n: number, topic: string): number {
  const db = new Database(path);
  const t0 = performance.now();
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
    ).run(n, topic);
  })();
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (performance.now() - t0) / 1000;
}

/** Resident set size of process `pid` in MB, from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${String(pid)}`);
  return Number(kb) / 1024;
}

/** Spawns `args` under node and resolves once its output matches `ready` (group 1: the URL). */
function spawnReady(args: string[], ready: RegExp): Promise<Daemon> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  const exited = new Promise<void>((r) => {
    child.once('exit', () => {
      r();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`not ready in 60 s: ${seen.slice(-500)}`));
    }, 60_000);
    const watch = (chunk: Buffer): void => {
      if (seen.length < 1_000_000) seen += chunk.toString();
      const m = ready.exec(seen);
      if (m?.[1] !== undefined && child.pid !== undefined) {
        clearTimeout(timer);
        seen = '';
        resolve({ url: m[1], pid: child.pid, stop });
      }
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${String(code)} before it was ready: ${seen.slice(-500)}`));
    });
  });
}

/** `orchard serve` on the world's data dir, pushing to the simulator's APNs endpoint. */
function startDaemon(w: World): Promise<Daemon> {
  const file = (name: string) => join(w.dir, name);
  return spawnReady(
    [
      'bin/orchard',
      'serve',
      ...['--listen', '127.0.0.1:0', '--data-dir', w.dataDir, '--api-key', w.apiKey],
      ...['--push-cert', file('push.pem'), '--push-key', file('push.key')],
      ...['--apns-url', w.apns.url, '--apns-ca', file('apns-ca.pem')],
      ...['--ca-key-type', 'rsa-2048', '--rate-limit', 'off', '--log-level', 'info'],
    ],
    /"url":"([^"]+)"[^\n]*"msg":"listening"/,
  );
}

/** A bare node:http server process: the memory floor of any Node daemon. */
function startBare(): Promise<Daemon> {
  const code = `require('node:http').createServer((q, s) => s.end()).listen(0, '127.0.0.1', function () { console.log('url http://127.0.0.1:' + this.address().port); });`;
  return spawnReady(['-e', code], /url (http:\S+)/);
}

/** The data dir with its schema and the enrollments, and the APNs endpoint. */
async function world(n: number): Promise<World & { loadSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-daemon-bench-'));
  const pushes = { count: 0 };
  const apns = await createSimApns({
    onPush: () => {
      pushes.count++;
    },
  });
  const topic = `com.apple.mgmt.External.${randomUUID()}`;
  const identity = await apns.issuePushIdentity(topic);
  writeFileSync(join(dir, 'push.pem'), identity.certPem);
  writeFileSync(join(dir, 'push.key'), identity.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'apns-ca.pem'), apns.caPem);
  const dataDir = join(dir, 'data');
  const apiKey = randomBytes(32).toString('base64url');
  const w: World = { dir, dataDir, apiKey, topic, apns, pushes };
  // A first start lays out the data dir (schema, CA); the fleet goes in while it is stopped.
  await (await startDaemon(w)).stop();
  const loadSeconds = populate(join(dataDir, 'orchard.db'), n, topic);
  // The endpoint answers unknown tokens 400 as APNs does: it learns the fleet's.
  for (let i = 0; i < n; i++) apns.register(i.toString(16).padStart(64, '0'));
  return { ...w, loadSeconds };
}

/** One command to every enrollment through the API, `BATCH` ids a request; seconds taken. */
async function enqueueViaApi(d: Daemon, w: World, ids: readonly string[]): Promise<number> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  const command = { RequestType: 'DeviceInformation', Queries: ['OSVersion'] };
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const enrollmentIds = batches[next++];
      const res = await fetch(`${d.url}/api/v1/commands`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ enrollmentIds, command }),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`POST /api/v1/commands: ${res.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (performance.now() - t0) / 1000;
}

/** The same rows written directly: one command row and a target row per enrollment. */
function rawInsert(path: string, ids: readonly string[]): number {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  const body = Buffer.from(
    encodePlist({
      CommandUUID: randomUUID(),
      Command: { RequestType: 'DeviceInformation', Queries: ['OSVersion'] },
    }),
  );
  const command = db.prepare(
    'INSERT INTO commands (uuid, request_type, body, created_at) VALUES (?, ?, ?, ?)',
  );
  const target = db.prepare(
    `INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
     VALUES (?, ?, 'queued', ?)`,
  );
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < ids.length; i += BATCH) {
      const uuid = randomUUID();
      const now = Date.now();
      command.run(uuid, 'DeviceInformation', body, now);
      for (const id of ids.slice(i, i + BATCH)) target.run(uuid, id, now);
    }
  })();
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return seconds;
}

/**
 * Waits until the endpoint has seen `count` pushes, or none for 2 s (the daemon coalesces a push
 * to a device that has not connected since its last one), or `ms` passed; seconds waited.
 */
async function pushesSettle(w: World, count: number, ms: number): Promise<number> {
  const t0 = performance.now();
  let last = w.pushes.count;
  let lastChange = t0;
  while (w.pushes.count < count && performance.now() - t0 < ms) {
    await sleep(50);
    if (w.pushes.count !== last) [last, lastChange] = [w.pushes.count, performance.now()];
    else if (performance.now() - lastChange > 2000) break;
  }
  return (performance.now() - t0) / 1000;
}

/** Resident memory of a fresh daemon after it has sat idle, next to a bare node:http process. */
async function memory(w: World): Promise<{ daemon: number[]; bare: number[] }> {
  const daemon: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const d = await startDaemon(w);
    const b = await startBare();
    try {
      // One admin read so the daemon has served something, as a live one has.
      await fetch(`${d.url}/api/v1/enrollments?limit=1`, {
        headers: { authorization: `Bearer ${w.apiKey}` },
      }).then((r) => r.text());
      await sleep(IDLE_MS);
      daemon.push(rssMb(d.pid));
      bare.push(rssMb(b.pid));
    } finally {
      await Promise.all([d.stop(), b.stop()]);
    }
  }
  return { daemon, bare };
}

/** The daemon rows: enqueue to the whole fleet through the API, and idle resident memory. */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const n = scaled(ENROLLMENTS, options.scale, 1000);
  const w = await world(n);
  const path = join(w.dataDir, 'orchard.db');
  const ids = Array.from({ length: n }, (_, i) => `DEV-${String(i).padStart(6, '0')}`);
  try {
    const rss = await memory(w);
    const api: number[] = [];
    const raw: number[] = [];
    const pushWait: number[] = [];
    const afterRss: number[] = [];
    const pushed: number[] = [];
    const d = await startDaemon(w);
    try {
      for (let i = 0; i < RUNS; i++) {
        const before = w.pushes.count;
        api.push(await enqueueViaApi(d, w, ids));
        pushWait.push(await pushesSettle(w, before + n, 60_000));
        pushed.push(w.pushes.count - before);
        afterRss.push(rssMb(d.pid));
        raw.push(rawInsert(path, ids));
      }
    } finally {
      await d.stop();
    }
    const k = n.toLocaleString('en-US');
    return [
      benchRow({
        id: 'daemon.enqueue.api',
        what: `one command to ${k} enrollments through the API (${String(n / BATCH)} requests of 1,000 ids, ${String(CONCURRENCY)} at a time), with pushes`,
        baseline: 'raw better-sqlite3 insert of the same rows, one transaction',
        baselineValues: raw,
        values: api,
        unit: 's',
        higherIsBetter: false,
        goal: { below: 1.5 },
        detail: {
          enrollments: n,
          loadSeconds: w.loadSeconds,
          secondsUntilPushesSettled: pushWait,
          pushesPerRun: pushed,
          rssAfterMb: median(afterRss),
        },
      }),
      benchRow({
        id: 'daemon.rss.idle',
        what: `resident memory of the idle daemon holding ${k} enrollments`,
        baseline: 'a bare node:http process',
        baselineValues: rss.bare,
        values: rss.daemon,
        unit: 'MB',
        higherIsBetter: false,
        goal: { below: 100 },
        detail: { enrollments: n, idleMs: IDLE_MS },
      }),
    ];
  } finally {
    await w.apns.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
}

/**
 * The daemon at fleet size (issue 20): `orchard serve` as its own process (bin/orchard on dist/,
 * built first when src/ is newer, never src/ through tsx) on a SQLite data dir holding 100,000
 * enrolled devices with push tokens (at scale 1), pushing to the simulator's APNs endpoint in
 * this process.
 * - Enqueueing one command for every enrollment through the admin API in one request
 *   (`POST /api/v1/commands` with `{"target":{"kind":"enrolled"}}`): seconds from the call to the
 *   201 answer, with the daemon's pushes on (the answer comes once the command is stored for every
 *   target and their push is scheduled; the pushes run in the background and every one of them
 *   must reach the APNs endpoint, else the row fails; how long that took is in `detail`), against
 *   a raw better-sqlite3 insert of the same command and target rows in one transaction (goal
 *   under 1.5 s). The same with listed ids (1,000 a request, as the API allows), without a goal.
 * - Resident memory of the idle daemon holding the enrollments, against a bare node:http process
 *   (goal under 100 MB).
 * Medians of three runs each.
 */
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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
/** How long the pushes of one enqueue may take to reach the APNs endpoint. */
const PUSH_WAIT_MS = 180_000;
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

/** Newest mtime under `dir`, directories included (as bin/orchard reads it). */
function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/** Whether bin/orchard would run dist/ (built after the last change under src/). */
function distCurrent(): boolean {
  const stamp = join(ROOT, 'dist', '.build-stamp');
  return (
    existsSync(join(ROOT, 'dist', 'cli', 'main.js')) &&
    existsSync(stamp) &&
    statSync(stamp).mtimeMs > newestMtime(join(ROOT, 'src'))
  );
}

/**
 * Builds dist/ when src/ changed since (`npm run build`), and refuses to go on when it is still
 * older: bin/orchard would run src/ through tsx, about 40 MB more, and the rows would measure tsx.
 */
function ensureDist(): void {
  if (distCurrent()) return;
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!distCurrent())
    throw new Error('src/ changed while dist/ was built: the daemon would run through tsx');
}

/**
 * `orchard serve` (bin/orchard on a current dist/) on the world's data dir, pushing to the
 * simulator's APNs endpoint.
 */
function startDaemon(w: World): Promise<Daemon> {
  ensureDist();
  const file = (name: string) => join(w.dir, name);
  return spawnReady(
    [
      ...DAEMON_NODE_FLAGS, // as `npm start` runs it
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

const COMMAND = { RequestType: 'DeviceInformation', Queries: ['OSVersion'] };

/** `POST /api/v1/commands` with `body`; the JSON answer, or a throw unless 201. */
async function postCommand(d: Daemon, w: World, body: unknown): Promise<{ targets?: number }> {
  const res = await fetch(`${d.url}/api/v1/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/v1/commands: ${res.status} ${text}`);
  return JSON.parse(text) as { targets?: number };
}

/** One command to every enrolled enrollment in one request (the bulk target); seconds taken. */
async function enqueueBulk(d: Daemon, w: World, n: number): Promise<number> {
  const t0 = performance.now();
  const answer = await postCommand(d, w, { target: { kind: 'enrolled' }, command: COMMAND });
  const seconds = (performance.now() - t0) / 1000;
  if (answer.targets !== n) throw new Error(`the bulk target named ${answer.targets} of ${n}`);
  return seconds;
}

/** One command to every enrollment through the API, `BATCH` ids a request; seconds taken. */
async function enqueueViaApi(d: Daemon, w: World, ids: readonly string[]): Promise<number> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const enrollmentIds = batches[next++];
      await postCommand(d, w, { enrollmentIds, command: COMMAND });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (performance.now() - t0) / 1000;
}

/**
 * The same rows written directly: a command row per `perCommand` targets and a target row per
 * enrollment, bound one at a time, in one transaction; seconds taken.
 */
function rawInsert(path: string, ids: readonly string[], perCommand: number): number {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  const body = Buffer.from(encodePlist({ CommandUUID: randomUUID(), Command: COMMAND }));
  const command = db.prepare(
    'INSERT INTO commands (uuid, request_type, body, created_at) VALUES (?, ?, ?, ?)',
  );
  const target = db.prepare(
    `INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
     VALUES (?, ?, 'queued', ?)`,
  );
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < ids.length; i += perCommand) {
      const uuid = randomUUID();
      const now = Date.now();
      command.run(uuid, 'DeviceInformation', body, now);
      for (const id of ids.slice(i, i + perCommand)) target.run(uuid, id, now);
    }
  })();
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return seconds;
}

/**
 * Waits until the endpoint has seen `count` pushes, or `ms` passed, or (with `quietMs`) none came
 * for that long; seconds waited. The runs are seconds apart, past the APNs client's coalescing
 * window, so every target the daemon pushes reaches the endpoint.
 */
async function pushesReach(w: World, count: number, ms: number, quietMs = ms): Promise<number> {
  const t0 = performance.now();
  let last = w.pushes.count;
  let lastChange = t0;
  while (w.pushes.count < count && performance.now() - t0 < ms) {
    await sleep(20);
    if (w.pushes.count !== last) [last, lastChange] = [w.pushes.count, performance.now()];
    else if (performance.now() - lastChange > quietMs) break;
  }
  return (performance.now() - t0) / 1000;
}

/** One enqueue's figures: the API's answer, the last push reaching the endpoint, the pushes. */
interface EnqueueRun {
  answer: number;
  everyPush: number;
  pushed: number;
}

/**
 * Runs `enqueue` (seconds to the answer), then waits for its `n` pushes. With `requireAll` it
 * throws when fewer than `n` reached the endpoint; otherwise it stops once none came for 5 s (the
 * daemon defers pushes past its backlog, `QueueFull`, to the devices' next check-in).
 */
async function withPushes(
  w: World,
  n: number,
  requireAll: boolean,
  enqueue: () => Promise<number>,
): Promise<EnqueueRun> {
  const before = w.pushes.count;
  const answer = await enqueue();
  const waited = await pushesReach(w, before + n, PUSH_WAIT_MS, requireAll ? PUSH_WAIT_MS : 5000);
  const pushed = w.pushes.count - before;
  if (requireAll && pushed < n)
    throw new Error(`only ${pushed} of ${n} pushes reached the APNs endpoint`);
  return { answer, everyPush: answer + waited, pushed };
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
    const bulk: EnqueueRun[] = [];
    const listed: EnqueueRun[] = [];
    const raw: number[] = [];
    const rawListed: number[] = [];
    const afterRss: number[] = [];
    const d = await startDaemon(w);
    try {
      for (let i = 0; i < RUNS; i++) {
        bulk.push(await withPushes(w, n, true, () => enqueueBulk(d, w, n)));
        raw.push(rawInsert(path, ids, n));
        // The listed shape has no goal: measured once, to keep the module's time down.
        if (i === 0) {
          listed.push(await withPushes(w, n, false, () => enqueueViaApi(d, w, ids)));
          rawListed.push(rawInsert(path, ids, BATCH));
        }
        afterRss.push(rssMb(d.pid));
      }
    } finally {
      await d.stop();
    }
    const k = n.toLocaleString('en-US');
    const pushes = (runs: EnqueueRun[]) => ({
      secondsUntilLastPush: runs.map((r) => r.everyPush),
      medianSecondsUntilLastPush: median(runs.map((r) => r.everyPush)),
      pushesPerRun: runs.map((r) => r.pushed),
    });
    const common = { enrollments: n, loadSeconds: w.loadSeconds };
    return [
      benchRow({
        id: 'daemon.enqueue.api',
        what: `one command to ${k} enrollments through the API in one request (target "enrolled"), pushes on: seconds to the 201 (stored for every target, pushes scheduled); every one of the ${k} pushes must then reach the APNs mock (seconds in detail)`,
        baseline: 'raw better-sqlite3 insert of the same rows, bound one by one, one transaction',
        baselineValues: raw,
        values: bulk.map((r) => r.answer),
        unit: 's',
        higherIsBetter: false,
        goal: { below: 1.5 },
        detail: { ...common, ...pushes(bulk), rssAfterMb: median(afterRss) },
      }),
      benchRow({
        id: 'daemon.enqueue.api.ids',
        what: `the same with listed ids: ${String(n / BATCH)} requests of 1,000, ${String(CONCURRENCY)} at a time (seconds to the last 201; pushes past the daemon's backlog are deferred, counted in detail)`,
        baseline: 'raw better-sqlite3 insert of the same rows, bound one by one, one transaction',
        baselineValues: rawListed,
        values: listed.map((r) => r.answer),
        unit: 's',
        higherIsBetter: false,
        detail: { ...common, ...pushes(listed) },
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

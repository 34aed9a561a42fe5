/**
 * Issue 21 performance, through real daemons (`node bin/orchard serve` children on 127.0.0.1):
 *
 * 1. Signed Idle command reports (`PUT /mdm`, `Mdm-Signature`) per second against one daemon on
 *    SQLite, one daemon on PostgreSQL and two daemons on one PostgreSQL database, in the same run,
 *    with the same client and the same device identities (issued by the daemons' shared CA and
 *    enrolled with Authenticate + TokenUpdate in both databases). The client is a separate process
 *    (`pg-instances-load.ts`) with 16 and 50 keep-alive connections, split evenly over the
 *    daemons; `ab` (when installed) cross-checks with one device per daemon, with and without
 *    keep-alive. Medians of `BENCH_PG_RUNS` (≥ 3) interleaved runs, p99, CPU per check-in of the
 *    daemons, PostgreSQL and the client, and the ratios two/one and PostgreSQL/SQLite.
 *    Before the load: statements per signed Idle check-in on PostgreSQL, counted at the `pg`
 *    driver inside the daemon (`BENCH_PG_COUNT_CHECKINS`, 200 reports in a row; 0 skips it).
 * 2. One command to `BENCH_PG_ENQUEUE_TARGETS` (100,000) enrollments inserted directly into the
 *    tables, through the admin API (`POST /api/v1/commands` with `target: {kind: 'enrolled'}`,
 *    one request; `BENCH_PG_ENQUEUE_MODE=batches` sends 1,000 ids a request instead, `both` runs
 *    both) with pushes to a mock APNs: seconds until the API answered and until the last push
 *    reached the mock (pushes past the core's 50,000-push backlog are deferred, not sent),
 *    PostgreSQL against SQLite in the same run (goal: under 2 s on PostgreSQL, 1.5 s on SQLite).
 *
 * Scale with `BENCH_PG_DEVICES` (200), `BENCH_PG_SECONDS` (3 per run), `BENCH_PG_CONCURRENCY`
 * (`16,50`), `BENCH_PG_AB=0` (skip ab), `BENCH_PG_ENQUEUE_RUNS` (1: with 100,000 pushes a run
 * takes about a minute per engine on a busy machine; 3 for a median), `BENCH_PG_ENQUEUE_PARALLEL`
 * (API requests in flight, 4), `BENCH_PG_CHECKINS=0` (the enqueue only). Diagnosis:
 * `BENCH_PG_CPU_PROF=DIR` writes the daemons' CPU profiles there; `BENCH_PG_LOG_MS=N` sets
 * `log_min_duration_statement` on the bench database (see the server log).
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { issueCertificate } from '../src/crypto/x509.js';
import { createApnsMock, type ApnsMock } from '../test/support/apns-mock.js';
import { spawnDaemon, type TestDaemon } from '../test/support/daemon.js';
import { DeviceEmulator } from '../test/support/device-emulator.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';
import { createApnsTestPki, issuePushCertificate, newTopic } from '../test/push/pki.js';
import type { LoadDevice, LoadResult, LoadRun } from './pg-instances-load.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const DEVICES = Math.max(2, Number(env.BENCH_PG_DEVICES ?? '200'));
const SECONDS = Number(env.BENCH_PG_SECONDS ?? '3');
const RUNS = Math.max(3, Number(env.BENCH_PG_RUNS ?? '3'));
const CONCURRENCY = (env.BENCH_PG_CONCURRENCY ?? '16,50').split(',').map(Number);
const AB = env.BENCH_PG_AB !== '0';
const TARGETS = Number(env.BENCH_PG_ENQUEUE_TARGETS ?? '100000');
const ENQUEUE_RUNS = Math.max(1, Number(env.BENCH_PG_ENQUEUE_RUNS ?? '1'));
const PARALLEL = Math.max(1, Number(env.BENCH_PG_ENQUEUE_PARALLEL ?? '4'));
const CPU_PROF = env.BENCH_PG_CPU_PROF;
const LOG_MS = env.BENCH_PG_LOG_MS;
const CHECKINS = env.BENCH_PG_CHECKINS !== '0';
const BATCH = 1000;
/**
 * Which enqueue shapes run: `bulk` (one request with `target: {kind: 'enrolled'}`, the default),
 * `batches` (1,000 ids a request), or `both` (`BENCH_PG_ENQUEUE_MODE`).
 */
const ENQUEUE_MODES: boolean[] = (() => {
  const mode = env.BENCH_PG_ENQUEUE_MODE ?? 'bulk';
  return mode === 'both' ? [true, false] : [mode !== 'batches'];
})();
/** Signed Idle reports sent one after another to count the statements each costs. */
const COUNT_CHECKINS = Number(env.BENCH_PG_COUNT_CHECKINS ?? '200');
const GOAL_SECONDS = 2;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

/** CPU seconds (user + system) of the processes `pids` so far; gone processes count 0. */
function cpuOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / 100;
}

/** The process whose command line names `dataDir` (the daemon child of `spawnDaemon`). */
function pidOf(dataDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(dataDir) && cmd.includes('serve')) return Number(entry);
    } catch {
      // gone
    }
  }
  return -1;
}

/** Server processes of the database (their CPU is the database's share of each run). */
async function pgPids(db: TestDatabase): Promise<number[]> {
  const rows = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return rows.map((r) => r.pid);
}

/** One set-up of daemons the client drives. */
interface Target {
  name: string;
  daemons: TestDaemon[];
  pg?: TestDatabase;
}

/** The measured figures of one run against one target. */
interface Sample {
  rate: number;
  p99: number;
  failed: number;
  /** CPU milliseconds per successful check-in. */
  daemonMs: number;
  pgMs: number;
  clientMs: number;
}

/** Runs `fn` with the CPU of the target's daemons and database sampled around it. */
async function withCpu(
  target: Target,
  fn: () => Promise<{ ok: number; rate: number; p99: number; failed: number; clientCpu: number }>,
): Promise<Sample> {
  const daemonPids = target.daemons.map((d) => pidOf(d.dataDir));
  const pids = target.pg ? await pgPids(target.pg) : [];
  const d0 = cpuOf(daemonPids);
  const p0 = cpuOf(pids);
  const r = await fn();
  const ok = Math.max(1, r.ok);
  return {
    rate: r.rate,
    p99: r.p99,
    failed: r.failed,
    daemonMs: ((cpuOf(daemonPids) - d0) * 1000) / ok,
    pgMs: ((cpuOf(pids) - p0) * 1000) / ok,
    clientMs: (r.clientCpu * 1000) / ok,
  };
}

/** The forked load generator. */
interface Client {
  run(ports: number[], concurrency: number): Promise<LoadResult>;
  close(): void;
}

async function startClient(devices: LoadDevice[]): Promise<Client> {
  const child: ChildProcess = fork(join(here, 'pg-instances-load.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const exited = (code: number | null): void => {
        reject(new Error(`load generator exited with ${String(code)}`));
      };
      child.once('exit', exited);
      child.once('message', (message) => {
        child.off('exit', exited);
        resolve(message);
      });
    });
  const ready = next();
  child.send({ kind: 'devices', devices });
  await ready;
  return {
    async run(ports, concurrency) {
      const answer = next();
      const run: LoadRun = {
        kind: 'run',
        ports,
        concurrency,
        seconds: SECONDS,
        warmupSeconds: 0.5,
      };
      child.send(run);
      return (await answer) as LoadResult;
    },
    close() {
      child.send({ kind: 'exit' });
    },
  };
}

/** Runs `ab` once against `port` with one device's Idle report; resolves its figures. */
function ab(
  port: number,
  device: LoadDevice,
  dir: string,
  concurrency: number,
  keepAlive: boolean,
): Promise<{ ok: number; rate: number; p99: number; failed: number }> {
  const bodyFile = join(dir, `idle-${port}.plist`);
  writeFileSync(bodyFile, Buffer.from(device.body, 'base64'));
  const args = [
    ...(keepAlive ? ['-k'] : []),
    ...['-q', '-s', '30', '-t', String(SECONDS), '-n', '100000000'],
    // `-u`: the body is PUT, the MDM ServerURL's method.
    ...['-c', String(concurrency), '-u', bodyFile],
    ...['-T', 'application/x-apple-aspen-mdm', '-H', `Mdm-Signature: ${device.signature}`],
    `http://127.0.0.1:${port}/mdm`,
  ];
  return new Promise((resolvePromise, reject) => {
    execFile('ab', args, { maxBuffer: 1 << 22 }, (error, stdout) => {
      if (error) {
        reject(new Error(`ab failed: ${error.message}\n${stdout}`));
        return;
      }
      const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 'NaN');
      const complete = num(/Complete requests:\s+(\d+)/);
      const failed = num(/Failed requests:\s+(\d+)/) + (num(/Non-2xx responses:\s+(\d+)/) || 0);
      resolvePromise({
        ok: complete - failed,
        rate: num(/Requests per second:\s+([\d.]+)/),
        p99: num(/\s99%\s+(\d+)/),
        failed,
      });
    });
  });
}

/** A device identity issued by the daemons' CA, enrolled on every database, and its Idle report. */
async function enrollDevices(
  caDir: string,
  topic: string,
  enrollOn: TestDaemon[],
): Promise<LoadDevice[]> {
  const issuerFile = existsSync(join(caDir, 'issuing.pem')) ? 'issuing' : 'ca';
  const issuer = {
    certificate: new X509Certificate(readFileSync(join(caDir, `${issuerFile}.pem`))),
    privateKey: createPrivateKey(readFileSync(join(caDir, `${issuerFile}.key`))),
  };
  const devices: LoadDevice[] = [];
  const one = async (i: number): Promise<LoadDevice> => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certificate = await issueCertificate({
      publicKey,
      subject: `O=Orchard,CN=bench device ${i}`,
      issuer,
    });
    const identity = { certificate, privateKey };
    const keys = { UDID: `BENCH-${String(i).padStart(6, '0')}-0000-0000-000000000000` };
    let last: DeviceEmulator | undefined;
    for (const daemon of enrollOn) {
      last = new DeviceEmulator({ baseUrl: daemon.url, identity, topic, keys });
      await last.enroll();
    }
    const dev = last as DeviceEmulator;
    const body = dev.build({ Status: 'Idle' });
    return {
      body: body.toString('base64'),
      signature: dev.identityHeaders(body)['mdm-signature'] as string,
    };
  };
  for (let i = 0; i < DEVICES; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, DEVICES - i) }, (_, j) => one(i + j)),
    );
    devices.push(...batch);
  }
  return devices;
}

/** The check-in rates of every target, interleaved, for one client kind and concurrency. */
async function checkinRows(
  targets: Target[],
  label: string,
  sample: (target: Target) => Promise<Sample>,
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  for (let run = 0; run < RUNS; run++) {
    // Rotate the order so drift over the run favours none.
    const order = targets.map((_, i) => targets[(i + run) % targets.length] as Target);
    for (const target of order) samples.get(target.name)?.push(await sample(target));
  }
  printCheckins(label, targets, samples);
  return samples;
}

function printCheckins(label: string, targets: Target[], samples: Map<string, Sample[]>): void {
  const med = (name: string, key: keyof Sample): number =>
    median((samples.get(name) ?? []).map((s) => s[key]));
  const [sqlite, one, two] = targets.map((t) => t.name) as [string, string, string];
  console.log(`\n## Signed Idle check-ins per second, ${label} (median of ${RUNS})`);
  console.log(
    '| set-up | check-ins/s | p99 ms | failed | CPU ms/check-in: daemons | PostgreSQL | client | ratio to SQLite |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of targets) {
    const failed = (samples.get(t.name) ?? []).reduce((n, s) => n + s.failed, 0);
    console.log(
      `| ${t.name} | ${fmt(med(t.name, 'rate'))} | ${fmt(med(t.name, 'p99'), 1)} | ${failed} | ${fmt(med(t.name, 'daemonMs'), 2)} | ${fmt(med(t.name, 'pgMs'), 2)} | ${fmt(med(t.name, 'clientMs'), 2)} | ${(med(t.name, 'rate') / med(sqlite, 'rate')).toFixed(2)} |`,
    );
  }
  const ratio = med(two, 'rate') / med(one, 'rate');
  const paired = median(
    (samples.get(two) ?? []).map((s, i) => s.rate / (samples.get(one)?.[i]?.rate ?? Number.NaN)),
  );
  console.log(
    `two daemons / one daemon on PostgreSQL: ${ratio.toFixed(2)} (paired median ${paired.toFixed(2)}); PostgreSQL one / SQLite: ${(med(one, 'rate') / med(sqlite, 'rate')).toFixed(2)}`,
  );
}

/** Enrolled devices with push tokens on the push topic, inserted directly (one statement each). */
async function populatePg(db: TestDatabase, n: number, topic: string): Promise<void> {
  await db.query(
    `INSERT INTO enrollments (id, type, device_id, enrolled, facts, token_update_count,
       created_at, updated_at)
     SELECT 'BULK-' || lpad(i::text, 6, '0'), 'device', 'BULK-' || lpad(i::text, 6, '0'), true,
       '{"ProductName":"iPhone16,1","OSVersion":"17.4"}', 1, now(), now()
     FROM generate_series(0, $1::int - 1) i`,
    [n],
  );
  await db.query(
    `INSERT INTO push_info (enrollment_id, token, push_magic, topic)
     SELECT 'BULK-' || lpad(i::text, 6, '0'), lpad(to_hex(i), 64, '0'), 'MAGIC', $2
     FROM generate_series(0, $1::int - 1) i`,
    [n, topic],
  );
  await db.query('ANALYZE');
}

function populateSqlite(path: string, n: number, topic: string): void {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  const series = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)`;
  const now = Date.now();
  db.transaction(() => {
    db.prepare(
      `${series} INSERT INTO enrollments (id, type, device_id, enrolled, facts,
         token_update_count, created_at, updated_at)
       SELECT printf('BULK-%06d', i), 'device', printf('BULK-%06d', i), 1,
         '{"ProductName":"iPhone16,1","OSVersion":"17.4"}', 1, ?, ? FROM n`,
    ).run(n, now, now);
    db.prepare(
      `${series} INSERT INTO push_info (enrollment_id, token, push_magic, topic)
       SELECT printf('BULK-%06d', i), printf('%064x', i), 'MAGIC', ? FROM n`,
    ).run(n, topic);
  })();
  db.exec('ANALYZE');
  db.close();
}

/** Empties the queue between enqueue runs, so each run starts from the same tables. */
async function emptyQueue(target: { pg?: TestDatabase; sqlite?: string }): Promise<void> {
  if (target.pg) await target.pg.query('TRUNCATE command_targets, commands CASCADE');
  if (target.sqlite) {
    const db = new Database(target.sqlite);
    db.pragma('busy_timeout = 10000');
    db.exec('DELETE FROM command_targets; DELETE FROM commands;');
    db.close();
  }
}

/** What one enqueue run measured. */
interface EnqueueRun {
  /** Seconds until every API request answered 201. */
  api: number;
  /** Seconds until the last push reached the mock (the pushes stopped arriving). */
  pushes: number;
  /** Pushes the mock received (the rest were deferred, e.g. QueueFull past 50,000 waiting). */
  pushed: number;
}

/**
 * Queues one command to `ids` through the API (1,000 a request, {@link PARALLEL} in flight),
 * then waits until every push reached the mock or none arrived for 2 s.
 */
async function enqueueThroughApi(
  daemon: TestDaemon,
  ids: readonly string[],
  mock: ApnsMock,
  bulk = false,
): Promise<EnqueueRun> {
  const before = mock.count;
  let lastPush = performance.now();
  mock.onPush = () => {
    lastPush = performance.now();
  };
  const t0 = performance.now();
  if (bulk) await enqueueBulk(daemon);
  else await enqueueBatches(daemon, ids);
  const api = (performance.now() - t0) / 1000;
  // The pushes may start only after the answer (one request): wait 2 s of silence from here.
  if (mock.count === before) lastPush = performance.now();
  for (;;) {
    const now = performance.now();
    if (mock.count - before >= ids.length || now - lastPush > 2000 || now - t0 > 180_000) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  mock.onPush = undefined;
  const pushed = mock.count - before;
  // Let the outcomes be recorded before the next run.
  await new Promise((r) => setTimeout(r, 1000));
  return { api, pushes: (lastPush - t0) / 1000, pushed };
}

/** Queues one command to `ids`, {@link BATCH} ids a request, {@link PARALLEL} requests in flight. */
async function enqueueBatches(daemon: TestDaemon, ids: readonly string[]): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] as string[];
      const res = await daemon.api('POST', '/api/v1/commands', {
        enrollmentIds: batch,
        command: { RequestType: 'ProfileList' },
      });
      if (res.status !== 201)
        throw new Error(`enqueue answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** Queues one command to every enrolled device in one request (`target: {kind: 'enrolled'}`). */
async function enqueueBulk(daemon: TestDaemon): Promise<void> {
  const res = await daemon.api('POST', '/api/v1/commands', {
    target: { kind: 'enrolled' },
    command: { RequestType: 'ProfileList' },
  });
  if (res.status !== 201)
    throw new Error(`bulk enqueue answered ${res.status}: ${JSON.stringify(res.body)}`);
}

function printEnqueue(enq: { sqlite: EnqueueRun[]; pg: EnqueueRun[] }, bulk: boolean): void {
  const med = (runs: EnqueueRun[], key: keyof EnqueueRun): number =>
    median(runs.map((r) => r[key]));
  const apiS = med(enq.sqlite, 'api');
  const apiP = med(enq.pg, 'api');
  const n = TARGETS.toLocaleString('en-US');
  const how = bulk
    ? 'one request, `target: {kind: "enrolled"}`'
    : `${BATCH} ids a request, ${PARALLEL} in flight`;
  console.log(
    `\n## One command to ${n} enrollments through the API (${how}), with pushes to a mock APNs (median of ${ENQUEUE_RUNS})`,
  );
  console.log(
    '| database | API answered, s | last push at the mock, s | pushes received | ratio to SQLite (API) | goal |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(
    `| SQLite (baseline) | ${fmt(apiS, 2)} | ${fmt(med(enq.sqlite, 'pushes'), 2)} | ${fmt(med(enq.sqlite, 'pushed'))} | 1.00 | |`,
  );
  console.log(
    `| PostgreSQL | ${fmt(apiP, 2)} | ${fmt(med(enq.pg, 'pushes'), 2)} | ${fmt(med(enq.pg, 'pushed'))} | ${(apiP / apiS).toFixed(2)} | < ${GOAL_SECONDS} s ${apiP < GOAL_SECONDS ? 'met' : 'MISSED'} |`,
  );
  const list = (runs: EnqueueRun[]): string =>
    runs.map((r) => `${r.api.toFixed(2)}/${r.pushes.toFixed(2)}/${r.pushed}`).join(', ');
  console.log(
    `runs (API s / last push s / pushes): SQLite ${list(enq.sqlite)}; PostgreSQL ${list(enq.pg)}`,
  );
}

/** Runs the benchmark and prints its tables. */
export default async function run(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'orchard-pg-instances-'));
  const pki = await createApnsTestPki();
  const topic = newTopic();
  const push = await issuePushCertificate(pki, { topic });
  writeFileSync(join(dir, 'push.pem'), push.certPem);
  writeFileSync(join(dir, 'push.key'), push.keyPem);
  writeFileSync(join(dir, 'apns-ca.pem'), pki.ca.certPem);
  const mock = await createApnsMock({ server: pki.server, ca: pki.ca.certPem, record: false });
  const db = await createTestDatabase('bench_instances');
  if (LOG_MS !== undefined)
    await db.query(`ALTER DATABASE ${db.name} SET log_min_duration_statement = ${Number(LOG_MS)}`);
  const profDir = CPU_PROF === undefined ? undefined : resolve(CPU_PROF);
  if (profDir) mkdirSync(profDir, { recursive: true });
  const common = [
    ...['--push-cert', join(dir, 'push.pem'), '--push-key', join(dir, 'push.key')],
    ...['--apns-url', mock.url, '--apns-ca', join(dir, 'apns-ca.pem')],
    ...['--log-level', 'info', '--rate-limit', 'off'],
  ];
  const preloads = [queryCounter(dir), ...(profDir ? [profiler(dir, profDir)] : [])];
  const spawnOptions = {
    env: { NODE_OPTIONS: preloads.map((p) => `--require ${p}`).join(' ') },
  };
  const daemons: TestDaemon[] = [];
  let client: Client | undefined;
  try {
    const pgA = await spawnDaemon({ ...spawnOptions, args: [...common, '--database', db.url] });
    daemons.push(pgA);
    const secretsKey = join(pgA.dataDir, 'secrets.key');
    const pgB = await spawnDaemon({
      ...spawnOptions,
      args: [...common, '--database', db.url, '--secrets-key-file', secretsKey],
    });
    daemons.push(pgB);
    // The SQLite daemon gets the same CA, so one set of device identities serves all three.
    const sqliteDir = join(dir, 'sqlite-data');
    cpSync(join(pgA.dataDir, 'ca'), join(sqliteDir, 'ca'), { recursive: true });
    const sqlite = await spawnDaemon({ ...spawnOptions, dataDir: sqliteDir, args: common });
    daemons.push(sqlite);
    const t0 = performance.now();
    const devices = await enrollDevices(join(pgA.dataDir, 'ca'), topic, [sqlite, pgA]);
    console.log(
      `\n${DEVICES} devices enrolled on SQLite and PostgreSQL in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const device = devices[0] as LoadDevice;
    if (COUNT_CHECKINS > 0) {
      const perCheckin = await statementsPerCheckin(pgA, device, dir);
      console.log(
        `\nStatements per signed Idle check-in on PostgreSQL (one daemon, ${String(COUNT_CHECKINS)} in a row, counted at the driver): ${perCheckin.toFixed(2)}`,
      );
    }
    client = await startClient(devices);
    const targets: Target[] = [
      { name: 'SQLite, one daemon', daemons: [sqlite] },
      { name: 'PostgreSQL, one daemon', daemons: [pgA], pg: db },
      { name: 'PostgreSQL, two daemons', daemons: [pgA, pgB], pg: db },
    ];
    const load = client;
    for (const concurrency of CHECKINS ? CONCURRENCY : []) {
      await checkinRows(targets, `${concurrency} keep-alive connections`, (target) =>
        withCpu(target, async () => {
          const r = await load.run(
            target.daemons.map((d) => d.port),
            concurrency,
          );
          return {
            ok: r.ok,
            rate: r.ok / r.seconds,
            p99: r.p99Ms,
            failed: r.failed,
            clientCpu: r.cpuSeconds,
          };
        }),
      );
    }
    if (CHECKINS && AB && (await hasAb())) {
      for (const keepAlive of [true, false]) {
        const concurrency = CONCURRENCY[0] ?? 16;
        await checkinRows(
          targets,
          `ab -c ${concurrency}${keepAlive ? ' -k' : ' (no keep-alive)'}, one device per daemon`,
          (target) =>
            withCpu(target, async () => {
              const each = Math.max(1, Math.floor(concurrency / target.daemons.length));
              const results = await Promise.all(
                target.daemons.map((d, i) =>
                  ab(d.port, devices[i] as LoadDevice, dir, each, keepAlive),
                ),
              );
              const ok = results.reduce((n, r) => n + r.ok, 0);
              return {
                ok,
                rate: results.reduce((n, r) => n + r.rate, 0),
                p99: Math.max(...results.map((r) => r.p99)),
                failed: results.reduce((n, r) => n + r.failed, 0),
                clientCpu: Number.NaN,
              };
            }),
        );
      }
    }
    client.close();
    client = undefined;

    // The 100,000-target enqueue: daemon B stops; both databases get the fleet.
    await pgB.kill('SIGTERM');
    const p0 = performance.now();
    await populatePg(db, TARGETS, topic);
    const pgSeconds = (performance.now() - p0) / 1000;
    const s0 = performance.now();
    populateSqlite(join(sqliteDir, 'orchard.db'), TARGETS, topic);
    const sqliteSeconds = (performance.now() - s0) / 1000;
    console.log(
      `\n${TARGETS.toLocaleString('en-US')} enrollments inserted: PostgreSQL ${pgSeconds.toFixed(1)} s, SQLite ${sqliteSeconds.toFixed(1)} s`,
    );
    const ids = Array.from({ length: TARGETS }, (_, i) => `BULK-${String(i).padStart(6, '0')}`);
    for (const bulk of ENQUEUE_MODES) {
      const enq = { sqlite: [] as EnqueueRun[], pg: [] as EnqueueRun[] };
      for (let i = 0; i < ENQUEUE_RUNS; i++) {
        const order = i % 2 === 0 ? (['sqlite', 'pg'] as const) : (['pg', 'sqlite'] as const);
        for (const which of order) {
          const at = which === 'pg' ? { pg: db } : { sqlite: join(sqliteDir, 'orchard.db') };
          await emptyQueue(at);
          const daemon = which === 'pg' ? pgA : sqlite;
          enq[which].push(await enqueueThroughApi(daemon, ids, mock, bulk));
        }
      }
      printEnqueue(enq, bulk);
    }
  } finally {
    client?.close();
    // SIGTERM first: a daemon writes its CPU profile on a clean exit.
    for (const d of daemons) await d.kill('SIGTERM');
    for (const d of daemons) await d.cleanup();
    await mock.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
    console.log(`\npg-instances bench ran ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
}

/**
 * A preload that counts the statements a daemon sends through the `pg` driver (every
 * `Client#query`, BEGIN and COMMIT included) and writes the count to `dir/queries-PID` every 50 ms;
 * resolves the preload's path.
 */
function queryCounter(dir: string): string {
  const path = join(dir, 'query-counter.cjs');
  const pkg = JSON.stringify(resolve(here, '..', 'package.json'));
  writeFileSync(
    path,
    `const { createRequire } = require('node:module');
const { renameSync, writeFileSync } = require('node:fs');
const pg = createRequire(${pkg})('pg');
const counts = {};
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  const q = args[0];
  const text = String(typeof q === 'string' ? q : (q && q.text) || '?').replace(/\\s+/g, ' ').slice(0, 90);
  counts[text] = (counts[text] || 0) + 1;
  return query.apply(this, args);
};
const file = ${JSON.stringify(dir)} + '/queries-' + process.pid;
// Preloads run in worker threads too (tsx's loader thread): only the main thread writes.
if (require('node:worker_threads').isMainThread)
  setInterval(() => {
    // Written aside and renamed: a reader never sees half a file.
    writeFileSync(file + '.tmp', JSON.stringify(counts));
    renameSync(file + '.tmp', file);
  }, 50).unref();
`,
  );
  return path;
}

/**
 * Statements per signed Idle report on `daemon`: {@link COUNT_CHECKINS} reports one after
 * another, the daemon's statement count (see {@link queryCounter}) read before and after.
 * Background work in that time (the last-seen flush, once a second) is included.
 */
async function statementsPerCheckin(
  daemon: TestDaemon,
  device: LoadDevice,
  dir: string,
): Promise<number> {
  const file = join(dir, `queries-${String(pidOf(daemon.dataDir))}`);
  const count = async (): Promise<Record<string, number>> => {
    await new Promise((r) => setTimeout(r, 150));
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  };
  const body = Buffer.from(device.body, 'base64');
  const headers = {
    'content-type': 'application/x-apple-aspen-mdm',
    'mdm-signature': device.signature,
  };
  const send = async (): Promise<void> => {
    const res = await fetch(`${daemon.url}/mdm`, { method: 'PUT', body, headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`Idle report answered ${String(res.status)}`);
  };
  await send();
  const before = await count();
  for (let i = 0; i < COUNT_CHECKINS; i++) await send();
  const after = await count();
  const per = Object.entries(after)
    .map(([text, n]) => [text, (n - (before[text] ?? 0)) / COUNT_CHECKINS] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  for (const [text, n] of per) console.log(`  ${n.toFixed(2)}  ${text}`);
  return per.reduce((sum, [, n]) => sum + n, 0);
}

/**
 * A preload that CPU-profiles a daemon through `node:inspector` and writes the profile to
 * `outDir` when it exits (`--cpu-prof` is refused in NODE_OPTIONS); resolves the preload's path.
 */
function profiler(dir: string, outDir: string): string {
  const path = join(dir, 'cpu-profiler.cjs');
  writeFileSync(
    path,
    `const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 });
session.post('Profiler.start');
process.on('exit', () => {
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(${JSON.stringify(outDir)} + '/daemon-' + process.pid + '.cpuprofile', JSON.stringify(res.profile));
  });
});
`,
  );
  return path;
}

function hasAb(): Promise<boolean> {
  return new Promise((resolvePromise) => {
    execFile('ab', ['-V'], (error) => {
      resolvePromise(error === null);
    });
  });
}

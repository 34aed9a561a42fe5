/**
 * Signed idle check-ins (an Idle command report with `Mdm-Signature`) through the real daemon
 * (`orchard serve` on SQLite, a device identity from its own SCEP) against a floor measured in
 * the same run: a bare node:http server that verifies the signature with a cached certificate,
 * parses the plist with our codec and reads the enrollment by its primary key from the same
 * database file. The client is ApacheBench (`ab`), 16 connections with and without keep-alive,
 * and 50 connections for the p99; the two servers alternate, medians of the repetitions.
 *
 * Run alone: `node --import tsx bench/checkin-floor.bench.ts`. Environment: `BENCH_REPETITIONS`
 * (default 3), `BENCH_AB_SECONDS` (default 4), `ORCHARD_BENCH_PROFILE=<dir>` (the daemon runs
 * under `--cpu-prof` into that directory, the floor into its `floor/`), `ORCHARD_BENCH_LOG_LEVEL` (the daemon's log level,
 * default its own), `ORCHARD_BENCH_WORKERS` (passed as `--workers` when set), `ORCHARD_BENCH_NODE_ARGS` (node flags for
 * the floor and this checkout's daemons, e.g. `--trace-gc`), `ORCHARD_BENCH_WRAP` (a command the servers run under, e.g.
 * valgrind), `BENCH_POLLS` (command polls per device
 * and round, default 150), `BENCH_HOLD=1`
 * (print each server's pid and `ab` command, wait for SIGUSR2 before measuring), `BENCH_CASES`
 * (e.g. `c16,c16k`: only those cases), `ORCHARD_BENCH_BASELINE_ROOT` (a built checkout whose
 * daemon is measured beside, as "before"), `ORCHARD_BENCH_MULTI` (default 2: a second daemon at
 * `--workers N` is measured beside, with rows of its own; 0 leaves it out), `ORCHARD_PEERS`
 * (e.g. `nanomdm=/path/to/nanomdm`, see bench/peers.ts: NanoMDM with each of its `file`,
 * `filekv` and `inmem` storages joins the rotation for c16, c16k and c50k, enrolled with the
 * one-process daemon's device identity and sent the very same signed Idle; rows of Orchard
 * against each, the goals on `--workers N` against `file` and `inmem`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { randomBytes, X509Certificate } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js';
import { parseSignedData } from '../src/crypto/cms-parse.js';
import { verifyParsedCms } from '../src/crypto/cms-verify.js';
import { verifyProfile } from '../src/index.js';
import { decodePlist } from '../src/protocol/plist.js';
import { readEnrollmentProfile, scepEnroll } from '../src/sim/enroll.js';
import { generateRsaKey, mdmSignature } from '../src/sim/index.js';
import { DeviceEmulator } from '../test/support/device-emulator.js';
import { createApnsTestPki, issuePushCertificate, newTopic } from '../test/push/pki.js';
import { preparePolls } from './command-polls.js';
import { median, type BenchOptions, type BenchRow } from './lib.js';
import {
  enrollAtPeer,
  freePort,
  nanomdmVersion,
  peersFromEnv,
  startNanomdm,
  type NanomdmStorage,
  type PeerServer,
} from './peers.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPETITIONS = Math.max(1, Number(process.env.BENCH_REPETITIONS ?? '3'));
const AB_SECONDS = Math.max(1, Number(process.env.BENCH_AB_SECONDS ?? '4'));
/**
 * Seconds of unmeasured keep-alive load (then one second of new connections) each server gets
 * before the first case: a daemon's JIT compiles its device path over its first tens of
 * thousands of check-ins (about 350 TurboFan compilations in the first 10,000), so a first case
 * measured cold says more about warm-up than about the path. `BENCH_WARMUP_SECONDS`, 0 for none.
 */
const WARMUP_SECONDS = Math.max(0, Number(process.env.BENCH_WARMUP_SECONDS ?? '3'));

/** One `ab` run's figures. */
export interface AbResult {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  non2xx: number;
  complete: number;
  /** Server CPU microseconds per request (its process tree), when measured. */
  cpuUs?: number;
}

/** What one request looks like to `ab`: the body file and the headers. */
interface AbRequest {
  bodyFile: string;
  headers: Record<string, string>;
}

function field(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  return m?.[1] === undefined ? Number.NaN : Number(m[1]);
}

/** Runs `ab` against `url` for `seconds` with `concurrency` connections. */
export async function ab(
  url: string,
  request: AbRequest,
  concurrency: number,
  keepAlive: boolean,
  seconds = AB_SECONDS,
): Promise<AbResult> {
  const args = ['-q', '-r', '-t', String(seconds), '-n', '10000000', '-c', String(concurrency)];
  if (keepAlive) args.push('-k');
  args.push('-u', request.bodyFile, '-T', 'application/x-apple-aspen-mdm');
  for (const [name, value] of Object.entries(request.headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const { stdout } = await run('ab', args, { maxBuffer: 1 << 24 });
  return {
    rps: field(stdout, /Requests per second:\s+([\d.]+)/),
    p50: field(stdout, /^\s+50%\s+(\d+)/m),
    p99: field(stdout, /^\s+99%\s+(\d+)/m),
    failed: field(stdout, /Failed requests:\s+(\d+)/),
    non2xx: /Non-2xx responses:\s+(\d+)/.test(stdout)
      ? field(stdout, /Non-2xx responses:\s+(\d+)/)
      : 0,
    complete: field(stdout, /Complete requests:\s+(\d+)/),
  };
}

const TICKS_PER_SECOND = 100;

/** One /proc/<pid>/stat: parent and CPU ticks (user + system); `undefined` once gone. */
function statOf(pid: string): { ppid: string; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: rest[1] ?? '', ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by `pid` and its descendants (workers), from /proc: the server's own
 * cost, which the other load on a shared machine changes far less than its wall-clock rate.
 */
export function treeCpuSeconds(pid: number): number {
  const stats = new Map<string, { ppid: string; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(name);
    if (s !== undefined) stats.set(name, s);
  }
  let ticks = 0;
  const wanted = new Set([String(pid)]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of stats)
      if (!wanted.has(p) && wanted.has(s.ppid)) {
        wanted.add(p);
        grew = true;
      }
  }
  for (const p of wanted) ticks += stats.get(p)?.ticks ?? 0;
  return ticks / TICKS_PER_SECOND;
}

/** A child process that printed the URL it listens on. */
interface Child {
  url: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Stops `child` with `signal` (default SIGTERM) and resolves once it exited. */
function stopper(child: ChildProcess): (signal?: NodeJS.Signals) => Promise<void> {
  return (signal = 'SIGTERM') =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        done();
        return;
      }
      child.once('exit', () => {
        done();
      });
      child.kill(signal);
    });
}

/** `ORCHARD_BENCH_NODE_ARGS`: node flags for the floor and this checkout's daemons (not the "before"). */
function nodeArgs(): string[] {
  return process.env.ORCHARD_BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
}

/**
 * `ORCHARD_BENCH_WRAP` (e.g. `valgrind --tool=callgrind --instr-atstart=no`): a command the
 * servers run under, node and its arguments appended; by default node itself.
 */
function command(args: string[]): [string, string[]] {
  const wrap = process.env.ORCHARD_BENCH_WRAP?.split(' ').filter((a) => a !== '') ?? [];
  const [first, ...rest] = wrap;
  return first === undefined
    ? [process.execPath, args]
    : [first, [...rest, process.execPath, ...args]];
}

/** Spawns `args` and resolves once a stdout line matches `ready` (its group 1 is the URL). */
function spawnListening(args: string[], ready: RegExp, env: NodeJS.ProcessEnv): Promise<Child> {
  const child = spawn(...command(args), {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = stopper(child);
  return new Promise((resolve, reject) => {
    let buffer = '';
    let found = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (found) return; // drained, not kept: log lines of a long run
      buffer += chunk.toString();
      const m = ready.exec(buffer);
      if (m?.[1] !== undefined && m[1] !== '') {
        found = true;
        buffer = '';
        resolve({ url: m[1], child, stop });
      }
    });
    child.once('exit', (code) => {
      if (!found)
        reject(new Error(`${args.join(' ')} exited ${String(code)}:\n${stderr}${buffer}`));
    });
  });
}

/**
 * Spawns the daemon on `port` and resolves once `/healthz` answers (at any log level); its
 * output is drained, not kept.
 */
async function spawnUntilHealthy(
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv,
  logFile: string,
  root: string,
): Promise<Child> {
  // The log goes to a file, as under a service manager: a pipe read by this busy process would
  // make the daemon's synchronous log writes wait for the bench.
  const log = openSync(logFile, 'w');
  const child = spawn(...command(args), { cwd: root, env, stdio: ['ignore', log, 'pipe'] });
  closeSync(log);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const tries = process.env.ORCHARD_BENCH_WRAP === undefined ? 600 : 6000;
  for (let i = 0; i < tries; i++) {
    if (child.exitCode !== null) throw new Error(`daemon exited ${child.exitCode}:\n${stderr}`);
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.status > 0,
      () => false,
    );
    if (up) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  const stop = stopper(child);
  return { url, child, stop };
}

/** The running daemon with its data directory, admin key and push topic. */
interface BenchDaemon extends Child {
  dataDir: string;
  apiKey: string;
  close(): Promise<void>;
}

async function startDaemon(
  root = ROOT,
  workers = process.env.ORCHARD_BENCH_WORKERS,
): Promise<BenchDaemon> {
  const dataDir = mkdtempSync(join(tmpdir(), 'orchard-floor-'));
  const push = await issuePushCertificate(await createApnsTestPki(), { topic: newTopic() });
  writeFileSync(join(dataDir, 'push.pem'), push.certPem);
  writeFileSync(join(dataDir, 'push.key'), push.keyPem);
  const apiKey = `bench_${randomBytes(32).toString('base64url')}`;
  const port = await freePort();
  const profile = process.env.ORCHARD_BENCH_PROFILE;
  const level = process.env.ORCHARD_BENCH_LOG_LEVEL;
  const args = [
    ...(profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profile]),
    // As `npm start` runs it (the "before" checkout too: the flags are node's, not the code's).
    ...DAEMON_NODE_FLAGS,
    ...(root === ROOT ? nodeArgs() : []),
    'bin/orchard',
    'serve',
    ...['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--api-key', apiKey],
    ...['--push-cert', join(dataDir, 'push.pem'), '--push-key', join(dataDir, 'push.key')],
    ...['--apns-url', 'https://127.0.0.1:9', '--ca-key-type', 'rsa-2048'],
    ...(level === undefined ? [] : ['--log-level', level]),
    ...(workers === undefined ? [] : ['--workers', workers]),
  ];
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const started = await spawnUntilHealthy(args, port, env, join(dataDir, 'daemon.log'), root);
  return {
    ...started,
    dataDir,
    apiKey,
    async close() {
      await started.stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A device enrolled as real ones are: a link, its signed profile, SCEP, Authenticate, TokenUpdate. */
export async function enrollDevice(
  url: string,
  apiKey: string,
): Promise<{
  device: DeviceEmulator;
  identity: { certificate: X509Certificate; privateKey: import('node:crypto').KeyObject };
}> {
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const link = await fetch(`${url}/api/v1/enrollment-tokens`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ singleUse: true }),
  });
  const { url: linkUrl } = (await link.json()) as { url: string };
  const signed = new Uint8Array(await (await fetch(linkUrl)).arrayBuffer());
  const ca = new X509Certificate(
    Buffer.from(await (await fetch(`${url}/scep?operation=GetCACert`)).arrayBuffer()),
  );
  const read = readEnrollmentProfile(verifyProfile(signed, { roots: [ca] }).profile);
  if (read.scep === undefined || read.mdm === undefined) throw new Error('profile lacks payloads');
  const privateKey = await generateRsaKey();
  const { certificate } = await scepEnroll(fetch, read.scep, privateKey, new Date());
  const identity = { certificate, privateKey };
  const device = new DeviceEmulator({ baseUrl: url, topic: read.mdm.Topic, identity });
  await device.enroll();
  return { device, identity };
}

/**
 * The floor's work on one request: `Mdm-Signature` verified with the signer's certificate taken
 * from a cache (our CMS code), the plist decoded by our codec, and one read of the enrollment row
 * by primary key; the status to answer (200 when the device is enrolled).
 */
function floorWork(dbPath: string): (body: Buffer, signature: string) => number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const read = db.prepare('SELECT enrolled FROM enrollments WHERE id = ?');
  return (body, signature) => {
    const parsed = parseSignedData(Buffer.from(signature, 'base64'));
    verifyParsedCms(parsed, { content: body });
    const message = decodePlist(body) as Record<string, unknown>;
    const row = read.get(message.UDID) as { enrolled: number } | undefined;
    return row?.enrolled === 1 ? 200 : 500;
  };
}

/** How a floor process serves: node:http, or a bare TCP server with a minimal parser. */
type FloorKind = 'http' | 'raw';

/**
 * The floor: node:http, the body read, then {@link floorWork}; answers with an empty body. With
 * `kind` 'raw', the same work behind {@link rawFloorConnection} instead of node:http.
 */
function serveFloor(dbPath: string, workers: number, kind: FloorKind): void {
  if (workers > 1 && cluster.isPrimary) {
    serveFloorCluster(workers);
    return;
  }
  const work = floorWork(dbPath);
  const server =
    kind === 'raw'
      ? createNetServer((socket) => {
          rawFloorConnection(socket, work);
        })
      : createServer((req: IncomingMessage, res: ServerResponse) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const status = work(Buffer.concat(chunks), String(req.headers['mdm-signature']));
            res.writeHead(status, { 'content-length': '0' });
            res.end();
          });
        });
  server.listen(Number(process.env.FLOOR_PORT ?? '0'), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`floor listening http://127.0.0.1:${port}`);
  });
  // A normal exit on SIGTERM, so `--cpu-prof` writes its profile.
  process.once('SIGTERM', () => process.exit(0));
}

/** The raw floor's answers, whole: 200 or 500, each kept alive or closing. */
const RAW_ANSWERS = [200, 500].flatMap((status) =>
  ['keep-alive', 'close'].map((connection) =>
    Buffer.from(
      `HTTP/1.1 ${String(status)} ${status === 200 ? 'OK' : 'Error'}\r\ncontent-length: 0\r\n` +
        `connection: ${connection}\r\n\r\n`,
    ),
  ),
);

/**
 * One connection of the raw floor: what a device's check-in costs without node:http. It reads
 * request heads by hand (Content-Length, Mdm-Signature, Connection; nothing else checked), runs
 * the same work and writes a prepared answer: a lower bound for any Node.js HTTP server, not
 * one (no chunked bodies, limits, timeouts or validation). `ab` speaks HTTP/1.0, so the
 * connection is kept only when the request asks for keep-alive.
 */
function rawFloorConnection(
  socket: Socket,
  work: (body: Buffer, signature: string) => number,
): void {
  let pending: Buffer | undefined;
  socket.on('error', () => {});
  socket.on('data', (data: Buffer) => {
    let buf = pending === undefined ? data : Buffer.concat([pending, data]);
    pending = undefined;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      let length = 0;
      let signature = '';
      let keepAlive = false;
      for (const line of buf.toString('latin1', 0, end).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'content-length') length = Number(value);
        else if (name === 'mdm-signature') signature = value;
        else if (name === 'connection') keepAlive = value.toLowerCase() === 'keep-alive';
      }
      if (buf.length < end + 4 + length) break;
      const status = work(buf.subarray(end + 4, end + 4 + length), signature);
      const answer = RAW_ANSWERS[(status === 200 ? 0 : 2) + (keepAlive ? 0 : 1)] as Buffer;
      if (!keepAlive) {
        socket.end(answer);
        return;
      }
      socket.write(answer);
      buf = buf.subarray(end + 4 + length);
      if (buf.length === 0) return;
    }
    pending = buf;
  });
}

/**
 * The floor at `workers` processes sharing one port as `orchard serve --workers` does (node:cluster,
 * each worker accepting on the shared socket): what both cores give this check-in in Node.js.
 */
function serveFloorCluster(workers: number): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  void freePort().then((port) => {
    let listening = 0;
    for (let i = 0; i < workers; i++) {
      const worker = cluster.fork({ FLOOR_PORT: String(port) });
      worker.once('listening', () => {
        if (++listening === workers) console.log(`floor listening http://127.0.0.1:${port}`);
      });
    }
  });
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
}

function startFloor(dbPath: string, workers = 1, kind: FloorKind = 'http'): Promise<Child> {
  const self = fileURLToPath(import.meta.url);
  const profile = process.env.ORCHARD_BENCH_PROFILE;
  const prof =
    profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profile, 'floor')];
  return spawnListening(
    // The floor runs with the daemon's node flags too, so the ratio compares code, not flags.
    [
      ...prof,
      ...DAEMON_NODE_FLAGS,
      ...nodeArgs(),
      ...['--import', 'tsx', self, '--floor', dbPath, String(workers), kind],
    ],
    /floor listening (\S+)/,
    process.env,
  );
}

/** The load cases: connections and keep-alive. */
const CASES = [
  { id: 'c16', concurrency: 16, keepAlive: false, what: '16 connections, a new one per request' },
  { id: 'c16k', concurrency: 16, keepAlive: true, what: '16 connections, keep-alive' },
  { id: 'c50k', concurrency: 50, keepAlive: true, what: '50 connections, keep-alive' },
  { id: 'c50', concurrency: 50, keepAlive: false, what: '50 connections, a new one per request' },
] as const;

function checkClean(label: string, r: AbResult): void {
  if (r.non2xx > 0 || r.failed > 0)
    throw new Error(`${label}: ${r.non2xx} non-2xx and ${r.failed} failed of ${r.complete}`);
}

/**
 * `BENCH_HOLD=1`: prints each server's pid and an `ab` command for it, then waits for SIGUSR2
 * before measuring, so a profiler or strace can be attached by hand.
 */
async function hold(subjects: readonly Subject[]): Promise<void> {
  for (const s of subjects) {
    const h = Object.entries(s.request.headers).map(([k, v]) => `-H '${k}: ${v}'`);
    const cmd = `ab -k -c 16 -t 4 -n 10000000 -u ${s.request.bodyFile} ${h.join(' ')}`;
    console.log(`hold ${s.name} pid ${s.server.child.pid ?? '?'}: ${cmd} ${s.server.url}/mdm`);
  }
  console.log(`hold: kill -USR2 ${process.pid} to go on`);
  await new Promise((resolve) => process.once('SIGUSR2', resolve));
}

/** A server under load: its URL, process and the signed request its device sends. */
interface Subject {
  name: string;
  server: Child;
  request: AbRequest;
}

/** A device enrolled at a daemon: its signed Idle for `ab`, the body, and the issuing CA. */
interface EnrolledIdle {
  request: AbRequest;
  body: Buffer;
  device: DeviceEmulator;
  /** The daemon's SCEP CA (PEM), which issued the device identity. */
  caPem: string;
}

/** Enrolls a device at `daemon` and writes its signed Idle where `ab` reads it. */
async function enrolledIdle(daemon: BenchDaemon): Promise<EnrolledIdle> {
  const { device, identity } = await enrollDevice(daemon.url, daemon.apiKey);
  const body = device.build({ Status: 'Idle' });
  const bodyFile = join(daemon.dataDir, 'idle.plist');
  writeFileSync(bodyFile, body);
  const ca = new X509Certificate(
    Buffer.from(await (await fetch(`${daemon.url}/scep?operation=GetCACert`)).arrayBuffer()),
  );
  if (!identity.certificate.checkIssued(ca)) throw new Error('the device identity has another CA');
  return {
    request: { bodyFile, headers: { 'Mdm-Signature': mdmSignature(body, identity) } },
    body,
    device,
    caPem: ca.toString(),
  };
}

/** An enrolled device's signed Idle, written where `ab` reads it. */
async function idleRequest(daemon: BenchDaemon): Promise<AbRequest> {
  return (await enrolledIdle(daemon)).request;
}

/** One `ab` run against `s`, with the server's CPU time per request. */
async function load(s: Subject, c: (typeof CASES)[number], seconds: number): Promise<AbResult> {
  const pid = s.server.child.pid ?? 0;
  const cpu0 = treeCpuSeconds(pid);
  const r = await ab(`${s.server.url}/mdm`, s.request, c.concurrency, c.keepAlive, seconds);
  r.cpuUs = ((treeCpuSeconds(pid) - cpu0) * 1e6) / r.complete;
  checkClean(`${s.name} ${c.id}`, r);
  return r;
}

const cpuOf = (rs: AbResult[]): number => median(rs.map((r) => r.cpuUs ?? Number.NaN));

/**
 * The row of the daemon at `--workers N` (`m`) against the one-process floor: both cores against
 * one, so its ratio is the gain of the workers; its CPU per request is the whole process tree's.
 */
function multiRowOf(
  c: (typeof CASES)[number],
  f: AbResult[],
  d: AbResult[],
  m: AbResult[],
  workers: number,
): BenchRow {
  const value = median(m.map((r) => r.rps));
  const baselineValue = median(f.map((r) => r.rps));
  const p99 = median(m.map((r) => r.p99));
  const single = median(d.map((r) => r.rps));
  return {
    id: `checkin.idle.w${workers}.${c.id}`,
    what: `signed idle check-ins, daemon --workers ${workers} on SQLite, ab ${c.what}`,
    baseline: 'floor (one process): node:http + signature (cached cert) + plist + one SQLite read',
    baselineValue,
    value,
    unit: 'req/s',
    ratio: value / baselineValue,
    higherIsBetter: true,
    goal: c.concurrency === 50 ? 'p99 < 50 ms' : 'above the one-process daemon',
    met: c.concurrency === 50 ? p99 < 50 : value > single,
    runs: m.length,
    detail: {
      p50: median(m.map((r) => r.p50)),
      p99,
      floorP99: median(f.map((r) => r.p99)),
      cpuUsPerRequest: cpuOf(m),
      floorCpuUsPerRequest: cpuOf(f),
      cpuRatio: cpuOf(f) / cpuOf(m),
      singleDaemon: single,
      singleDaemonCpuUsPerRequest: cpuOf(d),
      gainOverSingle: value / single,
      multi: m.map((r) => Math.round(r.rps)),
      floor: f.map((r) => Math.round(r.rps)),
    },
  };
}

function rowOf(c: (typeof CASES)[number], f: AbResult[], d: AbResult[], b: AbResult[]): BenchRow {
  const value = median(d.map((r) => r.rps));
  const baselineValue = median(f.map((r) => r.rps));
  const p99 = median(d.map((r) => r.p99));
  const ratio = value / baselineValue;
  const cpu = cpuOf;
  return {
    id: `checkin.idle.${c.id}`,
    what: `signed idle check-ins, daemon on SQLite, ab ${c.what}`,
    baseline: 'floor: node:http + signature (cached cert) + plist + one SQLite read',
    baselineValue,
    value,
    unit: 'req/s',
    ratio,
    higherIsBetter: true,
    goal: c.concurrency === 50 ? 'p99 < 50 ms' : 'ratio >= 0.8',
    met: c.concurrency === 50 ? p99 < 50 : ratio >= 0.8,
    runs: f.length,
    detail: {
      p50: median(d.map((r) => r.p50)),
      p99,
      floorP99: median(f.map((r) => r.p99)),
      cpuUsPerRequest: cpu(d),
      floorCpuUsPerRequest: cpu(f),
      cpuRatio: cpu(f) / cpu(d),
      daemon: d.map((r) => Math.round(r.rps)),
      floor: f.map((r) => Math.round(r.rps)),
      ...(b.length === 0
        ? {}
        : {
            before: median(b.map((r) => r.rps)),
            beforeP99: median(b.map((r) => r.p99)),
            beforeCpuUsPerRequest: cpu(b),
          }),
    },
  };
}

/** The cases NanoMDM joins (when `ORCHARD_PEERS` names it). */
const PEER_CASES: readonly string[] = ['c16', 'c16k', 'c50k'];

/** The NanoMDM storages measured, in this order. */
const PEER_STORAGES: readonly NanomdmStorage[] = ['file', 'filekv', 'inmem'];

/** An error's message on one line, cut to 400 characters (it lands in a table cell). */
const oneLine = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' / ').slice(0, 400);

/** A peer server of the run: running (and enrolled), or failed with the reason. */
interface PeerState {
  storage: NanomdmStorage;
  name: string;
  server?: PeerServer;
  error?: string;
}

/**
 * Starts NanoMDM with each storage backend, trusting the daemon's CA, and enrolls the daemon's
 * device there; a peer that fails to start, enroll or answer the Idle is kept with its error
 * (its rows then fail), the others run.
 */
async function startPeers(enrolled: EnrolledIdle, workDir: string): Promise<PeerState[]> {
  const out: PeerState[] = [];
  for (const spec of peersFromEnv()) {
    const version = await nanomdmVersion(spec.binary).catch((e: unknown) => {
      throw new Error(`ORCHARD_PEERS: ${spec.binary} -version failed: ${String(e)}`);
    });
    for (const storage of PEER_STORAGES) {
      const state: PeerState = { storage, name: `NanoMDM ${version} ${storage}` };
      out.push(state);
      try {
        state.server = await startNanomdm(spec, storage, enrolled.caPem, workDir, version);
        await enrollAtPeer(state.server, enrolled.device, {
          body: enrolled.body,
          headers: enrolled.request.headers,
        });
      } catch (e) {
        state.error = oneLine(e);
        console.error(`PEER FAILED: ${state.name}: ${state.error}`);
      }
    }
  }
  return out;
}

/**
 * A row of Orchard (`orchard`, the daemon's figures) against a NanoMDM storage (`peer`): rates
 * and server CPU per request of both; a peer that failed gives no rate and a failed row.
 */
function peerRowOf(
  c: (typeof CASES)[number],
  orchard: AbResult[],
  orchardLabel: string,
  idPrefix: string,
  peer: PeerState,
  figures: AbResult[],
  goal: number | undefined,
): BenchRow {
  const value = median(orchard.map((r) => r.rps));
  const failed = peer.error !== undefined || figures.length === 0;
  const baselineValue = failed ? Number.NaN : median(figures.map((r) => r.rps));
  const ratio = value / baselineValue;
  return {
    id: `checkin.idle.${idPrefix}nanomdm-${peer.storage}.${c.id}`,
    what: `signed idle check-ins, ${orchardLabel} against NanoMDM, ab ${c.what}`,
    baseline: failed
      ? `${peer.name} FAILED: ${peer.error ?? 'not measured'}`
      : `${peer.name} storage (Go), same device identity and signed Idle`,
    baselineValue,
    value,
    unit: 'req/s',
    ratio,
    higherIsBetter: true,
    ...(goal === undefined
      ? failed
        ? { goal: 'the peer answers 200', met: false }
        : {}
      : { goal: `ratio >= ${goal}`, met: !failed && ratio >= goal }),
    runs: orchard.length,
    detail: {
      p50: median(orchard.map((r) => r.p50)),
      p99: median(orchard.map((r) => r.p99)),
      peerP50: median(figures.map((r) => r.p50)),
      peerP99: median(figures.map((r) => r.p99)),
      cpuUsPerRequest: cpuOf(orchard),
      peerCpuUsPerRequest: cpuOf(figures),
      cpuRatio: cpuOf(figures) / cpuOf(orchard),
      orchard: orchard.map((r) => Math.round(r.rps)),
      peer: figures.map((r) => Math.round(r.rps)),
      peerRuns: figures.length,
      ...(peer.error === undefined ? {} : { error: peer.error }),
    },
  };
}

/** Devices of the command-poll row, each with one request in flight. */
const POLL_DEVICES = 16;

/**
 * Command polls through the one-process daemon (see `command-polls.ts`): 16 devices enrolled
 * through its SCEP work through queued commands, rounds alternating with nothing (the daemon is
 * alone), medians; against the floor's idle rate at 16 keep-alive connections of the same run.
 */
async function pollRow(
  daemon: BenchDaemon,
  scale: number,
  floorRow: BenchRow | undefined,
): Promise<BenchRow> {
  const perRound =
    Number(process.env.BENCH_POLLS ?? '0') ||
    Math.max(10, Math.round(150 * Math.min(1, scale * 4)));
  const devices = [];
  for (let i = 0; i < POLL_DEVICES; i++)
    devices.push(await enrollDevice(daemon.url, daemon.apiKey));
  const load = await preparePolls({
    ...{ url: daemon.url, apiKey: daemon.apiKey, devices },
    commands: perRound * REPETITIONS,
  });
  const pid = daemon.child.pid ?? 0;
  const rounds = [];
  try {
    for (let i = 0; i < REPETITIONS; i++)
      rounds.push(await load.round(perRound, () => treeCpuSeconds(pid)));
  } finally {
    load.close();
  }
  const value = median(rounds.map((r) => r.rps));
  const baselineValue = floorRow?.baselineValue ?? Number.NaN;
  return {
    id: 'checkin.poll.c16k',
    what: `command polls (each Acknowledged answered with the next command), daemon on SQLite, ${POLL_DEVICES} devices keep-alive`,
    baseline: 'floor: signed idle check-ins (c16k, same run)',
    baselineValue,
    value,
    unit: 'req/s',
    ratio: value / baselineValue,
    higherIsBetter: true,
    runs: rounds.length,
    detail: {
      cpuUsPerRequest: median(rounds.map((r) => r.cpuUs)),
      floorCpuUsPerRequest: floorRow?.detail?.floorCpuUsPerRequest,
      polls: rounds.map((r) => r.polls),
      rps: rounds.map((r) => Math.round(r.rps)),
    },
  };
}

/**
 * Loads every server unmeasured before the first case (see {@link WARMUP_SECONDS}), each in turn,
 * as the cases will: keep-alive, then new connections. A peer that fails here is marked failed
 * (its rows then fail) and measured no more; any other server's failure ends the module.
 */
async function warmUp(
  subjects: readonly Subject[],
  peers: readonly PeerState[],
  request: AbRequest,
  floors: readonly { name: string; server: Child }[],
  scale: number,
): Promise<void> {
  const seconds = scale < 1 ? Math.min(1, WARMUP_SECONDS) : WARMUP_SECONDS;
  if (seconds === 0) return;
  const all: { subject: Subject; peer?: PeerState }[] = subjects.map((subject) => ({ subject }));
  for (const peer of peers)
    if (peer.error === undefined && peer.server !== undefined)
      all.push({ subject: { name: peer.name, server: peer.server, request }, peer });
  for (const f of floors) all.push({ subject: { ...f, request } });
  for (const { subject, peer } of all) {
    const url = `${subject.server.url}/mdm`;
    try {
      checkClean(`${subject.name} warm-up`, await ab(url, subject.request, 16, true, seconds));
      checkClean(`${subject.name} warm-up`, await ab(url, subject.request, 16, false, 1));
    } catch (e) {
      if (peer === undefined) throw e;
      peer.error = `warm-up: ${oneLine(e)}`;
      console.error(`PEER FAILED: ${peer.error}`);
    }
  }
}

/**
 * Measures every case against the floor (and, with `ORCHARD_BENCH_BASELINE_ROOT` naming a built
 * checkout, its daemon as "before"), rotating the order each repetition; returns the rows.
 */
export async function rows(options: BenchOptions = { scale: 1 }): Promise<BenchRow[]> {
  await run('ab', ['-V']).catch(() => {
    throw new Error('checkin-floor needs ApacheBench: apt-get install -y apache2-utils');
  });
  peersFromEnv(); // a malformed ORCHARD_PEERS fails now, before anything starts
  const baselineRoot = process.env.ORCHARD_BENCH_BASELINE_ROOT;
  const workers = Math.max(0, Math.floor(Number(process.env.ORCHARD_BENCH_MULTI ?? '2')) || 0);
  const daemons = [await startDaemon()];
  let floor: Child | undefined;
  /** The floors at the workers' process count, each with the rows it gets against NanoMDM. */
  const floors: { name: string; server: Child; label: string; prefix: string }[] = [];
  let peers: PeerState[] = [];
  try {
    const multi = workers > 1 ? await startDaemon(ROOT, String(workers)) : undefined;
    if (multi !== undefined) daemons.push(multi);
    const before = baselineRoot === undefined ? undefined : await startDaemon(baselineRoot);
    if (before !== undefined) daemons.push(before);
    const [daemon] = daemons as [BenchDaemon];
    const enrolled = await enrolledIdle(daemon);
    const { request } = enrolled;
    floor = await startFloor(join(daemon.dataDir, 'orchard.db'));
    const subjects: Subject[] = [
      { name: 'floor', server: floor, request },
      { name: 'daemon', server: daemon, request },
    ];
    if (before !== undefined)
      subjects.push({ name: 'before', server: before, request: await idleRequest(before) });
    const multiAt = subjects.length;
    if (multi !== undefined)
      subjects.push({
        name: `workers ${workers}`,
        server: multi,
        request: await idleRequest(multi),
      });
    const seconds = Math.max(1, Math.round(AB_SECONDS * Math.min(1, options.scale * 4)));
    if (process.env.BENCH_HOLD === '1') await hold(subjects);
    peers = await startPeers(enrolled, daemon.dataDir);
    // With NanoMDM beside, the floor at the workers' process count too: the most any Node.js
    // design of this check-in reaches on these cores, the measure of the goals against NanoMDM.
    // And the same floor without node:http: what is left for any Node.js HTTP server to win.
    if (multi !== undefined && peers.some((p) => p.error === undefined)) {
      floors.push({
        name: `floor ${workers} processes`,
        server: await startFloor(join(daemon.dataDir, 'orchard.db'), workers),
        label: `the floor at ${workers} processes`,
        prefix: `floor-w${workers}.`,
      });
      floors.push({
        name: `raw floor ${workers} processes`,
        server: await startFloor(join(daemon.dataDir, 'orchard.db'), workers, 'raw'),
        label: `the floor without node:http (net and a minimal parser) at ${workers} processes`,
        prefix: `rawfloor-w${workers}.`,
      });
    }
    await warmUp(subjects, peers, request, floors, options.scale);
    const out: BenchRow[] = [];
    const only = process.env.BENCH_CASES?.split(',');
    for (const c of CASES.filter((k) => only === undefined || only.includes(k.id))) {
      // NanoMDM joins the rotation for its cases, with the one-process daemon's device and Idle.
      const live = PEER_CASES.includes(c.id) ? peers.filter((p) => p.error === undefined) : [];
      const all: Subject[] = [...subjects];
      for (const p of live) if (p.server) all.push({ name: p.name, server: p.server, request });
      const floorMultiAt = all.length;
      if (live.length > 0) for (const f of floors) all.push({ ...f, request });
      const figures = all.map((): AbResult[] => []);
      for (let i = 0; i < REPETITIONS; i++) {
        for (let k = 0; k < all.length; k++) {
          const which = (i + k) % all.length;
          const peer = live[which - subjects.length];
          if (peer === undefined) {
            figures[which]?.push(await load(all[which] as Subject, c, seconds));
            continue;
          }
          if (peer.error !== undefined) continue;
          try {
            figures[which]?.push(await load(all[which] as Subject, c, seconds));
          } catch (e) {
            // A peer that errors gives no rate: its rows fail, loudly, and it is measured no more.
            peer.error = `${c.id}: ${oneLine(e)}`;
            console.error(`PEER FAILED: ${peer.error}`);
          }
        }
      }
      const [f = [], d = []] = figures;
      const b = before === undefined ? [] : (figures[2] ?? []);
      out.push(rowOf(c, f, d, b));
      const m = multi === undefined ? undefined : (figures[multiAt] ?? []);
      if (m !== undefined) out.push(multiRowOf(c, f, d, m, workers));
      if (!PEER_CASES.includes(c.id)) continue;
      for (const p of peers) {
        const at = live.indexOf(p);
        const pf = at < 0 ? [] : (figures[subjects.length + at] ?? []);
        // The goals (issue 20) are on both cores: 2.5 times the file storage, the in-memory rate.
        if (p.storage !== 'inmem' || m === undefined)
          out.push(peerRowOf(c, d, 'daemon (one process)', '', p, pf, undefined));
        if (m === undefined) continue;
        const goal = { file: 2.5, filekv: undefined, inmem: 1 }[p.storage];
        out.push(peerRowOf(c, m, `daemon --workers ${workers}`, `w${workers}.`, p, pf, goal));
        if (p.storage !== 'file') continue;
        for (const [k, f] of floors.entries()) {
          const fm = figures[floorMultiAt + k] ?? [];
          if (floorMultiAt + k < all.length && fm.length > 0)
            out.push(peerRowOf(c, fm, f.label, f.prefix, p, pf, undefined));
        }
      }
    }
    const floorC16k = out.find((r) => r.id === 'checkin.idle.c16k');
    if (only === undefined || only.includes('polls'))
      out.push(await pollRow(daemon, options.scale, floorC16k));
    return out;
  } finally {
    for (const p of peers) await p.server?.close();
    await floor?.stop();
    for (const f of floors) await f.server.stop();
    for (const d of daemons) await d.close();
  }
}

/** Prints the rows as a table. */
export default async function main(): Promise<void> {
  const all = await rows({ scale: 1 });
  const measured = all.filter((r) => !r.id.includes('nanomdm'));
  console.log('\n## Signed idle check-ins and command polls: daemon on SQLite vs the floor');
  console.log(
    '| case | floor req/s | daemon req/s | ratio | daemon p50 / p99 ms | CPU µs/req floor / daemon | before req/s, p99, CPU µs | goal |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of measured) {
    const d = r.detail as {
      p50?: number;
      p99?: number;
      cpuUsPerRequest: number;
      floorCpuUsPerRequest: number;
      before?: number;
      beforeP99?: number;
      beforeCpuUsPerRequest?: number;
    };
    const before =
      d.before === undefined
        ? ''
        : `${Math.round(d.before)}, ${d.beforeP99 ?? ''}, ${Math.round(d.beforeCpuUsPerRequest ?? 0)}`;
    const cpu = `${Math.round(d.floorCpuUsPerRequest)} / ${Math.round(d.cpuUsPerRequest)}`;
    const verdict = r.goal === undefined ? '' : `${r.goal} ${r.met === true ? 'met' : 'MISSED'}`;
    const latency = d.p50 === undefined ? '' : `${d.p50} / ${d.p99}`;
    console.log(
      `| ${r.what} | ${Math.round(r.baselineValue)} | ${Math.round(r.value)} | ${r.ratio.toFixed(2)} | ${latency} | ${cpu} | ${before} | ${verdict} |`,
    );
  }
  const peers = all.filter((r) => r.id.includes('nanomdm'));
  if (peers.length > 0) {
    console.log('\n## Signed idle check-ins: Orchard against NanoMDM (ab, same device and Idle)');
    console.log(
      '| row | NanoMDM req/s | Orchard req/s | ratio | CPU µs/req NanoMDM / Orchard | goal |',
    );
    console.log('|---|---:|---:|---:|---:|---|');
    for (const r of peers) {
      const d = r.detail as { cpuUsPerRequest: number; peerCpuUsPerRequest: number };
      const cpu = `${Math.round(d.peerCpuUsPerRequest)} / ${Math.round(d.cpuUsPerRequest)}`;
      const verdict = r.goal === undefined ? '' : `${r.goal} ${r.met === true ? 'met' : 'MISSED'}`;
      console.log(
        `| ${r.id} (${r.baseline}) | ${Math.round(r.baselineValue)} | ${Math.round(r.value)} | ${r.ratio.toFixed(2)} | ${cpu} | ${verdict} |`,
      );
    }
  }
  console.log(JSON.stringify(all));
}

const invoked = process.argv[1] === undefined ? '' : resolve(process.argv[1]);
if (invoked === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--floor')
    serveFloor(
      process.argv[3] ?? '',
      Number(process.argv[4] ?? 1),
      process.argv[5] === 'raw' ? 'raw' : 'http',
    );
  else await main();
}

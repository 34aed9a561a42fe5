/**
 * SCEP enrollments per second and server CPU per enrollment: Orchard's handler (in a child
 * process on node:http, SQLite store, RSA-2048 CA) side by side with micromdm's `scepserver`
 * (Debian, RSA-2048 CA), driven by the same client (Orchard's SCEP client, 8 concurrent lanes,
 * pre-generated client keys) in the same run. Everything runs inside a private network namespace
 * (`unshare -n`), because scepserver listens on every interface. Server CPU is read from
 * /proc/<pid>/stat (utime + stime) before and after each phase. Orchard is measured again after
 * PREFILL issued certificates were recorded, to show the cost stays flat. The floor is a bare
 * node:http server (same client, same request bodies) that only does the three RSA-2048
 * private-key operations an enrollment needs; an in-process breakdown splits the handler's CPU
 * into the phases of a PKCSReq.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsr, parseCsr } from '../src/crypto/csr.js';
import { createCa } from '../src/identity/ca/authority.js';
import { openCaDirectory } from '../src/identity/ca/files.js';
import { openSqliteCaStorage } from '../src/storage/sqlite/index.js';
import { staticChallenge } from '../src/identity/scep/challenge.js';
import {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
  type ScepRequest,
} from '../src/identity/scep/client.js';
import { certInfo } from '../src/crypto/cert-info.js';
import { decryptCms } from '../src/crypto/cms-envelope.js';
import { encryptCms } from '../src/crypto/cms-envelope.js';
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js';
import { createScepHandler } from '../src/http/scep.js';
import { certsOnly, readPkiMessage, writePkiMessage } from '../src/identity/scep/message.js';
import { startScepServer } from '../test/support/scep-server.js';
import {
  benchRow,
  benchSeconds,
  report,
  type BenchOptions,
  type BenchRow,
  type Rate,
} from './lib.js';

const ROLE = process.env.ORCHARD_SCEP_BENCH_ROLE;
const SECRET = 'bench-secret';
const LANES = 8;
const GOAL_MS = 2.5;
/**
 * Requests each server answers before anything is measured. V8 keeps compiling the handler's
 * functions for the first several hundred enrollments (on its worker threads, which the CPU
 * figure includes); that one-time cost is reported on its own line, not mixed into steady state.
 */
const SCALE = Number(process.env.ORCHARD_SCALE ?? '1');
const WARMUP = Number(
  process.env.SCEP_BENCH_WARMUP ?? String(Math.max(100, Math.round(1200 * SCALE))),
);
const PREFILL = Number(
  process.env.SCEP_BENCH_PREFILL ?? String(Math.max(1000, Math.round(20000 * SCALE))),
);
/** The per-phase and CA-layout tables (slow: RSA-4096 keys) only when asked for. */
const DETAIL = process.env.SCEP_BENCH_DETAIL === '1';
const self = fileURLToPath(import.meta.url);
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || '100');

/** utime + stime of a process, in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * The floors: node:http with nothing but the body read, two RSA-2048 signatures and one raw RSA
 * decryption (what an enrollment cannot avoid), answering a CertRep-sized body. With `full`, the
 * request also makes every other node:crypto call an enrollment needs and the SQLite insert, with
 * fixed inputs and no parsing or DER writing: a new device key imported from its JWK, two
 * signature checks with it (request and CSR), the two HMACs of implicit rejection (RSA PKCS#1 v1.5
 * decryption without a padding oracle), the AES-CBC decryption, the messageDigest and key
 * identifier hashes, the reply's content key and IV, its AES-CBC encryption, the content key's
 * encryption to the device, and the reply's messageDigest. What Orchard spends above this floor is
 * its own JavaScript: parsing, checks, DER writing and objects.
 */
async function serveFloor(full: boolean): Promise<void> {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const reply = Buffer.alloc(2900, 0x30);
  const extra = full ? fullFloorWork() : undefined;
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-length': '2' }).end('ok');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const block = Buffer.alloc(256, 1);
      body.copy(block, 1, 0, 255);
      privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, block);
      sign('sha256', body, key);
      sign('sha256', block, key);
      extra?.(body);
      res.writeHead(200, {
        'content-type': 'application/x-pki-message',
        'content-length': String(reply.length),
      });
      res.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`PORT ${String((server.address() as AddressInfo).port)}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

/** The rest of an enrollment's node:crypto calls and its SQLite insert (see {@link serveFloor}). */
function fullFloorWork(): (body: Buffer) => void {
  const device = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = device.publicKey.export({ format: 'jwk' });
  const attrs = Buffer.alloc(220, 0x31);
  const csrInfo = Buffer.alloc(600, 0x30);
  const attrsSig = sign('sha256', attrs, device.privateKey);
  const csrSig = sign('sha256', csrInfo, device.privateKey);
  const cek = Buffer.alloc(32, 7);
  const iv = Buffer.alloc(16, 9);
  const csrCipher = createCipheriv('aes-256-cbc', cek, iv);
  const csrCiphertext = Buffer.concat([
    csrCipher.update(Buffer.alloc(900, 0x30)),
    csrCipher.final(),
  ]);
  const kdk = Buffer.alloc(32, 5);
  const certificate = Buffer.alloc(1200, 0x30);
  const db = new Database(join(process.env.SCEP_BENCH_DIR ?? tmpdir(), 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS certs (id INTEGER PRIMARY KEY, serial TEXT NOT NULL,
    serial_len INTEGER NOT NULL, subject TEXT NOT NULL, not_after INTEGER NOT NULL, der BLOB NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS certs_serial ON certs (serial_len, serial);`);
  const insert = db.prepare(
    'INSERT INTO certs (serial, serial_len, subject, not_after, der) VALUES (?, ?, ?, ?, ?)',
  );
  return (body) => {
    const devicePublic = createPublicKey({ key: jwk, format: 'jwk' });
    verify('sha256', attrs, devicePublic, attrsSig);
    verify('sha256', csrInfo, devicePublic, csrSig);
    createHash('sha256').update(body).digest();
    const k = createHmac('sha256', kdk).update(body.subarray(0, 256)).digest();
    createHmac('sha256', k).update('message').digest();
    const decipher = createDecipheriv('aes-256-cbc', cek, iv);
    decipher.update(csrCiphertext);
    decipher.final();
    createHash('sha1').update(body.subarray(0, 270)).digest();
    const serial = randomBytes(16).toString('hex');
    insert.run(serial, serial.length, 'CN=floor', Date.now(), certificate);
    const key = randomBytes(48);
    const cipher = createCipheriv('aes-256-cbc', key.subarray(0, 32), key.subarray(32));
    cipher.update(certificate);
    cipher.final();
    publicEncrypt({ key: devicePublic, padding: constants.RSA_PKCS1_PADDING }, key.subarray(0, 32));
    createHash('sha256').update(certificate).digest();
  };
}

async function serve(): Promise<void> {
  const dir = process.env.SCEP_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'orchard-scep-bench-'));
  mkdirSync(dir, { recursive: true });
  const storage = openSqliteCaStorage({ path: join(dir, 'ca.sqlite') });
  const prefill = Number(process.env.SCEP_BENCH_SERVER_PREFILL ?? '0');
  const filler = readFileSync(self);
  for (let i = 0; i < prefill; i++) {
    await storage.certificates.recordIssued({
      serial: `4${i.toString(16).padStart(31, '0')}`,
      subject: `CN=prefill-${String(i)}`,
      enrollmentId: `enr-${String(i)}`,
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      issuedAt: new Date(),
      der: filler.subarray(0, 1200),
    });
  }
  const material = await openCaDirectory({ dir: join(dir, 'ca'), keyType: 'rsa-2048' });
  const ca = createCa({ material, store: storage.certificates });
  const server = await startScepServer(
    createScepHandler({ ca, validator: staticChallenge(SECRET) }),
  );
  process.stdout.write(`PORT ${String(server.port)}\n`);
  process.on('SIGTERM', () => {
    storage.close();
    process.exit(0);
  });
}

interface Target {
  name: string;
  url: string;
  pid: number;
  responder: X509Certificate;
}

interface Lane {
  key: KeyObject;
  subject: string;
  csr: Buffer;
  /** Transient certificates made so far (each request gets its own). */
  made: number;
  /** Requests built before a phase, per target URL, so the client signs outside the measurement. */
  ready: Map<string, Prepared[]>;
}

/**
 * One PKCSReq as a device sends it: the lane's pre-generated key, but a new self-signed transient
 * certificate every time (a server cannot reuse what it learnt from an earlier request).
 */
/** A request built before a phase, with the transient certificate it was signed with. */
interface Prepared extends ScepRequest {
  certificate: X509Certificate;
}

function buildRequest(target: Target, lane: Lane): Prepared {
  lane.made++;
  const certificate = createTransientCertificate(
    lane.key,
    lane.subject,
    new Date(Date.now() - lane.made * 1000),
  );
  const request = createScepRequest({
    messageType: 'PKCSReq',
    content: lane.csr,
    signer: { certificate, privateKey: lane.key },
    recipient: target.responder,
  });
  return { ...request, certificate };
}

/** Pre-builds `count` requests per lane for `target`. */
function prepare(target: Target, lanes: Lane[], count: number): void {
  for (const lane of lanes)
    lane.ready.set(
      target.url,
      Array.from({ length: count }, () => buildRequest(target, lane)),
    );
}

async function enrollOnce(target: Target, lane: Lane): Promise<boolean> {
  const request = lane.ready.get(target.url)?.pop() ?? buildRequest(target, lane);
  try {
    const res = await fetch(`${target.url}?operation=PKIOperation`, {
      method: 'POST',
      body: request.der,
    });
    if (res.status !== 200) return false;
    const rep = readCertRep(Buffer.from(await res.arrayBuffer()), request, {
      privateKey: lane.key,
      responders: [target.responder],
      certificate: request.certificate,
    });
    return rep.status === 'SUCCESS' && rep.certificate !== undefined;
  } catch {
    return false;
  }
}

interface Tally {
  name: string;
  ok: number;
  failed: number;
  wallMs: number;
  cpuMs: number;
}

/** Runs `op` in every lane for `seconds` against `target`, adding to `tally`. */
async function phase(
  target: Target,
  lanes: Lane[],
  seconds: number,
  op: (target: Target, lane: Lane) => Promise<boolean>,
  tally?: Tally,
): Promise<void> {
  const cpu0 = cpuMs(target.pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (performance.now() < end) {
        if (await op(target, lane)) ok++;
        else failed++;
      }
    }),
  );
  if (tally === undefined) return;
  tally.wallMs += performance.now() - t0;
  tally.cpuMs += cpuMs(target.pid) - cpu0;
  tally.ok += ok;
  tally.failed += failed;
}

/** One request to the floor server: the same body an enrollment sends, any 200 answer. */
async function floorOnce(target: Target, lane: Lane): Promise<boolean> {
  const request = lane.ready.get(target.url)?.pop() ?? buildRequest(target, lane);
  try {
    const res = await fetch(target.url, { method: 'POST', body: request.der });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Sends `count` requests over all lanes and returns the server CPU they cost. */
async function warmUp(s: Server, lanes: Lane[], count: number): Promise<Tally> {
  const tally = newTally(s.name);
  const cpu0 = cpuMs(s.target.pid);
  const t0 = performance.now();
  let left = count;
  await Promise.all(
    lanes.map(async (lane) => {
      while (left-- > 0) {
        if (await s.op(s.target, lane)) tally.ok++;
        else tally.failed++;
      }
    }),
  );
  tally.wallMs = performance.now() - t0;
  tally.cpuMs = cpuMs(s.target.pid) - cpu0;
  return tally;
}

async function getCaCaps(target: Target): Promise<boolean> {
  const res = await fetch(`${target.url}?operation=GetCACaps`);
  await res.arrayBuffer();
  return res.status === 200;
}

function toRate(t: Tally, perCpu = false): Rate {
  const opsPerCpuSec = t.ok / Math.max(t.cpuMs / 1000, 1e-9);
  const opsPerSec = perCpu ? opsPerCpuSec : t.ok / (t.wallMs / 1000);
  return { name: t.name, ops: t.ok, opsPerSec, opsPerCpuSec };
}

/** CPU cost of the three RSA-2048 private-key operations an enrollment needs, in this process. */
function rsaFloorMs(): number {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const cipher = Buffer.alloc(256, 1);
  const c0 = process.cpuUsage();
  const n = 200;
  for (let i = 0; i < n; i++) {
    sign('sha256', cipher, key);
    sign('sha256', cipher.subarray(1), key);
    privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, cipher);
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => {
      reject(new Error(`server exited with ${String(code)}`));
    });
  });
}

async function startChild(
  role: 'server' | 'floor' | 'crypto-floor',
  dir: string,
  prefill: number,
): Promise<{ child: ChildProcess; port: number }> {
  // SCEP_BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof") lets the server child be profiled. Orchard
  // and both floors run with the daemon's node flags, as `npm start` runs it.
  const extra = (process.env.SCEP_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...extra, '--import', 'tsx', self], {
    env: {
      ...process.env,
      ORCHARD_SCEP_BENCH_ROLE: role,
      SCEP_BENCH_DIR: dir,
      SCEP_BENCH_SERVER_PREFILL: String(prefill),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { child, port: await readPort(child) };
}

async function startOrchard(dir: string, prefill: number): Promise<Omit<Server, 'name'>> {
  const { child, port } = await startChild('server', dir, prefill);
  const url = `http://127.0.0.1:${String(port)}/scep`;
  const target = { name: '', url, pid: child.pid ?? 0, responder: await caCert(url) };
  return { child, target, op: enrollOnce };
}

/** The floor server; requests are encrypted to `responder` so bodies match an enrollment's. */
async function startFloor(
  responder: X509Certificate,
  role: 'floor' | 'crypto-floor',
  dir: string,
): Promise<Omit<Server, 'name'>> {
  mkdirSync(dir, { recursive: true });
  const { child, port } = await startChild(role, dir, 0);
  const url = `http://127.0.0.1:${String(port)}/floor`;
  return { child, target: { name: '', url, pid: child.pid ?? 0, responder }, op: floorOnce };
}

async function caCert(url: string): Promise<X509Certificate> {
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${url}?operation=GetCACert`);
      return new X509Certificate(Buffer.from(await res.arrayBuffer()));
    } catch (error) {
      if (i > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function startMicromdm(dir: string): Promise<Omit<Server, 'name'>> {
  const depot = join(dir, 'depot');
  const init = spawnSync('scepserver', ['ca', '-init', '-depot', depot, '-keySize', '2048']);
  if (init.status !== 0) throw new Error(`scepserver ca -init failed: ${init.stderr.toString()}`);
  const child = spawn(
    'scepserver',
    ['-depot', depot, '-port', '18080', '-challenge', SECRET, '-allowrenew', '0'],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const url = 'http://127.0.0.1:18080/scep';
  const target = { name: '', url, pid: child.pid ?? 0, responder: await caCert(url) };
  return { child, target, op: enrollOnce };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => {
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function makeLanes(): Lane[] {
  return Array.from({ length: LANES }, (_, i) => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const subject = `CN=bench-${String(i)},O=Orchard`;
    return {
      key,
      subject,
      made: 0,
      csr: createCsr({ subject, privateKey: key, challengePassword: SECRET }),
      ready: new Map(),
    };
  });
}

const newTally = (name: string): Tally => ({ name, ok: 0, failed: 0, wallMs: 0, cpuMs: 0 });

interface Server {
  name: string;
  child: ChildProcess;
  target: Target;
  op: (target: Target, lane: Lane) => Promise<boolean>;
}

/** Interleaved rounds over every server, so drift in the machine's load hits each alike. */
async function rounds(servers: Server[], lanes: Lane[], seconds: number): Promise<Tally[]> {
  const tallies = servers.map((s) => newTally(s.name));
  const n = 6;
  for (let r = 0; r < n; r++) {
    for (const [i, s] of servers.entries()) {
      // Enough for 600 enrollments/s, so the client never signs while a phase is measured.
      prepare(s.target, lanes, Math.ceil((600 * seconds) / n / lanes.length) + 5);
      await phase(s.target, lanes, seconds / n, s.op, tallies[i]);
    }
  }
  return tallies;
}

function printDetail(sequential: Tally[], parallel: Tally[], caps: Tally[], floor: number): void {
  const per = (cpu: number, n: number): string => (cpu / Math.max(n, 1)).toFixed(2);
  console.log(
    '\n| server | CPU ms / enrollment, 1 lane | CPU ms / enrollment, 8 lanes | CPU ms / request, 8 lanes (ok + failed) | CPU ms / GetCACaps (floor: a bare GET) | ok, 8 lanes | failed, 8 lanes |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [i, p] of parallel.entries()) {
    const s = sequential[i] as Tally;
    const c = caps[i] as Tally;
    console.log(
      `| ${p.name} | ${per(s.cpuMs, s.ok)} | ${per(p.cpuMs, p.ok)} | ${per(p.cpuMs, p.ok + p.failed)} | ${(c.cpuMs / Math.max(c.ok, 1)).toFixed(3)} | ${String(p.ok)} | ${String(p.failed)} |`,
    );
  }
  console.log(
    `| RSA-2048 floor: 2 signs + 1 raw decrypt, measured now | ${floor.toFixed(2)} | | | | | |`,
  );
}

/** Server CPU ms per successful enrollment. */
const cpuPerOk = (t: Tally): number => t.cpuMs / Math.max(t.ok, 1);

/**
 * The SCEP rows from the measured tallies (servers in the order `drive` starts them: micromdm,
 * Orchard fresh, Orchard prefilled, RSA floor, full node:crypto + SQLite floor). The goal (issue
 * 20): Orchard's server CPU per enrollment at most 1.15 times the full floor, 8 lanes.
 */
function scepRows(sequential: Tally[], parallel: Tally[], rsaFloor: number): BenchRow[] {
  const [micromdm, fresh, filled, floor, full] = parallel as [Tally, Tally, Tally, Tally, Tally];
  const one = sequential as [Tally, Tally, Tally, Tally, Tally];
  const fullFloor = {
    baseline: 'floor: node:http + the same node:crypto calls + the SQLite insert',
    baselineValues: [cpuPerOk(full)],
    unit: 'CPU ms',
    higherIsBetter: false,
  };
  const counts = (t: Tally) => ({ ok: t.ok, failed: t.failed });
  return [
    benchRow({
      id: 'scep.cpu',
      what: 'SCEP enrollment, server CPU per enrollment (RSA-2048 CA, SQLite, 8 lanes)',
      ...fullFloor,
      values: [cpuPerOk(fresh)],
      goal: { ratioAtMost: 1.15 },
      detail: {
        ...counts(fresh),
        oneLane: cpuPerOk(one[1]),
        oneLaneFloor: cpuPerOk(one[4]),
        rsaFloorInProcessMs: rsaFloor,
        enrollmentsPerSecond: (fresh.ok * 1000) / Math.max(fresh.wallMs, 1),
      },
    }),
    benchRow({
      id: 'scep.cpu.prefilled',
      what: `SCEP enrollment, server CPU, ${PREFILL.toLocaleString('en-US')} issued before`,
      ...fullFloor,
      values: [cpuPerOk(filled)],
      detail: counts(filled),
    }),
    benchRow({
      id: 'scep.cpu.rsa-floor',
      what: 'SCEP enrollment, server CPU, against only its 3 RSA-2048 private-key operations',
      baseline: 'floor: node:http + 3 RSA-2048 private-key operations',
      baselineValues: [cpuPerOk(floor)],
      values: [cpuPerOk(fresh)],
      unit: 'CPU ms',
      higherIsBetter: false,
    }),
    benchRow({
      id: 'scep.cpu.micromdm',
      what: 'SCEP enrollment, server CPU per request, against micromdm scepserver (Go)',
      baseline: 'micromdm scepserver 2.1.0, CPU per request (ok + failed)',
      baselineValues: [micromdm.cpuMs / Math.max(micromdm.ok + micromdm.failed, 1)],
      values: [cpuPerOk(fresh)],
      unit: 'CPU ms',
      higherIsBetter: false,
      detail: counts(micromdm),
    }),
  ];
}

async function drive(): Promise<void> {
  const seconds = Math.max(benchSeconds, 0.5);
  const lanes = makeLanes();
  const dir = mkdtempSync(join(tmpdir(), 'orchard-scep-bench-'));
  const servers: Server[] = [
    { name: 'micromdm scepserver 2.1.0', ...(await startMicromdm(dir)) },
    { name: 'orchard, 0 issued before', ...(await startOrchard(join(dir, 'fresh'), 0)) },
    {
      name: `orchard, ${String(PREFILL)} issued before`,
      ...(await startOrchard(join(dir, 'filled'), PREFILL)),
    },
  ];
  const fresh = servers[1] as Server;
  servers.push(
    {
      name: 'floor: bare node:http + 3 RSA-2048 private-key ops',
      ...(await startFloor(fresh.target.responder, 'floor', join(dir, 'floor'))),
    },
    {
      name: 'floor: the same + every other node:crypto call and the SQLite insert of an enrollment',
      ...(await startFloor(fresh.target.responder, 'crypto-floor', join(dir, 'crypto-floor'))),
    },
  );
  const warm: Tally[] = [];
  // micromdm (Go, no JIT) gets a short one-lane warm-up: concurrency races its serial file.
  for (const [i, s] of servers.entries())
    warm.push(await (i === 0 ? warmUp(s, lanes.slice(0, 1), 50) : warmUp(s, lanes, WARMUP)));
  // One lane first: micromdm cannot lose requests to its serial race without concurrency.
  const sequential = await rounds(servers, lanes.slice(0, 1), seconds);
  const parallel = await rounds(servers, lanes, seconds);
  const caps = servers.map((s) => newTally(s.name));
  for (const [i, s] of servers.entries()) await phase(s.target, lanes, 0.5, getCaCaps, caps[i]);
  const floor = rsaFloorMs();
  for (const s of servers) await stop(s.child);
  const [theirs, ...ours] = parallel as [Tally, ...Tally[]];
  report(
    'SCEP enrollments per second (wall, 8 lanes; the client shares the 2 cores)',
    toRate(theirs),
    ours.map((t) => ({ rate: toRate(t) })),
  );
  const [theirs1, ...ours1] = sequential as [Tally, ...Tally[]];
  report(
    'SCEP enrollments per server CPU-second (1 lane, no failures possible)',
    toRate(theirs1, true),
    ours1.map((t) => ({ rate: toRate(t, true) })),
  );
  printDetail(sequential, parallel, caps, floor);
  const out = process.env.ORCHARD_SCEP_BENCH_OUT;
  if (out !== undefined) writeFileSync(out, JSON.stringify(scepRows(sequential, parallel, floor)));
  if (DETAIL) {
    await phaseBreakdown(dir, lanes[0] as Lane);
    await defaultCaRows(dir, lanes[0] as Lane);
  }
  console.log(
    `\n| server | CPU ms / request during warm-up (${String(WARMUP)} requests, 50 for micromdm) |`,
  );
  console.log('|---|---:|');
  for (const w of warm)
    console.log(`| ${w.name} | ${(w.cpuMs / Math.max(w.ok + w.failed, 1)).toFixed(2)} |`);
  const verdict = (label: string, ours: Tally, theirs: Tally): string => {
    const ms = ours.cpuMs / Math.max(ours.ok, 1);
    const ratio = theirs.cpuMs / Math.max(theirs.ok + theirs.failed, 1) / ms;
    return `${label}: ${ms.toFixed(2)} ms (${ms <= GOAL_MS ? 'met' : 'MISSED'}), ${ratio.toFixed(2)}× micromdm's CPU per request`;
  };
  console.log(
    `\nGoal: at most ${String(GOAL_MS)} ms of server CPU per enrollment, 0 issued before. ${verdict('8 lanes', parallel[1] as Tally, parallel[0] as Tally)}; ${verdict('1 lane', sequential[1] as Tally, sequential[0] as Tally)}.`,
  );
  const perOk = (t: Tally): number => t.cpuMs / Math.max(t.ok, 1);
  const above = (i: number): string =>
    `${(perOk(parallel[1] as Tally) - perOk(parallel[i] as Tally)).toFixed(2)} / ${(perOk(sequential[1] as Tally) - perOk(sequential[i] as Tally)).toFixed(2)} ms`;
  console.log(
    `Orchard above the RSA floor: ${above(3)} (8 lanes / 1 lane); above the full node:crypto + SQLite floor: ${above(4)}.`,
  );
}

/** CPU µs per call of `fn` over `items`, after one untimed pass. */
async function cpuPer<T>(items: readonly T[], fn: (item: T) => unknown): Promise<number> {
  const c0 = process.cpuUsage();
  for (const item of items) await fn(item);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / items.length;
}

/**
 * The daemon's CA layouts in process, 150 enrollments each after a warm-up: an RSA-4096 root alone
 * (all three private-key operations with RSA-4096), the same root with an RSA-2048 RA (decryption
 * and CertRep on the RA key, the root signs each certificate), and the daemon's default: an
 * RSA-2048 RA and an RSA-2048 issuing CA, so the root key signs nothing per enrollment.
 */
async function defaultCaRows(dir: string, lane: Lane): Promise<void> {
  console.log('\n| daemon CA layout, in process | CPU ms / enrollment |');
  console.log('|---|---:|');
  const layouts = [
    { name: 'RSA-4096 root alone', ra: false, issuing: false },
    { name: 'RSA-4096 root + RSA-2048 RA (the default before)', ra: true, issuing: false },
    {
      name: "RSA-4096 root + RSA-2048 RA + RSA-2048 issuing CA (the daemon's default)",
      ra: true,
      issuing: true,
    },
  ];
  for (const [i, layout] of layouts.entries()) {
    const storage = openSqliteCaStorage({ path: join(dir, `default-${String(i)}.sqlite`) });
    const material = await openCaDirectory({
      dir: join(dir, `default-ca-${String(i)}`),
      keyType: 'rsa-4096',
      ra: layout.ra,
      issuing: layout.issuing,
    });
    const ca = createCa({ material, store: storage.certificates });
    const handler = createScepHandler({ ca, validator: staticChallenge(SECRET) });
    const target: Target = {
      name: '',
      url: 'in-process',
      pid: 0,
      responder: ca.responder.certificate,
    };
    const query = { operation: 'PKIOperation' };
    const build = (n: number): Buffer[] =>
      Array.from({ length: n }, () => buildRequest(target, lane).der);
    for (const body of build(50)) await handler({ method: 'POST', query, body });
    const us = await cpuPer(build(150), (body) => handler({ method: 'POST', query, body }));
    storage.close();
    console.log(`| ${layout.name} | ${(us / 1000).toFixed(2)} |`);
  }
}

/**
 * In-process breakdown of a PKCSReq (SQLite store, RSA-2048 CA): each phase run over the same
 * pre-built requests after the handler is warm, so the rows show where the CPU goes.
 */
async function phaseBreakdown(dir: string, lane: Lane): Promise<void> {
  const storage = openSqliteCaStorage({ path: join(dir, 'phases.sqlite') });
  const material = await openCaDirectory({ dir: join(dir, 'phases-ca'), keyType: 'rsa-2048' });
  const ca = createCa({ material, store: storage.certificates });
  const validator = staticChallenge(SECRET);
  const handler = createScepHandler({ ca, validator });
  const target: Target = { name: '', url: 'in-process', pid: 0, responder: ca.certificate };
  const build = (n: number): Buffer[] =>
    Array.from({ length: n }, () => buildRequest(target, lane).der);
  const query = { operation: 'PKIOperation' };
  for (const body of build(WARMUP)) await handler({ method: 'POST', query, body });
  const bodies = build(300);
  const { certificate, privateKey } = ca.responder;
  const msgs = bodies.map((b) => readPkiMessage(b));
  const ok = msgs
    .map((m) => (m.verified.ok ? m.verified : undefined))
    .filter((v) => v !== undefined);
  const signer = (ok[0] as (typeof ok)[number]).signer;
  const known = certInfo(signer);
  const ders = ok.map((v) => decryptCms(v.content, { privateKey, certificate }));
  const csrs = ders.map((d) => parseCsr(d, { knownKey: known }));
  const issued = await Promise.all(csrs.map((csr) => ca.issue({ csr })));
  const envelopes = issued.map((i) => encryptCms(certsOnly([i.der]), signer));
  const rows: [string, number][] = [
    ['read pkiMessage + verify its signature', await cpuPer(bodies, (b) => readPkiMessage(b))],
    [
      'decrypt envelope (1 raw RSA decrypt)',
      await cpuPer(ok, (v) => decryptCms(v.content, { privateKey, certificate })),
    ],
    [
      'read CSR + verify its signature',
      await cpuPer(ders, (d) => parseCsr(d, { knownKey: known })),
    ],
    [
      'static challenge check',
      await cpuPer(csrs, (csr) =>
        validator({
          challenge: csr.challengePassword,
          csr,
          messageType: 'PKCSReq',
          transactionId: 't',
          signer,
        }),
      ),
    ],
    [
      'issue: certificate (1 RSA sign) + SQLite insert',
      await cpuPer(csrs, (csr) => ca.issue({ csr })),
    ],
    [
      'encrypt reply envelope (RSA public op)',
      await cpuPer(issued, (i) => encryptCms(certsOnly([i.der]), signer)),
    ],
    [
      'sign CertRep (1 RSA sign)',
      await cpuPer(envelopes, (content) =>
        writePkiMessage({
          messageType: 3,
          transactionId: 't',
          pkiStatus: 'SUCCESS',
          content,
          certificate,
          privateKey,
        }),
      ),
    ],
  ];
  const whole = await cpuPer(bodies, (body) => handler({ method: 'POST', query, body }));
  storage.close();
  console.log('\n| phase of one PKCSReq, in process (after warm-up) | CPU µs |');
  console.log('|---|---:|');
  for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(0)} |`);
  const sum = rows.reduce((a, [, us]) => a + us, 0);
  console.log(`| sum of phases | ${sum.toFixed(0)} |`);
  console.log(`| whole handler, same requests | ${whole.toFixed(0)} |`);
  console.log(`| RSA-2048 floor (2 signs + 1 raw decrypt) | ${(rsaFloorMs() * 1000).toFixed(0)} |`);
}

/**
 * The SCEP rows: runs the driver inside a private network namespace (scepserver listens on every
 * interface), which writes its rows to a file. `SCEP_BENCH_DETAIL=1` adds the per-phase and CA
 * layout tables to the module's log.
 */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'orchard-scep-rows-')), 'rows.json');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        'ip link set lo up && exec "$0" --import tsx "$1"',
        process.execPath,
        self,
      ],
      {
        env: {
          ...process.env,
          ORCHARD_SCEP_BENCH_ROLE: 'driver',
          ORCHARD_SCEP_BENCH_OUT: out,
          ORCHARD_SCALE: String(options.scale),
        },
        stdio: 'inherit',
      },
    );
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`scep bench driver exited with ${String(code)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as BenchRow[];
}

if (ROLE === 'server') await serve();
if (ROLE === 'floor') await serveFloor(false);
if (ROLE === 'crypto-floor') await serveFloor(true);
if (ROLE === 'driver') {
  await drive();
  process.exit(0);
}

/**
 * SCEP enrollments per second and server CPU per enrollment: Orchard's handler (in a child
 * process on node:http, SQLite store, RSA-2048 CA) side by side with micromdm's `scepserver`
 * (Debian, RSA-2048 CA), driven by the same client (Orchard's SCEP client, 8 concurrent lanes,
 * pre-generated client keys) in the same run. Everything runs inside a private network namespace
 * (`unshare -n`), because scepserver listens on every interface. Server CPU is read from
 * /proc/<pid>/stat (utime + stime) before and after each phase. Orchard is measured again after
 * PREFILL issued certificates were recorded, to show the cost stays flat.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsr } from '../src/crypto/csr.js';
import { createCa } from '../src/identity/ca/authority.js';
import { openCaDirectory } from '../src/identity/ca/files.js';
import { openSqliteCaStorage } from '../src/identity/ca/sqlite.js';
import { staticChallenge } from '../src/identity/scep/challenge.js';
import {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
} from '../src/identity/scep/client.js';
import { createScepHandler } from '../src/identity/scep/handler.js';
import { startScepServer } from '../test/support/scep-server.js';
import { benchSeconds, report, type Rate } from './lib.js';

const ROLE = process.env.ORCHARD_SCEP_BENCH_ROLE;
const SECRET = 'bench-secret';
const LANES = 8;
const PREFILL = Number(process.env.SCEP_BENCH_PREFILL ?? '20000');
const self = fileURLToPath(import.meta.url);
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || '100');

/** utime + stime of a process, in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
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
  csr: Buffer;
  signer: { certificate: X509Certificate; privateKey: KeyObject };
}

async function enrollOnce(target: Target, lane: Lane): Promise<boolean> {
  const request = createScepRequest({
    messageType: 'PKCSReq',
    content: lane.csr,
    signer: lane.signer,
    recipient: target.responder,
  });
  try {
    const res = await fetch(`${target.url}?operation=PKIOperation`, {
      method: 'POST',
      body: request.der,
    });
    if (res.status !== 200) return false;
    const rep = readCertRep(Buffer.from(await res.arrayBuffer()), request, {
      privateKey: lane.key,
      responders: [target.responder],
      certificate: lane.signer.certificate,
    });
    return rep.status === 'SUCCESS' && rep.certificate !== undefined;
  } catch {
    return false;
  }
}

async function phase(
  target: Target,
  lanes: Lane[],
  seconds: number,
): Promise<{ rate: Rate; cpuPerOk: number; failed: number }> {
  const cpu0 = cpuMs(target.pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (performance.now() < end) {
        if (await enrollOnce(target, lane)) ok++;
        else failed++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMs(target.pid) - cpu0;
  const rate: Rate = {
    name: target.name,
    ops: ok,
    opsPerSec: ok / wall,
    opsPerCpuSec: ok / Math.max(cpu / 1000, 1e-9),
  };
  return { rate, cpuPerOk: cpu / Math.max(ok, 1), failed };
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

async function startOrchard(
  dir: string,
  prefill: number,
): Promise<{ child: ChildProcess; target: Target }> {
  // SCEP_BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof") lets the server child be profiled.
  const extra = (process.env.SCEP_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', self], {
    env: {
      ...process.env,
      ORCHARD_SCEP_BENCH_ROLE: 'server',
      SCEP_BENCH_DIR: dir,
      SCEP_BENCH_SERVER_PREFILL: String(prefill),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await readPort(child);
  const url = `http://127.0.0.1:${String(port)}/scep`;
  return { child, target: { name: '', url, pid: child.pid ?? 0, responder: await caCert(url) } };
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

async function startMicromdm(dir: string): Promise<{ child: ChildProcess; target: Target }> {
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
  return { child, target: { name: '', url, pid: child.pid ?? 0, responder: await caCert(url) } };
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
      csr: createCsr({ subject, privateKey: key, challengePassword: SECRET }),
      signer: { certificate: createTransientCertificate(key, subject), privateKey: key },
    };
  });
}

async function drive(): Promise<void> {
  const seconds = Math.max(benchSeconds, 0.5);
  const lanes = makeLanes();
  const dir = mkdtempSync(join(tmpdir(), 'orchard-scep-bench-'));
  const micromdm = await startMicromdm(dir);
  const fresh = await startOrchard(join(dir, 'fresh'), 0);
  await phase(fresh.target, lanes, 0.3);
  await phase(micromdm.target, lanes, 0.3);
  const theirs = await phase(
    { ...micromdm.target, name: 'micromdm scepserver 2.1.0' },
    lanes,
    seconds,
  );
  const ours0 = await phase({ ...fresh.target, name: 'orchard, 0 issued before' }, lanes, seconds);
  await stop(fresh.child);
  await stop(micromdm.child);
  const filled = await startOrchard(join(dir, 'filled'), PREFILL);
  await phase(filled.target, lanes, 0.3);
  const oursN = await phase(
    { ...filled.target, name: `orchard, ${String(PREFILL)} issued before` },
    lanes,
    seconds,
  );
  await stop(filled.child);
  report('SCEP enrollments per second (wall, 8 lanes, client shares the 2 cores)', theirs.rate, [
    { rate: ours0.rate },
    { rate: oursN.rate },
  ]);
  const perCpu = (r: Rate): Rate => ({ ...r, opsPerSec: r.opsPerCpuSec });
  report('SCEP enrollments per server CPU-second', perCpu(theirs.rate), [
    { rate: perCpu(ours0.rate), goal: 2.5 },
    { rate: perCpu(oursN.rate), goal: 2.5 },
  ]);
  console.log('\n| server | server CPU ms / enrollment | enrollments ok | failed |');
  console.log('|---|---:|---:|---:|');
  for (const r of [theirs, ours0, oursN])
    console.log(
      `| ${r.rate.name} | ${r.cpuPerOk.toFixed(2)} | ${String(r.rate.ops)} | ${String(r.failed)} |`,
    );
}

/** Runs the driver inside a private network namespace so scepserver stays on loopback. */
export default async function scepBench(): Promise<void> {
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
        env: { ...process.env, ORCHARD_SCEP_BENCH_ROLE: 'driver' },
        stdio: 'inherit',
      },
    );
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`scep bench driver exited with ${String(code)}`);
}

if (ROLE === 'server') await serve();
if (ROLE === 'driver') {
  await drive();
  process.exit(0);
}

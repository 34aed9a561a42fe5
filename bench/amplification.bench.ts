/**
 * Issue 12 item 3, "Unauthenticated CPU amplification": a signed device's Idle latency while junk
 * senders (4 MiB bodies: unsigned, with a garbage Mdm-Signature, or validly signed by a foreign
 * CA) run flat out over real HTTP on 127.0.0.1, as a ratio to its latency without junk in the
 * same run. Two listeners share one core behind withCertAuth: the current one (identity and
 * chain checked before decoding, per-kind budgets) and one configured as close to the handler
 * before the fix as options allow (no `trust`, a million values per body: unsigned and
 * foreign-signed junk is decoded, only a garbage signature is refused before decoding). Junk runs
 * in a worker thread, the device and the server on the main thread; every loop is bounded by a
 * request count.
 */
import { randomBytes } from 'node:crypto';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { signCms } from '../src/crypto/cms-sign.js';
import { createNodeListener } from '../src/http/node.js';
import { withCertAuth } from '../src/service/cert-auth.js';
import { createMdmCore } from '../src/service/core.js';
import type { MdmHandlerOptions } from '../src/http/mdm.js';
import { createMemoryStorage } from '../src/storage/memory/index.js';
import { DeviceEmulator } from '../test/support/device-emulator.js';
import { createTestCa, issueDeviceIdentity } from '../test/support/device-pki.js';
import { benchSeconds, putMdm } from './lib.js';

const TOPIC = 'com.apple.mgmt.External.amplification-bench';
const MIB = 1024 * 1024;
/** Idle requests timed per phase; scaled by BENCH_SECONDS (default 2 → 200). */
const SAMPLES = Math.max(40, Math.round(100 * benchSeconds));
/** Concurrent junk connections, as in the finding. */
const JUNK_SENDERS = 2;
/** Upper bound of junk requests per phase, whatever happens. */
const JUNK_CAP = 20_000;

interface JunkBody {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Close to the handler before the fix: no pre-decode trust, 4 MiB check-ins, a million values. */
const BEFORE: MdmHandlerOptions = {
  limits: {
    checkin: { maxBytes: 4 * MIB, maxItems: 1_000_000, maxDepth: 16 },
    report: { maxBytes: 4 * MIB, maxItems: 1_000_000, maxDepth: 32 },
  },
};

// The worker is plain JavaScript (eval), so it needs no loader: each sender PUTs the junk bodies
// in turn over its own keep-alive connection until told to stop or the shared cap is reached.
const JUNK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, senders, cap } = workerData;
const bodies = workerData.bodies.map((j) => ({ headers: j.headers, body: Buffer.from(j.body.buffer, j.body.byteOffset, j.body.length) }));
let sent = 0;
let stop = false;
const statuses = {};
parentPort.on('message', () => { stop = true; });
function put(agent, junk) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mdm', method: 'PUT', agent,
      headers: junk.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(junk.body);
  });
}
async function sender(i) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let n = i; !stop && sent < cap; n++) {
    const status = await put(agent, bodies[n % bodies.length]);
    sent++;
    statuses[status] = (statuses[status] || 0) + 1;
    if (sent === senders) parentPort.postMessage({ started: true });
  }
  agent.destroy();
}
Promise.all(Array.from({ length: senders }, (_, i) => sender(i))).then(() =>
  parentPort.postMessage({ done: true, sent, statuses }));
`;

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const put = (port: number, body: Uint8Array, headers: Record<string, string>) =>
  putMdm(agent, port, body, headers);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Times `SAMPLES` signed Idle polls, one at a time; returns the sorted latencies in ms. */
async function idleLatencies(
  port: number,
  idle: Uint8Array,
  headers: Record<string, string>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const status = await put(port, idle, headers);
    out.push(performance.now() - t0);
    if (status !== 200) throw new Error(`signed Idle answered ${status}`);
  }
  return out.sort((a, b) => a - b);
}

interface JunkRun {
  sent: number;
  seconds: number;
  statuses: Record<string, number>;
}

/** Runs `fn` while the junk senders hammer `port`; resolves with both results. */
async function withJunk<T>(
  port: number,
  bodies: JunkBody[],
  fn: () => Promise<T>,
): Promise<[T, JunkRun]> {
  const worker = new Worker(JUNK_WORKER, {
    eval: true,
    workerData: { port, bodies, senders: JUNK_SENDERS, cap: JUNK_CAP },
  });
  const done = new Promise<{ sent: number; statuses: Record<string, number> }>((resolve) => {
    worker.on(
      'message',
      (m: { done?: boolean; sent: number; statuses: Record<string, number> }) => {
        if (m.done === true) resolve(m);
      },
    );
  });
  await new Promise<void>((resolve) => {
    worker.once('message', () => {
      resolve();
    });
  });
  const t0 = performance.now();
  const result = await fn();
  worker.postMessage('stop');
  const junk = await done;
  const seconds = (performance.now() - t0) / 1000;
  await worker.terminate();
  return [result, { sent: junk.sent, seconds, statuses: junk.statuses }];
}

function junkXml(size: number): Buffer {
  const head = '<plist><array>';
  const tail = '</array></plist>';
  const count = Math.floor((size - head.length - tail.length) / 7);
  return Buffer.from(head + '<true/>'.repeat(count) + tail);
}

/** A server that reads each body and answers 400: the floor any handler that reads bodies pays. */
function readAndDrop(): Server {
  return createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(400, { 'content-length': '0' });
      res.end();
    });
  });
}

interface Row {
  label: string;
  /** Where the signed device polls. */
  idlePort: number;
  /** Where the junk goes. */
  junkPort: number;
}

/** Measures one row pair (no junk, then junk) and prints it. */
async function measureRow(
  row: Row,
  bodies: JunkBody[],
  idle: Uint8Array,
  signed: Record<string, string>,
): Promise<void> {
  const ms = (n: number): string => n.toFixed(1);
  await idleLatencies(row.idlePort, idle, signed); // warm-up
  const quiet = await idleLatencies(row.idlePort, idle, signed);
  const [loaded, junk] = await withJunk(row.junkPort, bodies, () =>
    idleLatencies(row.idlePort, idle, signed),
  );
  const base = percentile(quiet, 95);
  const p95 = percentile(loaded, 95);
  console.log(
    `| ${row.label} | no junk (baseline) | ${ms(percentile(quiet, 50))} | ${ms(base)} | 1.00 | | |`,
  );
  console.log(
    `| ${row.label} | ${JUNK_SENDERS} junk senders, 4 MiB | ${ms(percentile(loaded, 50))} | ` +
      `${ms(p95)} | ${(p95 / base).toFixed(2)} | ${(junk.sent / junk.seconds).toFixed(1)} | ` +
      `${JSON.stringify(junk.statuses)} |`,
  );
}

/** The three junk bodies: unsigned, a garbage signature, a valid signature by a foreign CA. */
async function junkBodies(): Promise<JunkBody[]> {
  const foreign = await issueDeviceIdentity(await createTestCa('Foreign CA'), 'junk');
  const junk = junkXml(4 * MIB);
  const foreignSignature = signCms(junk, {
    certificate: foreign.certificate,
    privateKey: foreign.privateKey,
    detached: true,
  }).toString('base64');
  return [
    { body: junk, headers: {} },
    { body: junk, headers: { 'mdm-signature': randomBytes(900).toString('base64') } },
    { body: junk, headers: { 'mdm-signature': foreignSignature } },
  ];
}

/** Runs the benchmark and prints its table. */
export default async function run(): Promise<void> {
  const ca = await createTestCa('Bench CA');
  const storage = createMemoryStorage();
  const core = createMdmCore({ storage }, { topic: TOPIC, outbox: false });
  const service = withCertAuth(core, { store: storage, roots: [ca.certificate] });
  const servers = [
    createServer(createNodeListener(service, { trust: { roots: [ca.certificate] } })),
    createServer(createNodeListener(service, BEFORE)),
    readAndDrop(),
  ];
  const [after, before, floor] = (await Promise.all(servers.map(listen))) as [
    number,
    number,
    number,
  ];
  const identity = await issueDeviceIdentity(ca, 'bench');
  const dev = new DeviceEmulator({ baseUrl: `http://127.0.0.1:${after}`, identity, topic: TOPIC });
  await dev.enroll();
  const idle = dev.build({ Status: 'Idle' });
  const signed = dev.identityHeaders(idle);
  const bodies = await junkBodies();
  console.log(`\n## Unauthenticated CPU amplification (signed Idle under junk, ${SAMPLES} polls)`);
  console.log(
    '| handler | phase | p50 ms | p95 ms | p95 ratio to no junk | junk req/s | junk statuses |',
  );
  console.log('|---|---|---:|---:|---:|---:|---|');
  const rows: Row[] = [
    { label: 'trust: identity before decode', idlePort: after, junkPort: after },
    { label: 'floor: junk to a read-and-drop server', idlePort: after, junkPort: floor },
    { label: 'no trust, old budgets', idlePort: before, junkPort: before },
  ];
  for (const row of rows) await measureRow(row, bodies, idle, signed);
  agent.destroy();
  await core.close();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await storage.close();
}

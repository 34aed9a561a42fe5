/**
 * Device-route throughput of the HTTP edge, before and after issue 14, in the same run: today's
 * `src/` against the tree of commit 4ee5096 (extracted to `.tmp/bench-baseline`), each as a
 * node:http server on 127.0.0.1 with the node listener, `trust` and `withCertAuth` over the
 * memory store, as the daemon wires them. Devices sign like devices (`Mdm-Signature`). The two
 * alternate, at least five repetitions each; the table shows medians and new/baseline (goal 0.97).
 */
import { execFileSync } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { Agent, createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeviceEmulator } from '../test/support/device-emulator.js';
import {
  createTestCa,
  issueDeviceIdentity,
  type TestIdentity,
} from '../test/support/device-pki.js';
import { benchSeconds, measure, putMdm, report, type Rate } from './lib.js';

const BASELINE_COMMIT = '4ee5096';
const TOPIC = 'com.apple.mgmt.External.bench';
const REPETITIONS = Math.max(5, Number(process.env.BENCH_REPETITIONS ?? '5'));
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The parts of one source tree the bench wires; both trees have them with these shapes. */
interface Tree {
  createNodeListener(service: unknown, options: object): RequestListener;
  createMdmHandler(service: unknown, options: object): (req: object) => Promise<{ status: number }>;
  withCertAuth(core: unknown, options: { store: unknown; roots: X509Certificate[] }): unknown;
  createMdmCore(deps: { storage: unknown }, options: object): { close(): Promise<void> };
  createMemoryStorage(): { close(): Promise<void> };
}

/** The baseline's `src/`, extracted once with `git archive`. */
function baselineSrc(): string {
  const dir = join(root, '.tmp', 'bench-baseline');
  if (!existsSync(join(dir, 'src', 'index.ts'))) {
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', BASELINE_COMMIT, 'src'], {
      cwd: root,
      maxBuffer: 1 << 28,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  }
  return join(dir, 'src');
}

async function loadTree(src: string): Promise<Tree> {
  const load = async (path: string): Promise<Record<string, unknown>> =>
    (await import(pathToFileURL(join(src, path)).href)) as Record<string, unknown>;
  const [node, handler, auth, core, memory] = await Promise.all([
    load('http/node.ts'),
    load(existsSync(join(src, 'http', 'mdm.ts')) ? 'http/mdm.ts' : 'service/handler.ts'),
    load('service/cert-auth.ts'),
    load('service/core.ts'),
    load('storage/memory/index.ts'),
  ]);
  return {
    createNodeListener: node.createNodeListener,
    createMdmHandler: handler.createMdmHandler,
    withCertAuth: auth.withCertAuth,
    createMdmCore: core.createMdmCore,
    createMemoryStorage: memory.createMemoryStorage,
  } as Tree;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const put = (port: number, body: Uint8Array, headers: Record<string, string>) =>
  putMdm(agent, port, body, headers);

function ok(status: number): void {
  if (status !== 200) throw new Error(`bench request answered ${status}`);
}

/** One running server of a tree, its enrolled device and the signed messages it sends. */
interface Subject {
  checkins(): Promise<void>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** A request to the MDM endpoint called in process, headers as a device sends them. */
function edgeRequest(body: Uint8Array, headers: Record<string, string>): object {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: 'PUT',
    path: '/mdm',
    header: (name: string) => lower.get(name.toLowerCase()),
    body,
  };
}

/**
 * A server with the listener (the edge) of `edge` over the core, store and cert auth of `tree`;
 * with `inProcess`, requests skip the socket and call the endpoint of `edge` directly.
 */
async function startSubject(
  edge: Tree,
  tree: Tree,
  ca: X509Certificate,
  identity: TestIdentity,
  inProcess = false,
): Promise<Subject> {
  const storage = tree.createMemoryStorage();
  const core = tree.createMdmCore({ storage }, { topic: TOPIC, outbox: false });
  const service = tree.withCertAuth(core, { store: storage, roots: [ca] });
  const server: Server = createServer(edge.createNodeListener(service, { trust: { roots: [ca] } }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dev = new DeviceEmulator({ baseUrl: `http://127.0.0.1:${port}`, identity, topic: TOPIC });
  await dev.enroll();
  const checkin = { 'content-type': 'application/x-apple-aspen-mdm-checkin' };
  const signed = (fields: Record<string, unknown>) => {
    const body = dev.build(fields);
    return { body, headers: { ...checkin, ...dev.identityHeaders(body) } };
  };
  const authenticate = signed({ MessageType: 'Authenticate', Topic: TOPIC });
  const token = signed({
    MessageType: 'TokenUpdate',
    Topic: TOPIC,
    Token: dev.token,
    PushMagic: dev.pushMagic,
  });
  const idleBody = dev.build({ Status: 'Idle' });
  const idleHeaders = dev.identityHeaders(idleBody);
  const endpoint = edge.createMdmHandler(service, { trust: { roots: [ca] } });
  const send = inProcess
    ? async (body: Uint8Array, headers: Record<string, string>) =>
        (await endpoint(edgeRequest(body, headers))).status
    : (body: Uint8Array, headers: Record<string, string>) => put(port, body, headers);
  return {
    async checkins() {
      ok(await send(authenticate.body, authenticate.headers));
      ok(await send(token.body, token.headers));
    },
    async idle() {
      ok(await send(idleBody, idleHeaders));
    },
    async close() {
      await new Promise((r) => server.close(r));
      await core.close();
      await storage.close();
    },
  };
}

function median(rates: Rate[], name: string): Rate {
  const sorted = [...rates].sort((a, b) => a.opsPerSec - b.opsPerSec);
  const mid = sorted[Math.floor(sorted.length / 2)] as Rate;
  return { ...mid, name: `${name} (median of ${rates.length})` };
}

function middle(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Medians of the per-repetition ratios new/baseline, by wall time and by CPU time (client and
 * server share the process): less sensitive than the ratio of medians to load that drifts.
 */
function pairedRatios(before: Rate[], after: Rate[]): string {
  const wall = before.map((b, i) => (after[i]?.opsPerSec ?? Number.NaN) / b.opsPerSec);
  const cpu = before.map((b, i) => (after[i]?.opsPerCpuSec ?? Number.NaN) / b.opsPerCpuSec);
  const verdict = middle(wall) >= 0.97 ? 'met' : 'MISSED';
  return `paired medians of new/baseline: wall ${middle(wall).toFixed(3)} (goal 0.97 ${verdict}), CPU ${middle(cpu).toFixed(3)}`;
}

const WORKLOADS = [
  ['Authenticate + TokenUpdate check-ins', (s: Subject) => s.checkins()],
  ['Idle command report, empty queue', (s: Subject) => s.idle()],
] as const;

/** Runs the benchmark and prints one table per workload. */
export default async function run(): Promise<void> {
  const [baseline, current] = await Promise.all([
    loadTree(baselineSrc()),
    loadTree(join(root, 'src')),
  ]);
  const testCa = await createTestCa();
  const identity = await issueDeviceIdentity(testCa, 'bench-edge');
  const ca = testCa.certificate;
  // Whole stack before and after, and the edge alone: both listeners over today's core.
  const pairs = [
    [
      'whole stack',
      await startSubject(baseline, baseline, ca, identity),
      await startSubject(current, current, ca, identity),
    ],
    [
      'edge only, same core',
      await startSubject(baseline, current, ca, identity),
      await startSubject(current, current, ca, identity),
    ],
    [
      'edge only, in process (no socket)',
      await startSubject(baseline, current, ca, identity, true),
      await startSubject(current, current, ca, identity, true),
    ],
  ] as const;
  const seconds = Math.max(0.2, benchSeconds / 2);
  for (const [what, before, after] of pairs) {
    for (const [title, fn] of WORKLOADS) {
      const rates: [Rate[], Rate[]] = [[], []];
      for (let i = 0; i < REPETITIONS; i++) {
        // Alternate which goes first, so drift over the run does not favour either.
        const order = i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
        for (const which of order) {
          const subject = which === 0 ? before : after;
          rates[which].push(await measure(String(which), () => fn(subject), seconds));
        }
      }
      report(`Device route over node:http, ${what}: ${title}`, median(rates[0], BASELINE_COMMIT), [
        { rate: median(rates[1], 'one edge (src/http)'), goal: 0.97 },
      ]);
      console.log(pairedRatios(rates[0], rates[1]));
    }
  }
  agent.destroy();
  for (const [, before, after] of pairs) await Promise.all([before.close(), after.close()]);
}

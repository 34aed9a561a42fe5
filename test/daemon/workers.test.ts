/**
 * `orchard serve --workers 2`: two processes serving one port over one SQLite file. Commands are
 * queued through the API and acknowledged by simulated devices over several connections while
 * worker 2 is SIGKILLed in the middle of the run: every command a device was told was
 * acknowledged is recorded, none is handed out again after its acknowledgement, the primary forks
 * worker 2 again, and the background jobs run in worker 1 only (the webhook retry is logged by
 * worker 1, each enrolled event is delivered once). Driven by counts, not timers; ORCHARD_SCALE
 * multiplies devices and commands.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newTopic } from '../push/pki.js';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import {
  commandOf,
  type DeviceEmulator,
  type EmulatorResponse,
} from '../support/device-emulator.js';
import { pushCertificateArgs, scepEnroller, type ScepEnroller } from './scep-enroll.js';

const SCALE = Math.max(1, Number(process.env.ORCHARD_SCALE ?? '1') || 1);
const DEVICES = Math.round(6 * SCALE);
const COMMANDS_PER_DEVICE = Math.round(5 * SCALE);
/** Worker 2 is killed once this many acknowledgements have come back. */
const KILL_AFTER = Math.max(3, Math.round((DEVICES * COMMANDS_PER_DEVICE) / 3));
/** Attempts per request: a request cut by the kill is sent again. */
const ATTEMPTS = 20;

const topic = newTopic();
const secret = randomBytes(32).toString('base64url');
/** Deliveries by enrollment id (enrolled events only). */
const enrolledEvents = new Map<string, number>();
let refusedOnce = false;
let receiver: Server;
let d: TestDaemon;
let enroller: ScepEnroller;

interface ClusterLine {
  component?: string;
  worker?: number;
  pid?: number;
  msg?: string;
}

function lines(): ClusterLine[] {
  return d.stdout.flatMap((l) => {
    try {
      return [JSON.parse(l) as ClusterLine];
    } catch {
      return [];
    }
  });
}

/** The pids the primary reported for worker `index`, in order. */
function pidsOf(index: number): number[] {
  return lines()
    .filter((l) => l.component === 'cluster' && l.msg === 'worker listening')
    .filter((l) => l.worker === index)
    .map((l) => l.pid ?? 0);
}

async function until(what: string, ok: () => boolean, tries = 600): Promise<void> {
  for (let i = 0; i < tries && !ok(); i++) await sleep(50);
  if (!ok()) throw new Error(`${what}: not reached\n${d.stdout.slice(-20).join('\n')}`);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The first delivery fails once: its retry is logged by the worker delivering webhooks.
      if (!refusedOnce) {
        refusedOnce = true;
        res.writeHead(500).end();
        return;
      }
      if (req.headers['orchard-event-type'] === 'enrolled') {
        const id = (JSON.parse(Buffer.concat(chunks).toString()) as { enrollmentId: string })
          .enrollmentId;
        enrolledEvents.set(id, (enrolledEvents.get(id) ?? 0) + 1);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  d = await spawnDaemon({
    args: [
      ...['--workers', '2', '--rate-limit', 'off', '--webhook-url', hook],
      ...(await pushCertificateArgs(topic)),
    ],
    env: { ORCHARD_WEBHOOK_SECRET: secret },
  });
  await until('worker 2 listening', () => pidsOf(2).length > 0);
  enroller = await scepEnroller({ url: d.url, api: (...a) => d.api(...a), topic });
}, 120_000);

afterAll(async () => {
  await d.cleanup();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

/** `send`, again after a connection cut by the kill (a device retries the same way). */
async function retried(send: () => Promise<EmulatorResponse>): Promise<EmulatorResponse> {
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    try {
      return await send();
    } catch (error) {
      last = error;
      await sleep(20);
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

interface Run {
  acknowledged: Set<string>;
  /** Commands handed out again after the device was told their acknowledgement was recorded. */
  again: string[];
  unexpected: string[];
  kill: Promise<void> | undefined;
}

function killWorker2(): Promise<void> {
  const pid = pidsOf(2)[0] ?? 0;
  process.kill(pid, 'SIGKILL');
  return until('worker 2 forked again', () => pidsOf(2).length > 1);
}

/** One device answers every command it is handed until its queue is empty. */
async function drain(run: Run, device: DeviceEmulator): Promise<void> {
  const own = new Set<string>();
  let res = await retried(() => device.idle());
  for (let step = 0; step < COMMANDS_PER_DEVICE * 4; step++) {
    if (res.status !== 200) run.unexpected.push(`status ${res.status}`);
    const command = commandOf(res);
    if (command === undefined) return;
    if (own.has(command.uuid)) run.again.push(command.uuid);
    res = await retried(() => device.answer(command.uuid, 'Acknowledged', { ProfileList: [] }));
    if (res.status !== 200) continue;
    own.add(command.uuid);
    run.acknowledged.add(command.uuid);
    if (run.kill === undefined && run.acknowledged.size >= KILL_AFTER) run.kill = killWorker2();
    // The answer to a result may carry the next command; an empty one means poll again.
    if (commandOf(res) === undefined) res = await retried(() => device.idle());
  }
}

describe('orchard serve --workers 2', () => {
  test('ok/acknowledged results survive a SIGKILLed worker, none twice; background jobs in worker 1', async () => {
    const devices: DeviceEmulator[] = [];
    for (let i = 0; i < DEVICES; i++) devices.push((await enroller.enrollDevice()).device);
    const queued = new Map<string, string>();
    for (const device of devices)
      for (let c = 0; c < COMMANDS_PER_DEVICE; c++) {
        const res = await d.api('POST', `/api/v1/enrollments/${device.enrollmentId}/commands`, {
          RequestType: 'ProfileList',
        });
        expect(res.status).toBe(201);
        queued.set(res.body.commandUuid as string, device.enrollmentId);
      }

    const run: Run = { acknowledged: new Set(), again: [], unexpected: [], kill: undefined };
    await Promise.all(devices.map((device) => drain(run, device)));
    await run.kill;

    expect(run.kill).toBeDefined();
    expect(run.unexpected).toEqual([]);
    expect(run.again).toEqual([]);
    expect(run.acknowledged.size).toBe(queued.size);
    // Every acknowledgement a device was told of is in the database, read back through the API.
    for (const device of devices) {
      const res = await d.api('GET', `/api/v1/enrollments/${device.enrollmentId}/commands`);
      const statuses = (res.body.items as { commandUuid: string; status: string }[]).map(
        (c) => [c.commandUuid, c.status] as const,
      );
      for (const [uuid, status] of statuses)
        if (run.acknowledged.has(uuid)) expect([uuid, status]).toEqual([uuid, 'Acknowledged']);
    }
    // Both workers serve. The kernel spreads connections, and the devices' few kept-alive ones
    // may all have gone to worker 1: new connections, one request each, until worker 2 has
    // answered one too (bounded by count; each lands on either worker).
    const servedBy = (worker: number): boolean =>
      lines().some((l) => l.msg === 'request' && l.worker === worker);
    for (let i = 0; i < 200 && !servedBy(2); i++) {
      const res = await fetch(`${d.url}/healthz`, { headers: { connection: 'close' } });
      await res.arrayBuffer();
      if (i % 20 === 19) await sleep(150); // request lines reach stdout within 100 ms
    }
    await until('a request line from each worker', () => servedBy(1) && servedBy(2));
    const [first, second] = pidsOf(2);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);

    // Webhooks are delivered by worker 1 alone: its retry is logged there, never in worker 2.
    await until('every enrolled event delivered', () => enrolledEvents.size === DEVICES);
    const retries = lines().filter((l) => l.msg === 'webhook retry');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((l) => l.worker === 1)).toBe(true);
    expect([...enrolledEvents.values()].every((n) => n === 1)).toBe(true);
  }, 240_000);

  test('ok/workers run with the daemon node flags (the young generation sized for load)', () => {
    for (const index of [1, 2]) {
      const pid = pidsOf(index).at(-1) ?? 0;
      const argv = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').split('\0');
      for (const flag of DAEMON_NODE_FLAGS) expect(argv).toContain(flag);
    }
  });

  test('ok/SIGTERM to the primary drains both workers and exits 0', async () => {
    expect(await d.kill('SIGTERM')).toBe(0);
    const stopped = lines().filter((l) => l.msg === 'stopped');
    expect(stopped.filter((l) => l.worker === 1)).toHaveLength(1);
    expect(stopped.filter((l) => l.worker === 2)).toHaveLength(1);
    expect(stopped.filter((l) => l.component === 'cluster')).toHaveLength(1);
  }, 60_000);

  test('fail/worker 1 unable to start (an unreadable push certificate): the primary exits with its code', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orchard-workers-'));
    const child = spawn(
      process.execPath,
      [
        ...['bin/orchard', 'serve', '--workers', '2', '--listen', '127.0.0.1:0'],
        ...['--data-dir', dataDir, '--ca-key-type', 'rsa-2048'],
        ...[
          '--push-cert',
          join(dataDir, 'missing.pem'),
          '--push-key',
          join(dataDir, 'missing.key'),
        ],
      ],
      {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(stderr).toContain('--push-cert');
    expect(stdout).toContain('"msg":"worker failed to start"');
    expect(stdout).not.toContain('"msg":"worker listening"');
  }, 60_000);
});

/**
 * What the sim benchmark's rows share: `orchard sim --demo`'s setup with the daemon in a child
 * process (`sim-daemon.ts`) and the simulator's APNs endpoint and devices in this one, so each
 * side has a core; pre-enrolled devices (see `sim-daemon.ts`); device sessions started by pushes,
 * at most `limit` at once; the admin API; and read-only queries of the daemon's database.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { simAdminApi } from '../src/cli/sim-api.js';
import { download, openProfile, readEnrollmentProfile } from '../src/sim/enroll.js';
import {
  createSimApns,
  createSimDevice,
  type SimApns,
  type SimDeviceHandle,
  type SimSessionResult,
} from '../src/sim/index.js';
import type { SeedDevice, SimDaemonReply, SimDaemonRequest } from './sim-daemon.js';
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js';

/** A daemon in a child process and the APNs endpoint it pushes to, in this process. */
export interface SimBench {
  url: string;
  apiKey: string;
  apns: SimApns;
  /** The daemon's SQLite file, for read-only checks of what it recorded. */
  databasePath: string;
  /** Where pushes go: the token's handler, else `fallback`. */
  onPush: Map<string, () => void>;
  fallback: { push: (token: string) => void };
  /** CPU seconds (user + system) the daemon's process has used so far. */
  daemonCpuSeconds(): Promise<number>;
  /** Pre-enrolls `count` devices with keys of `keys` (see `sim-daemon.ts`). */
  preEnroll(count: number, keys: readonly KeyObject[]): Promise<SimDeviceHandle[]>;
  /** Sends a JSON request to the admin API; throws unless it answers `expect`. */
  api(method: string, path: string, body: unknown, expect: number): Promise<unknown>;
  close(): Promise<void>;
}

/** Waits for the child's next reply of `type` (one request at a time). */
function reply<T extends SimDaemonReply['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<SimDaemonReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: SimDaemonReply): void => {
      if (m.type !== type && m.type !== 'error') return;
      done();
      if (m.type === 'error') reject(new Error(`sim daemon: ${m.message}`));
      else resolve(m as Extract<SimDaemonReply, { type: T }>);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`sim daemon exited (${String(code)}) before answering ${type}`));
    };
    const done = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Starts the APNs endpoint here and a daemon pointed at it in a child process; `extraFlags`
 * (daemon flags, e.g. `{ 'keep-alive-timeout': '1s' }`) override the defaults, for experiments.
 */
export async function startSimBench(extraFlags: Record<string, string> = {}): Promise<SimBench> {
  const dir = await mkdtemp(join(tmpdir(), 'orchard-sim-bench-'));
  const onPush = new Map<string, () => void>();
  const fallback = { push: (_token: string): void => undefined };
  const apns = await createSimApns({
    onPush: (token) => {
      const handler = onPush.get(token.toLowerCase());
      if (handler === undefined) fallback.push(token);
      else handler();
    },
  });
  const topic = `com.apple.mgmt.External.${randomUUID()}`;
  const identity = await apns.issuePushIdentity(topic);
  const file = (name: string): string => join(dir, name);
  await writeFile(file('push.pem'), identity.certPem);
  await writeFile(file('push.key'), identity.keyPem, { mode: 0o600 });
  await writeFile(file('apns-ca.pem'), apns.caPem);
  const apiKey = randomBytes(32).toString('base64url');
  const flags = {
    ...{ listen: '127.0.0.1:0', 'data-dir': file('data'), 'api-key': apiKey },
    ...{ 'push-cert': file('push.pem'), 'push-key': file('push.key') },
    ...{ 'apns-url': apns.url, 'apns-ca': file('apns-ca.pem'), 'ca-key-type': 'rsa-2048' },
    ...{ 'log-level': 'silent', 'rate-limit': 'off', 'max-connections': '20000' },
    ...extraFlags,
  };
  const script = fileURLToPath(new URL('./sim-daemon.ts', import.meta.url));
  const child = fork(script, [JSON.stringify(flags)], {
    execArgv: [...DAEMON_NODE_FLAGS, '--import', 'tsx'],
  });
  const request = <T extends SimDaemonReply['type']>(message: SimDaemonRequest, type: T) => {
    const answer = reply(child, type);
    child.send(message);
    return answer;
  };
  let ready: Extract<SimDaemonReply, { type: 'ready' }>;
  try {
    ready = await reply(child, 'ready');
  } catch (error) {
    await apns.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const url = ready.url;
  const api = async (method: string, path: string, body: unknown, expect: number) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  let closing: Promise<void> | undefined;
  return {
    ...{ url, apiKey, apns, databasePath: ready.databasePath, onPush, fallback, api },
    async daemonCpuSeconds() {
      const { cpu } = await request({ type: 'cpu' }, 'cpu');
      return (cpu.user + cpu.system) / 1e6;
    },
    async preEnroll(count, keys) {
      const link = await simAdminApi(url, apiKey).mintEnrollmentUrl();
      const { mdm } = readEnrollmentProfile(openProfile(await download(fetch, link)));
      if (mdm === undefined) throw new Error('the enrollment profile has no MDM payload');
      const pems = keys.map((k) => k.export({ format: 'pem', type: 'pkcs8' }).toString());
      const devices = Array.from({ length: count }, () =>
        createSimDevice({ platform: 'iOS', osVersion: '18.1' }),
      );
      const seeds: SeedDevice[] = devices.map((d, i) => ({
        ...{ udid: d.udid, serial: d.serialNumber, osVersion: '18.1', key: i % keys.length },
        ...{ token: d.pushToken, pushMagic: d.pushMagic },
      }));
      const message = { type: 'seed' as const, topic, keys: pems, devices: seeds };
      const { certificates } = await request(message, 'seeded');
      devices.forEach((d, i) => {
        const certificate = new X509Certificate(Buffer.from(certificates[i] ?? '', 'base64'));
        d.adopt({ identity: { certificate, privateKey: keys[i % keys.length] as KeyObject }, mdm });
        apns.register(d.pushToken);
      });
      return devices;
    },
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          await request({ type: 'close' }, 'closed').catch(() => undefined);
          await Promise.race([exited, sleep(5000)]);
          child.kill();
        }
        await apns.close();
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

/** What the sessions of one device reported. */
export interface DeviceTally {
  sessions: number;
  /** Commands answered, by RequestType. */
  requestTypes: Record<string, number>;
  errors: string[];
  /** Requests sent again after a connection reset (not errors). */
  retries: number;
}

/** Device sessions started by pushes (or `connect`), at most `limit` at once. */
export interface SessionRunner {
  /** A push reached `device`: it connects (once more after its current session, if any). */
  connect(device: SimDeviceHandle): void;
  /** Resolves when no session runs or waits. */
  settled(): Promise<void>;
  tally(device: SimDeviceHandle): DeviceTally;
  /** Every device's tallies added up so far (errors: the first five), cheap to read. */
  readonly totals: DeviceTally;
}

/** Creates a runner of device sessions, `limit` at a time, in push order. */
export function createSessionRunner(limit: number): SessionRunner {
  const queue: SimDeviceHandle[] = [];
  let head = 0;
  let active = 0;
  const state = new Map<SimDeviceHandle, 'queued' | 'running' | 'again'>();
  const tallies = new Map<SimDeviceHandle, DeviceTally>();
  const waiters: (() => void)[] = [];
  const tally = (d: SimDeviceHandle): DeviceTally => {
    let t = tallies.get(d);
    if (t === undefined)
      tallies.set(d, (t = { sessions: 0, requestTypes: {}, errors: [], retries: 0 }));
    return t;
  };
  const totals: DeviceTally = { sessions: 0, requestTypes: {}, errors: [], retries: 0 };
  let errorCount = 0;
  const error = (d: SimDeviceHandle, message: string): void => {
    tally(d).errors.push(message);
    if (errorCount++ < 5) totals.errors.push(message);
  };
  const record = (d: SimDeviceHandle, r: SimSessionResult): void => {
    for (const t of [tally(d), totals]) {
      t.sessions++;
      for (const [type, n] of Object.entries(r.requestTypes))
        t.requestTypes[type] = (t.requestTypes[type] ?? 0) + n;
      t.retries += r.retries ?? 0;
    }
    for (const message of r.errors) error(d, message);
  };
  const finish = (d: SimDeviceHandle): void => {
    active--;
    if (state.get(d) === 'again') {
      state.set(d, 'queued');
      queue.push(d);
    } else state.delete(d);
    pump();
    if (active === 0 && head === queue.length) for (const w of waiters.splice(0)) w();
  };
  const pump = (): void => {
    while (active < limit && head < queue.length) {
      const d = queue[head++] as SimDeviceHandle;
      active++;
      state.set(d, 'running');
      d.connect().then(
        (r) => {
          record(d, r);
          finish(d);
        },
        (failure: unknown) => {
          error(d, `connect: ${String(failure)}`);
          finish(d);
        },
      );
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };
  return {
    connect(d) {
      const s = state.get(d);
      if (s === 'running') state.set(d, 'again');
      else if (s === undefined) {
        state.set(d, 'queued');
        queue.push(d);
        pump();
      }
    },
    settled() {
      if (active === 0 && head === queue.length) return Promise.resolve();
      return new Promise((resolve) => {
        waiters.push(resolve);
      });
    },
    tally,
    totals,
  };
}

/** Read-only queries of the daemon's SQLite file (it is in WAL mode; reads never block it). */
export function openRecords(path: string): {
  /** Targets of the commands by status. */
  targetStatuses(uuids: readonly string[]): Record<string, number>;
  /** Device-profile records of the library profile by state. */
  profileStates(profileId: string): Record<string, number>;
  close(): void;
} {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const count = (sql: string, ...params: unknown[]): Record<string, number> =>
    Object.fromEntries(
      (db.prepare(sql).all(...params) as { k: string; n: number }[]).map((r) => [r.k, r.n]),
    );
  return {
    targetStatuses: (uuids) =>
      count(
        `SELECT status AS k, count(*) AS n FROM command_targets
         WHERE command_uuid IN (SELECT value FROM json_each(?)) GROUP BY status`,
        JSON.stringify(uuids),
      ),
    profileStates: (profileId) =>
      count(
        'SELECT state AS k, count(*) AS n FROM orchard_device_profiles WHERE profile_id = ? GROUP BY state',
        profileId,
      ),
    close: () => {
      db.close();
    },
  };
}

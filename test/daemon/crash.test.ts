/**
 * Crash safety, driven by counts and seeds instead of timers. Four clients run a seeded random
 * sequence of writes: admin writes (queue a command, create an enrollment token), device
 * check-ins (Authenticate and TokenUpdate of new devices, TokenUpdate of known ones) and command
 * results (a device polls and acknowledges its next command). The daemon is SIGKILLed the moment
 * the N-th write is acknowledged, N drawn from the seed, while the others are in flight. The
 * database must then pass SQLite's integrity check, and after a restart every acknowledged write
 * must be there. Two rounds on the same data dir.
 *
 * Seeds: ORCHARD_CRASH_SEEDS (comma-separated integers), default two fixed ones; each is in its
 * test's name. ORCHARD_SCALE multiplies the length of the sequence.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { newTopic } from '../push/pki.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { commandOf, DeviceEmulator } from '../support/device-emulator.js';
import { pushCertificateArgs, scepEnroller, type ScepEnroller } from './scep-enroll.js';

const SEEDS = (process.env.ORCHARD_CRASH_SEEDS ?? '20261206,977')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isSafeInteger(n));
const SCALE = Math.max(1, Number(process.env.ORCHARD_SCALE ?? '1') || 1);
const CLIENTS = 4;
const OPS_PER_CLIENT = Math.round(25 * SCALE);
/** The kill comes after at least this many acknowledged writes, so several are in flight. */
const MIN_KILL = 5;
// Enrollment links are only handed out with a push certificate; APNs itself is unreachable.
const TOPIC = newTopic();

let d: TestDaemon;
let enroller: ScepEnroller;

beforeAll(async () => {
  // Every new device fetches a link's profile and asks SCEP: no per-address limit on those.
  d = await spawnDaemon({ args: [...(await pushCertificateArgs(TOPIC)), '--rate-limit', 'off'] });
  enroller = await scepEnroller({ url: d.url, api: (...a) => d.api(...a), topic: TOPIC });
}, 90_000);

afterAll(async () => {
  await d.cleanup();
});

/** mulberry32: a small seeded PRNG, so a seed replays the same sequence of choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One acknowledged write: what the client was told was done. */
type Ack =
  | { kind: 'command'; uuid: string }
  | { kind: 'result'; uuid: string; enrollmentId: string }
  | { kind: 'authenticate'; enrollmentId: string }
  | { kind: 'tokenUpdate'; enrollmentId: string }
  | { kind: 'token'; id: string };

/** A round: counts acknowledgements and kills the daemon at the chosen one. */
class Round {
  readonly acks: Ack[] = [];
  /** Answers that were not what a healthy daemon gives (connection errors after the kill are not). */
  readonly unexpected: string[] = [];
  killed: Promise<number | string> | undefined;

  constructor(readonly killAfter: number) {}

  get stopped(): boolean {
    return this.killed !== undefined;
  }

  /** Records an acknowledgement; a reply that raced the kill signal is still one. */
  ack(a: Ack): void {
    this.acks.push(a);
    if (!this.stopped && this.acks.length >= this.killAfter) this.killed = d.kill('SIGKILL');
  }

  /** Records a non-2xx answer (any time) or a failed request before the kill. */
  fault(what: string, status?: number): void {
    if (status !== undefined || !this.stopped) this.unexpected.push(`${what} ${status ?? ''}`);
  }
}

/**
 * A device with an identity from a fresh enrollment link over SCEP, before its Authenticate.
 * Those requests are writes too, but not counted: only the device's check-ins are.
 */
async function newDevice(): Promise<DeviceEmulator> {
  const identity = await enroller.certificateFor(await enroller.challengeFromLink());
  return new DeviceEmulator({ baseUrl: d.url, topic: TOPIC, identity });
}

type Op = (r: Round, device: DeviceEmulator, own: DeviceEmulator[]) => Promise<void>;

const queueCommand: Op = async (r, device) => {
  const res = await d.api('POST', `/api/v1/enrollments/${device.enrollmentId}/commands`, {
    RequestType: 'ProfileList',
  });
  if (res.status === 201) r.ack({ kind: 'command', uuid: res.body.commandUuid as string });
  else r.fault('queue command', res.status);
};

const answerCommand: Op = async (r, device) => {
  const poll = await device.idle();
  if (poll.status !== 200) {
    r.fault('Idle', poll.status);
    return;
  }
  const command = commandOf(poll);
  if (command === undefined) return; // nothing queued for this device right now
  const res = await device.answer(command.uuid, 'Acknowledged', { ProfileList: [] });
  if (res.status === 200)
    r.ack({ kind: 'result', uuid: command.uuid, enrollmentId: device.enrollmentId });
  else r.fault('Acknowledged', res.status);
};

const enrollNew: Op = async (r, device, own) => {
  const fresh = await newDevice();
  const auth = await fresh.authenticate();
  if (auth.status !== 200) {
    r.fault('Authenticate', auth.status);
    return;
  }
  r.ack({ kind: 'authenticate', enrollmentId: fresh.enrollmentId });
  const token = await fresh.tokenUpdate();
  if (token.status !== 200) {
    r.fault('TokenUpdate', token.status);
    return;
  }
  r.ack({ kind: 'tokenUpdate', enrollmentId: fresh.enrollmentId });
  own.push(fresh);
};

const tokenUpdate: Op = async (r, device) => {
  const res = await device.tokenUpdate();
  if (res.status === 200) r.ack({ kind: 'tokenUpdate', enrollmentId: device.enrollmentId });
  else r.fault('TokenUpdate', res.status);
};

const createToken: Op = async (r) => {
  const res = await d.api('POST', '/api/v1/enrollment-tokens', {});
  if (res.status === 201) r.ack({ kind: 'token', id: res.body.id as string });
  else r.fault('enrollment token', res.status);
};

/** Operations with their weights in the sequence. */
const OPS: [Op, number][] = [
  [queueCommand, 3],
  [answerCommand, 3],
  [enrollNew, 1],
  [tokenUpdate, 1],
  [createToken, 1],
];
const TOTAL_WEIGHT = OPS.reduce((n, [, w]) => n + w, 0);

function pick(random: () => number): Op {
  let x = random() * TOTAL_WEIGHT;
  for (const [op, w] of OPS) if ((x -= w) < 0) return op;
  return OPS[0]![0];
}

/** One client: its own devices (so no two clients answer for one device), its own sequence. */
async function client(r: Round, random: () => number, own: DeviceEmulator[]): Promise<void> {
  for (let i = 0; i < OPS_PER_CLIENT && !r.stopped; i++) {
    const op = pick(random);
    const device = own[Math.floor(random() * own.length)]!;
    try {
      await op(r, device, own);
    } catch (error) {
      r.fault(`request failed: ${String(error)}`);
      return; // after the kill: the connection died with the process
    }
  }
}

/** Two enrolled devices per client, each with two commands queued (not counted in the round). */
async function setUp(): Promise<DeviceEmulator[][]> {
  const clients: DeviceEmulator[][] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const own: DeviceEmulator[] = [];
    for (let i = 0; i < 2; i++) {
      const device = await newDevice();
      await device.enroll();
      for (let q = 0; q < 2; q++)
        expect(
          (
            await d.api('POST', `/api/v1/enrollments/${device.enrollmentId}/commands`, {
              RequestType: 'ProfileList',
            })
          ).status,
        ).toBe(201);
      own.push(device);
    }
    clients.push(own);
  }
  return clients;
}

/** Every item of a paginated admin list. */
async function listAll(path: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await d.api('GET', `${path}?limit=1000${q}`);
    expect(page.status).toBe(200);
    items.push(...(page.body.items as Record<string, unknown>[]));
    cursor = page.body.nextCursor as string | null;
  } while (cursor !== null);
  return items;
}

/** What is missing after the restart: one line per acknowledged write that did not survive. */
async function missing(acks: readonly Ack[]): Promise<string[]> {
  const audit = await listAll('/api/v1/audit');
  const audited = new Set(
    audit.map((e) => (e.detail as { commandUuid?: string }).commandUuid ?? e.target),
  );
  const tokens = new Set((await listAll('/api/v1/enrollment-tokens')).map((t) => t.id));
  const updates = new Map<string, number>();
  for (const a of acks)
    if (a.kind === 'tokenUpdate')
      updates.set(a.enrollmentId, (updates.get(a.enrollmentId) ?? 0) + 1);
  const lost: string[] = [];
  for (const a of acks) {
    if (a.kind === 'command') {
      const res = await d.api('GET', `/api/v1/commands/${a.uuid}`);
      if (res.status !== 200 || !audited.has(a.uuid)) lost.push(`command ${a.uuid}`);
    } else if (a.kind === 'result') {
      const res = await d.api('GET', `/api/v1/commands/${a.uuid}`);
      const target = ((res.body.targets ?? []) as { enrollmentId: string; status: string }[]).find(
        (t) => t.enrollmentId === a.enrollmentId,
      );
      if (target?.status !== 'Acknowledged') lost.push(`result ${a.uuid} (${target?.status})`);
    } else if (a.kind === 'token') {
      if (!tokens.has(a.id) || !audited.has(a.id)) lost.push(`enrollment token ${a.id}`);
    } else {
      const res = await d.api('GET', `/api/v1/enrollments/${a.enrollmentId}`);
      const e = res.body as { enrolled?: boolean; tokenUpdateCount?: number };
      if (res.status !== 200) lost.push(`${a.kind} ${a.enrollmentId} (${res.status})`);
      else if (a.kind === 'tokenUpdate' && e.enrolled !== true)
        lost.push(`enrolled ${a.enrollmentId}`);
    }
  }
  // Authenticate resets the count and TokenUpdate adds one: at least every acknowledged one counts.
  for (const [id, n] of updates) {
    const e = (await d.api('GET', `/api/v1/enrollments/${id}`)).body as {
      tokenUpdateCount: number;
    };
    if (!(e.tokenUpdateCount >= n))
      lost.push(`TokenUpdate count of ${id}: ${e.tokenUpdateCount} < ${n}`);
  }
  return lost;
}

describe('SIGKILL after N acknowledged writes', () => {
  test.each(SEEDS)(
    'ok/seed %d: the database is intact and every acknowledged write survives',
    async (seed) => {
      const random = prng(seed);
      const maxKill = Math.floor(0.6 * CLIENTS * OPS_PER_CLIENT);
      const killAfter = MIN_KILL + Math.floor(random() * (maxKill - MIN_KILL));
      const clients = await setUp();
      const round = new Round(killAfter);
      await Promise.all(clients.map((own, c) => client(round, prng(seed * 31 + c), own)));
      expect({ killAfter, stopped: round.stopped }).toEqual({ killAfter, stopped: true });
      expect(await round.killed).toBe('SIGKILL');
      expect(round.unexpected).toEqual([]);
      expect(round.acks.length).toBeGreaterThanOrEqual(killAfter);

      const db = new Database(join(d.dataDir, 'orchard.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      await d.restart();
      expect(await missing(round.acks)).toEqual([]);
    },
    180_000,
  );
});

/**
 * Issue 21's proof for several instances: two real daemons (child processes) on one PostgreSQL
 * database, simulated devices enrolled and driven round-robin through both (every request to the
 * next daemon), commands queued through both admin APIs. Checked after each phase: every queued
 * command reached every target and is stored Acknowledged with its result, no acknowledgement
 * was answered 200 twice for one command and device, no daemon delivered a command after its
 * acknowledgement was answered, no device was answered 401. Then one daemon is killed with
 * SIGKILL while devices poll and acknowledge, the run goes on through the survivor, the killed one
 * restarts, and the same holds. Cross-instance state: the CA from the database, a portal session,
 * a revocation, sealed values (command bodies, a bootstrap token) written by one and read by the
 * other; webhook events (`enrolled`, `command-result`) delivered at least once, with ids. The steps run in order and build on each other.
 *
 * Devices: 1,000 (`ORCHARD_SCALE` scales them, at least 50; under `CI` the default scale is 0.1).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  createKeyPool,
  createSimDevice,
  type SimDeviceHandle,
  type SimKeyPool,
} from '../../src/sim/index.js';
import {
  createWebAccounts,
  normaliseSerial,
  secretsKeyLocation,
  silentLogger,
} from '../../src/index.js';
import { openSealedPostgres } from '../../src/storage/postgres/index.js';
import { startTwoDaemons, type TwoDaemons } from '../support/two-daemons.js';

const SCALE = Number(process.env.ORCHARD_SCALE ?? (process.env.CI ? '0.1' : '1')) || 1;
const DEVICES = Math.max(50, Math.round(1000 * SCALE));
/** Devices talking at once (a busy 2-core machine runs the two daemons and this process). */
const CONCURRENCY = 8;
/** Passes over the fleet before a device that keeps failing fails the test. */
const MAX_PASSES = 6;

let two: TwoDaemons;
let keys: SimKeyPool;
const fleet: SimDeviceHandle[] = [];
/** Every command the test queued, with its targets. */
const queued: { uuid: string; targets: string[] }[] = [];

/** Webhook deliveries from both daemons: event id, type and body. */
const hooks: { id: string; type: string; body: Record<string, unknown> }[] = [];
let receiver: Server | undefined;

async function startReceiver(): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push({
        id: String(req.headers['orchard-event-id'] ?? ''),
        type: String(req.headers['orchard-event-type'] ?? ''),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.writeHead(204).end();
    });
  });
  receiver = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

beforeAll(async () => {
  const hook = await startReceiver();
  const webhook = ['--webhook-url', hook, '--webhook-secret', randomBytes(32).toString('hex')];
  [two, keys] = await Promise.all([startTwoDaemons('two', webhook), createKeyPool(1)]);
}, 120_000);

afterAll(async () => {
  await (two as TwoDaemons | undefined)?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/**
 * Waits (at most 1,200 short pauses) until a webhook event of `type` arrived for every key of
 * `keys` (`keyOf` gives an event's key), then expects none missing: at least once, whatever
 * daemon wrote the event and whatever daemon delivered it. Every delivery carries an event id,
 * and deliveries of one id carry one body (duplicates can be dropped by id).
 */
async function expectEventsFor(
  type: string,
  keys: readonly string[],
  keyOf: (body: Record<string, unknown>) => string,
): Promise<void> {
  const missing = () => {
    const seen = new Set(hooks.filter((h) => h.type === type).map((h) => keyOf(h.body)));
    return keys.filter((k) => !seen.has(k));
  };
  for (let i = 0; i < 1200 && missing().length > 0; i++) await sleep(100);
  expect(missing()).toEqual([]);
  expect(hooks.filter((h) => h.id === '')).toEqual([]);
  const bodies = new Map<string, string>();
  for (const h of hooks) {
    const body = JSON.stringify(h.body);
    expect([h.id, bodies.get(h.id) ?? body]).toEqual([h.id, body]);
    bodies.set(h.id, body);
  }
}

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Connects every device until each has had one session without errors (it then holds no
 * pending command), at most {@link MAX_PASSES} passes; `onSession` hears the running count.
 */
async function drive(
  devices: readonly SimDeviceHandle[],
  onSession: (done: number) => void = () => undefined,
): Promise<{ sessions: number; failedSessions: number }> {
  let pending = [...devices];
  let sessions = 0;
  let failedSessions = 0;
  for (let pass = 0; pass < MAX_PASSES && pending.length > 0; pass++) {
    const failed: SimDeviceHandle[] = [];
    await eachLimited(pending, CONCURRENCY, async (device) => {
      const session = await device.connect();
      sessions += 1;
      if (session.errors.length > 0) {
        failedSessions += 1;
        failed.push(device);
      }
      onSession(sessions);
    });
    pending = failed;
  }
  expect(pending.map((d) => d.enrollmentId)).toEqual([]);
  return { sessions, failedSessions };
}

/** Queues `command` to `ids` through daemon `via`'s admin API, 500 targets per call. */
async function queueThrough(
  via: 'a' | 'b',
  ids: readonly string[],
  command: Record<string, unknown>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const targets = ids.slice(i, i + 500);
    const res = await two[via].api('POST', '/api/v1/commands', {
      enrollmentIds: targets,
      command,
    });
    expect(res.status).toBe(201);
    queued.push({ uuid: res.body.commandUuid as string, targets });
  }
}

/**
 * The queue's promises over every command queued so far: each target stored Acknowledged with
 * a result; the balancer's journal has at most one acknowledgement answered 200 per command and
 * device, and none at all only where an acknowledgement went unanswered (a daemon died after
 * storing it); nothing delivered after its acknowledgement; no 401.
 */
async function expectQueueHeld(): Promise<void> {
  const uuids = queued.map((q) => q.uuid);
  const expected = queued.reduce((n, q) => n + q.targets.length, 0);
  const rows = await two.db.query<{ status: string; n: number; results: number }>(
    `SELECT status, count(*)::int AS n, count(result)::int AS results
       FROM command_targets WHERE command_uuid = ANY($1) GROUP BY status`,
    [uuids],
  );
  expect(rows).toEqual([{ status: 'Acknowledged', n: expected, results: expected }]);
  const { journal } = two.balancer;
  const twice = [...journal.acknowledged].filter(([, n]) => n > 1);
  expect(twice).toEqual([]);
  const missing = queued
    .flatMap((q) => q.targets.map((t) => `${q.uuid} ${t}`))
    .filter((key) => !journal.acknowledged.has(key) && !journal.unansweredKeys.has(key));
  expect(missing).toEqual([]);
  expect(journal.deliveredAfterAck).toEqual([]);
  expect(journal.unauthorized).toBe(0);
}

describe(`two daemons on one database, ${DEVICES} devices`, () => {
  test('ok/the second daemon took the CA and signing identity from the database', async () => {
    await two.a.waitForLine('"keyMaterial":"uploaded"');
    await two.b.waitForLine('"keyMaterial":"downloaded"');
    const [caA, caB] = await Promise.all(
      [two.a, two.b].map(async (d) =>
        Buffer.from(await (await fetch(`${d.url}/scep?operation=GetCACert`)).arrayBuffer()),
      ),
    );
    expect(caA?.length).toBeGreaterThan(0);
    expect(caB?.equals(caA!)).toBe(true);
  });

  test(`ok/${DEVICES} devices enroll round-robin (link from A, SCEP and check-ins on both)`, async () => {
    const link = await two.a.api('POST', '/api/v1/enrollment-tokens', { singleUse: false });
    expect(link.status).toBe(201);
    const devices = Array.from({ length: DEVICES }, () =>
      createSimDevice({ platform: 'iOS', osVersion: '18.1', keys, fetch: two.balancer.fetch }),
    );
    await eachLimited(devices, CONCURRENCY, (d) => d.enroll({ url: link.body.url as string }));
    fleet.push(...devices);
    const [row] = await two.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM enrollments WHERE id = ANY($1) AND enrolled`,
      [devices.map((d) => d.enrollmentId)],
    );
    expect(row?.n).toBe(DEVICES);
    const { requests } = two.balancer.journal;
    expect(Math.min(requests.a ?? 0, requests.b ?? 0)).toBeGreaterThan(DEVICES);
    await expectEventsFor(
      'enrolled',
      devices.map((d) => d.enrollmentId),
      (b) => String(b.enrollmentId),
    );
  }, 300_000);

  test('ok/commands queued through both admin APIs are each acknowledged once and stored', async () => {
    const ids = fleet.map((d) => d.enrollmentId);
    await queueThrough('a', ids, { RequestType: 'DeviceInformation', Queries: ['DeviceName'] });
    await queueThrough('b', ids, { RequestType: 'ProfileList' });
    await drive(fleet);
    await expectQueueHeld();
  }, 300_000);

  test('ok/SIGKILL of one daemon mid-run: the survivor and the restarted one lose and repeat nothing', async () => {
    const ids = fleet.map((d) => d.enrollmentId);
    await queueThrough('a', ids, { RequestType: 'DeviceInformation', Queries: ['Model'] });
    await queueThrough('b', ids, { RequestType: 'ProfileList' });
    const events: Promise<void>[] = [];
    let killed: number | string | undefined;
    const { journal } = two.balancer;
    const kill = async () => {
      killed = await two.a.kill('SIGKILL');
      // As a load balancer would, it takes A out once requests to it failed.
      for (let i = 0; i < 500 && (journal.unreachable.a ?? 0) === 0; i++) await sleep(10);
      two.balancer.setUp('a', false);
      // The survivor takes the admin API too: more work queued while A is down.
      await queueThrough('b', ids, { RequestType: 'CertificateList' });
    };
    const restart = async () => {
      await events[0];
      await two.a.restart();
      two.balancer.setUp('a', true);
    };
    const result = await drive(fleet, (done) => {
      if (done === Math.ceil(DEVICES / 3)) events.push(kill());
      if (done === Math.ceil((2 * DEVICES) / 3)) events.push(restart());
    });
    await Promise.all(events);
    expect(killed).toBe('SIGKILL');
    // Work queued while A was down reaches devices that already had their session then.
    await drive(fleet);
    await expectQueueHeld();
    expect(result.sessions).toBeGreaterThanOrEqual(DEVICES);
    // Devices did meet the dead daemon: their sessions failed and were repeated.
    expect(journal.unreachable.a).toBeGreaterThan(0);
    expect(result.failedSessions).toBeGreaterThan(0);
    // Every stored result's event arrives at least once, those A claimed before it died included
    // (once their lease ran out): a result and its event are stored in one transaction.
    await expectEventsFor(
      'command-result',
      queued.flatMap((q) => q.targets.map((t) => `${q.uuid} ${t}`)),
      (b) => `${String(b.commandUuid)} ${String(b.enrollmentId)}`,
    );
    if (process.env.ORCHARD_TWO_REPORT)
      console.log({
        result,
        events: hooks.length,
        distinctEvents: new Set(hooks.map((h) => h.id)).size,
        unreachable: journal.unreachable,
        unanswered: journal.unansweredKeys.size,
        requests: journal.requests,
      });
    // A's stdout after the restart: it listens again on the same database.
    expect(two.a.stdout.filter((l) => l.includes('"msg":"listening"'))).toHaveLength(2);
  }, 300_000);
});

describe('state shared between the two daemons', () => {
  test('ok/a command body sealed by A is read back by B', async () => {
    const device = fleet[0]!;
    const res = await two.a.api('POST', `/api/v1/enrollments/${device.enrollmentId}/commands`, {
      RequestType: 'DeviceInformation',
      Queries: ['SerialNumber'],
    });
    expect(res.status).toBe(201);
    const uuid = res.body.commandUuid as string;
    const [stored] = await two.db.query<{ body: Buffer }>(
      'SELECT body FROM commands WHERE uuid = $1',
      [uuid],
    );
    expect(stored?.body.includes(Buffer.from('SerialNumber'))).toBe(false);
    const read = await two.b.api('GET', `/api/v1/commands/${uuid}?encoding=readable`);
    expect(read.status).toBe(200);
    expect(read.body.command.Command).toMatchObject({ Queries: ['SerialNumber'] });
    const session = await createSessionOn(device);
    expect(session).toEqual({ DeviceInformation: 1 });
  });

  test('ok/a bootstrap token escrowed through A is handed back by B', async () => {
    let route = two.balancer.only('a');
    const mac = createSimDevice({
      ...{ platform: 'macOS', osVersion: '15.1', supervised: true, keys },
      fetch: (input, init) => route(input, init),
    });
    const link = await two.a.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    await mac.enroll({ url: link.body.url as string });
    expect(mac.bootstrapToken).toBeDefined();
    route = two.balancer.only('b');
    const back = await mac.getBootstrapToken();
    expect(Buffer.from(back ?? []).equals(Buffer.from(mac.bootstrapToken!))).toBe(true);
  });

  test('fail/a certificate revoked through A is refused by B on the next request (400, never 401)', async () => {
    let route = two.balancer.only('b');
    const device = createSimDevice({
      ...{ platform: 'iOS', osVersion: '18.1', keys },
      fetch: (input, init) => route(input, init),
    });
    const link = await two.a.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    await device.enroll({ url: link.body.url as string });
    expect((await device.connect()).errors).toEqual([]);
    const serial = normaliseSerial(device.certificate!.serialNumber);
    const revoked = await two.a.api('POST', `/api/v1/certificates/${serial}/revoke`, {});
    expect(revoked.status).toBe(200);
    const refused = await device.connect();
    expect(refused.errors).toEqual(['server answered 400 to a poll']);
    route = two.balancer.only('a');
    expect((await device.connect()).errors).toEqual(['server answered 400 to a poll']);
    expect(two.balancer.journal.unauthorized).toBe(0);
  });

  test('ok/a portal session made on A works on B, and signing out on B ends it on A', async () => {
    const user = await two.a.api('POST', '/api/v1/users', {
      username: 'ann',
      email: 'ann@example.com',
      groupId: 'global',
    });
    expect(user.status).toBe(201);
    const password = 'a long enough password for ann';
    const { database } = await openSealedPostgres(
      secretsKeyLocation({ dataDir: two.a.dataDir, secretsKeyFile: two.secretsKeyFile }),
      { url: two.db.url },
      silentLogger,
    );
    try {
      const accounts = createWebAccounts({ store: database.admin });
      const token = await accounts.setupToken(user.body.id as string);
      expect(await accounts.setUserPassword(token, password)).toBeDefined();
    } finally {
      await database.close();
    }
    const signIn = await fetch(`${two.a.url}/portal/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: 'ann', password }),
    });
    expect(signIn.status).toBe(303);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^orchard_portal=.+/);
    const page = (url: string) =>
      fetch(`${url}/portal/`, { redirect: 'manual', headers: { cookie } });
    expect((await page(two.b.url)).status).toBe(200);
    const home = await (await page(two.b.url)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1];
    expect(csrf).toBeDefined();
    const out = await fetch(`${two.b.url}/portal/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf ?? '' }),
    });
    expect(out.status).toBe(303);
    expect((await page(two.a.url)).status).toBe(303);
  });
});

/** One session of `device` through the balancer; its request types. */
async function createSessionOn(device: SimDeviceHandle): Promise<Record<string, number>> {
  const session = await device.connect();
  expect(session.errors).toEqual([]);
  return session.requestTypes;
}

/**
 * The PostgreSQL command queue and outbox shared by two daemons: two stores, each with a pool of
 * its own, on one database. Results stored through both at once are stored once; outbox claims
 * from both never hand out one entry twice; polls for one enrollment through both agree on the
 * head of its queue; expiry and purges from both split the work and leave no orphan command.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.js';
import type { ReportStatus } from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let a: PostgresStorage;
let b: PostgresStorage;
const T0 = new Date('2026-06-01T10:00:00.000Z');
const clock = (): Date => new Date(T0.getTime());

beforeAll(async () => {
  db = await createTestDatabase('queue_race');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
  a = await createPostgresStorage({ url: db.url, clock, pool: { max: 4 } });
  b = await createPostgresStorage({ url: db.url, clock, pool: { max: 4 } });
});

afterEach(async () => {
  await Promise.all([a.close(), b.close()]);
});

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const body = (uuid: string): Uint8Array => encode(`<${uuid}>`);
const report = (uuid: string, status: ReportStatus, by: string) => ({
  uuid,
  status,
  result: encode(`${uuid}:${status}:${by}`),
});

describe('postgres command queue and outbox, two pools', () => {
  test.each<[string, ReportStatus, ReportStatus]>([
    ['ok/the same Acknowledged through both: one wins', 'Acknowledged', 'Acknowledged'],
    ['ok/Acknowledged and Error at once: one wins', 'Acknowledged', 'Error'],
  ])('%s, and its result is the one kept', async (_name, first, second) => {
    const uuids = Array.from({ length: 25 }, (_, i) => `cmd-${String(i).padStart(2, '0')}`);
    for (const uuid of uuids)
      await a.enqueue({ uuid, requestType: 'DeviceInformation', body: body(uuid) }, ['DEV']);
    for (const uuid of uuids) {
      const [wonA, wonB] = await Promise.all([
        a.storeResult('DEV', report(uuid, first, 'a')),
        b.storeResult('DEV', report(uuid, second, 'b')),
      ]);
      expect([wonA, wonB].filter(Boolean)).toHaveLength(1);
      const [target] = (await b.findCommand(uuid))?.targets ?? [];
      const winner = wonA ? report(uuid, first, 'a') : report(uuid, second, 'b');
      expect(target).toMatchObject({ status: winner.status, result: winner.result });
      // A third, later answer changes nothing either.
      expect(await a.storeResult('DEV', report(uuid, 'Error', 'late'))).toBe(false);
      expect((await a.findCommand(uuid))?.targets[0]?.result).toEqual(winner.result);
    }
  });

  test('ok/reportAndNext through both pools at once: one result each, no command lost, no deadlock left', async () => {
    // Two daemons serving one device that answers through both: each stores its report and
    // takes the next command in one transaction, locking the same rows in opposite orders at
    // times; a deadlock is retried, never surfaced.
    const uuids = Array.from({ length: 30 }, (_, i) => `rn-${String(i).padStart(2, '0')}`);
    for (const uuid of uuids)
      await a.enqueue({ uuid, requestType: 'DeviceInformation', body: body(uuid) }, ['DEV']);
    const now = clock();
    for (let i = 0; i < uuids.length; i += 2) {
      const [x, y] = [uuids[i] as string, uuids[i + 1] as string];
      const [ra, rb] = await Promise.all([
        a.reportAndNext!('DEV', report(x, 'Acknowledged', 'a'), { skipNotNow: true, now }),
        b.reportAndNext!('DEV', report(y, 'Acknowledged', 'b'), { skipNotNow: true, now }),
      ]);
      expect([ra.stored, rb.stored]).toEqual([true, true]);
      // Never a command answered in an earlier round. (Within a round either may hand out the
      // other's command, read before the other's report committed, as two separate calls could:
      // a real device has one request in flight.)
      for (const next of [ra.next, rb.next])
        if (next !== undefined) expect(uuids.slice(i)).toContain(next.uuid);
    }
    for (const uuid of uuids) {
      const [target] = (await a.findCommand(uuid))?.targets ?? [];
      expect(target?.status).toBe('Acknowledged');
    }
    expect(await a.nextCommand('DEV', { skipNotNow: false, now })).toBeUndefined();
  });

  test('ok/outbox claims from both pools at once never hand out one entry twice', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `ev-${String(i).padStart(2, '0')}`);
    for (const id of ids) {
      await a.enqueueEvent({ id, type: 'enrolled', payload: `{"id":"${id}"}`, createdAt: T0 });
    }
    const claimed: string[] = [];
    for (let round = 0; round < 20 && claimed.length < ids.length; round++) {
      const batches = await Promise.all([
        a.claimDue(4, T0, 60_000),
        b.claimDue(4, T0, 60_000),
        a.claimDue(3, T0, 60_000),
        b.claimDue(3, T0, 60_000),
      ]);
      for (const batch of batches) claimed.push(...batch.map((entry) => entry.id));
    }
    expect(claimed.sort()).toEqual(ids);
    for (const id of ids.slice(0, 5)) expect((await b.findOutboxEntry(id))?.attempts).toBe(1);
    expect(await b.claimDue(100, T0, 60_000)).toEqual([]);
  });

  test('ok/polls for one enrollment through both pools agree on the head of its queue', async () => {
    const past = new Date(T0.getTime() - 1);
    await a.enqueue({ uuid: 'c0', requestType: 'X', body: body('c0'), expiresAt: past }, ['DEV']);
    for (const uuid of ['c1', 'c2', 'c3', 'c4'])
      await b.enqueue({ uuid, requestType: 'X', body: body(uuid) }, ['DEV', 'OTHER']);
    const delivered: string[] = [];
    for (;;) {
      const [fromA, fromB] = await Promise.all([
        a.nextCommand('DEV', { skipNotNow: false, now: T0 }),
        b.nextCommand('DEV', { skipNotNow: false, now: T0 }),
      ]);
      expect(fromA?.uuid).toBe(fromB?.uuid);
      if (fromA === undefined) break;
      expect(fromA.body).toEqual(body(fromA.uuid));
      delivered.push(fromA.uuid);
      const stored = await Promise.all([
        a.storeResult('DEV', report(fromA.uuid, 'Acknowledged', 'a')),
        b.storeResult('DEV', report(fromA.uuid, 'Acknowledged', 'b')),
      ]);
      expect(stored.filter(Boolean)).toHaveLength(1);
    }
    expect(delivered).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect((await a.findCommand('c0'))?.targets[0]?.status).toBe('expired');
    const other = await a.listForEnrollment('OTHER', { limit: 10 });
    expect(other.items.map((item) => item.status)).toEqual([
      'queued',
      'queued',
      'queued',
      'queued',
    ]);
  });

  test('ok/expiry and purge from both pools split the batches and leave no orphan command', async () => {
    const ids = Array.from({ length: 4500 }, (_, i) => `DEV-${String(i).padStart(5, '0')}`);
    const lapsed = new Date(T0.getTime() + 1000);
    await a.enqueue({ uuid: 'bulk', requestType: 'X', body: body('bulk'), expiresAt: lapsed }, ids);
    await a.enqueue({ uuid: 'small', requestType: 'X', body: body('small') }, ids.slice(0, 3));
    const later = new Date(T0.getTime() + 5000);
    const expired = await Promise.all([a.expireCommands(later), b.expireCommands(later)]);
    expect(expired[0] + expired[1]).toBe(ids.length);
    expect(await a.expireCommands(later)).toBe(0);
    const purged = await Promise.all([a.purgeFinished(later), b.purgeFinished(later)]);
    expect(purged[0] + purged[1]).toBe(ids.length);
    expect(await a.findCommand('bulk')).toBeUndefined();
    expect((await a.findCommand('small'))?.targets).toHaveLength(3);
    const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM commands');
    expect(rows[0]?.n).toBe(1);
  });

  test('ok/a target canceled through one pool while the other polls is sent or canceled, never both', async () => {
    for (const uuid of ['c1', 'c2'])
      await a.enqueue({ uuid, requestType: 'X', body: body(uuid) }, ['DEV']);
    const [next, canceled] = await Promise.all([
      a.nextCommand('DEV', { skipNotNow: false, now: T0 }),
      b.clearQueue('DEV'),
    ]);
    const record = await a.findCommand('c1');
    if (next?.uuid === 'c1') expect(canceled).toBe(2);
    else expect(next).toBeUndefined();
    expect(record?.targets[0]?.status).toBe('canceled');
    expect(await b.nextCommand('DEV', { skipNotNow: false, now: T0 })).toBeUndefined();
  });
});

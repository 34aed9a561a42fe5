/**
 * Two daemons' worth of objects on one PostgreSQL database in one process (two pools, two
 * coordinations): rate limits hold across both (N daemons allow what one allows), singleton jobs
 * run on one daemon at a time and move on when their holder dies, notifications reach the other
 * daemon and a lost listener connection comes back by itself.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { sharedRateLimiter } from '../../src/http/rate-limit.js';
import { startDelivery } from '../../src/server/delivery.js';
import { createEventSink } from '../../src/service/events.js';
import { silentLogger } from '../../src/logger.js';
import type { Coordination } from '../../src/storage/ports.js';
import { pgCoordination, type PgCoordination } from '../../src/storage/postgres/coordination.js';
import { openPostgresDatabase, type PostgresDatabase } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import {
  deferred,
  sharedJobCases,
  sharedLimitCases,
  type SharedCoordinationContext,
} from './conformance.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('coordination');
});

afterAll(async () => {
  await db.drop();
});

interface Daemon {
  database: PostgresDatabase;
  coordination: PgCoordination;
}

let daemons: Daemon[] = [];
let t = Date.UTC(2026, 0, 1);
const now = (): number => t;

async function daemon(): Promise<Daemon> {
  const database = await openPostgresDatabase({ url: db.url, pool: { max: 4 } });
  const coordination = await pgCoordination(database.connection.pool, {
    url: db.url,
    reconnectMs: 50,
  });
  const d = { database, coordination };
  daemons.push(d);
  return d;
}

beforeEach(async () => {
  await db.reset();
  t = Date.UTC(2026, 0, 1);
});

afterEach(async () => {
  for (const d of daemons) {
    await d.coordination.close();
    await d.database.close();
  }
  daemons = [];
});

const shared: SharedCoordinationContext = {
  holders: 'daemons',
  pair: async () => [(await daemon()).coordination, (await daemon()).coordination],
  now,
  advance: (ms) => {
    t += ms;
  },
};

describe('shared rate limits', () => {
  sharedLimitCases(shared);

  test('ok/the local bucket refuses first without asking the database; an unreachable database leaves the local limit', async () => {
    const [a] = [await daemon()];
    let calls = 0;
    const counting: Coordination = {
      ...a.coordination,
      take: (bucket) => {
        calls++;
        return a.coordination.take(bucket);
      },
    };
    const limiter = sharedRateLimiter({
      ...{ perMinute: 2, scope: 'scep', coordination: counting, now },
    });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await limiter.take('k'));
    expect(answers.map((w) => w === undefined)).toEqual([true, true, false, false, false, false]);
    expect(calls).toBe(2);
    const failing: Coordination = {
      ...a.coordination,
      take: () => Promise.reject(new Error('database gone')),
    };
    const alone = sharedRateLimiter({ perMinute: 2, scope: 'scep', coordination: failing, now });
    expect([await alone.take('k'), await alone.take('k'), await alone.take('k')]).toEqual([
      undefined,
      undefined,
      30,
    ]);
  });

  test('ok/buckets that have refilled are swept, and a swept bucket starts full', async () => {
    const [a] = [await daemon()];
    const limiter = sharedRateLimiter({
      ...{ perMinute: 1, scope: 'enroll', coordination: a.coordination, now },
    });
    expect(await limiter.take('old')).toBeUndefined();
    t += 61_000;
    // The next take sweeps (at most once a minute per daemon) rows last used over a minute ago.
    expect(await limiter.take('new')).toBeUndefined();
    const keys = await db.query<{ key: string }>('SELECT key FROM orchard_rate_buckets');
    expect(keys).toEqual([{ key: 'new' }]);
    expect(await limiter.take('old')).toBeUndefined();
  });
});

describe('singleton jobs', () => {
  sharedJobCases(shared);

  test('ok/of two daemons one runs a job at a time; the other skips its tick, then runs the next', async () => {
    const [a, b] = [await daemon(), await daemon()];
    const inside = deferred();
    const release = deferred();
    const held = a.coordination.exclusive('profile-reconcile', async () => {
      inside.resolve();
      await release.promise;
      return 'a';
    });
    await inside.promise;
    let ran = 0;
    const delivery = {
      onEvent: () => Promise.resolve(),
      idle: () => Promise.resolve(),
      reconcileDue: () => {
        ran++;
        return Promise.resolve(3);
      },
    };
    const running = startDelivery({ events: createEventSink({ logger: silentLogger }) }, delivery, {
      ...{ clock: () => new Date(t), logger: silentLogger, coordination: b.coordination },
      tickMs: 3_600_000,
    });
    expect(await running.tick()).toBe(0);
    expect(ran).toBe(0);
    release.resolve();
    expect(await held).toEqual({ value: 'a' });
    expect(await running.tick()).toBe(3);
    expect(ran).toBe(1);
    await running.stop();
  });

  test('ok/a job whose holder dies is free at once for the other daemon', async () => {
    const [a, b] = [await daemon(), await daemon()];
    const inside = deferred();
    const release = deferred();
    const held = a.coordination
      .exclusive('identity-renewal', async () => {
        inside.resolve();
        await release.promise;
      })
      .catch((e: unknown) => e);
    await inside.promise;
    expect(await b.coordination.exclusive('identity-renewal', () => Promise.resolve(1))).toEqual({
      skipped: true,
    });
    // The holder's connection dies (SIGKILLed daemon, network cut): the server frees its lock.
    const killed = await db.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND database =
          (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(killed).toEqual([{ ok: true }]);
    let got: unknown = { skipped: true };
    for (let i = 0; i < 1000 && 'skipped' in (got as object); i++)
      got = await b.coordination.exclusive('identity-renewal', () => Promise.resolve(2));
    expect(got).toEqual({ value: 2 });
    release.resolve();
    await held;
  });
});

describe('notifications', () => {
  test('ok/a change on one daemon reaches the other, and a lost listener connection comes back and reports', async () => {
    const [a, b] = [await daemon(), await daemon()];
    let heard = deferred();
    let count = 0;
    a.coordination.listen('settings', () => {
      count++;
      heard.resolve();
    });
    await Promise.all([a.coordination.whenListening(), b.coordination.whenListening()]);
    await b.coordination.notify('settings');
    await heard.promise;
    expect(count).toBe(1);
    // The listener connections die; A's comes back by itself and reports once (what changed while
    // it was away is not known), then hears changes again.
    heard = deferred();
    const killed = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'orchard-listen' AND datname = current_database()`,
    );
    expect(killed.length).toBeGreaterThanOrEqual(2);
    await heard.promise;
    heard = deferred();
    await b.coordination.notify('settings');
    await heard.promise;
    expect(count).toBe(3);
    expect(a.coordination.listening).toBe(true);
  });

  test('ok/a daemon hears its own change at once, and other topics are not called', async () => {
    const [a] = [await daemon()];
    const calls: string[] = [];
    a.coordination.listen('one', () => calls.push('one'));
    const off = a.coordination.listen('two', () => calls.push('two'));
    off();
    calls.length = 0;
    await a.coordination.notify('one');
    expect(calls).toContain('one');
    expect(calls).not.toContain('two');
  });
});

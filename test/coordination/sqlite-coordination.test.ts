/**
 * The SQLite coordination (migration 13's tables), with two coordinations on two connections to
 * one file standing in for two processes (and a real child process for a crashed holder): rate
 * limits hold across both, singleton jobs run in one at a time, a lease is renewed while its job
 * runs and taken over once a crashed holder's lease expired, and notifications reach the other.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { sharedRateLimiter } from '../../src/http/rate-limit.js';
import { isInProcess } from '../../src/server/coordination.js';
import { startDelivery } from '../../src/server/delivery.js';
import { createEventSink } from '../../src/service/events.js';
import { silentLogger } from '../../src/logger.js';
import type { Coordination } from '../../src/storage/ports.js';
import {
  DEFAULT_LEASE_MS,
  openSqliteCoordination,
  type SqliteCoordinationOptions,
} from '../../src/storage/sqlite/coordination.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import {
  deferred,
  sharedJobCases,
  sharedLimitCases,
  type SharedCoordinationContext,
} from './conformance.js';

const ROOT = new URL('../..', import.meta.url).pathname;

let dir: string;
let path: string;
let opened: Coordination[] = [];
let t = Date.UTC(2026, 0, 1);
const now = (): number => t;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-coord-'));
  path = join(dir, 'orchard.db');
  // The file as a daemon leaves it: created and migrated.
  openSqliteAdminStore({ path }).close();
  t = Date.UTC(2026, 0, 1);
});

afterEach(async () => {
  for (const c of opened) await c.close();
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

/** One process's coordination: a connection of its own to the file, on the test's clock. */
function processOn(options: Partial<SqliteCoordinationOptions> = {}): Coordination {
  const c = openSqliteCoordination({ path, now, pollMs: 20, ...options });
  opened.push(c);
  return c;
}

function raw<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const shared: SharedCoordinationContext = {
  holders: 'processes',
  pair: () => Promise.resolve([processOn(), processOn()]),
  now,
  advance: (ms) => {
    t += ms;
  },
};

test('ok/the SQLite coordination is shared, not the in-process one', () => {
  expect(isInProcess(processOn())).toBe(false);
});

describe('shared rate limits', () => {
  sharedLimitCases(shared);

  test('ok/buckets that have refilled are swept, and a swept bucket starts full', async () => {
    const [a] = [processOn()];
    const limiter = sharedRateLimiter({ perMinute: 1, scope: 'enroll', coordination: a, now });
    expect(await limiter.take('old')).toBeUndefined();
    t += 61_000;
    expect(await limiter.take('new')).toBeUndefined();
    const keys = raw((db) => db.prepare('SELECT key FROM orchard_rate_buckets').pluck().all());
    expect(keys).toEqual(['new']);
    expect(await limiter.take('old')).toBeUndefined();
  });

  test('fail/a closed coordination rejects takes and jobs; bad buckets are TypeErrors', async () => {
    const a = processOn();
    const bucket = { scope: 's', key: 'k', perMinute: 1, now: t };
    await expect(a.take({ ...bucket, perMinute: 1.5 })).rejects.toThrow(TypeError);
    await expect(a.blocked({ ...bucket, now: Number.NaN })).rejects.toThrow(TypeError);
    await a.close();
    await expect(a.take(bucket)).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    await expect(a.exclusive('job', () => Promise.resolve(1))).rejects.toMatchObject({
      code: 'ERR_STORAGE',
    });
    await a.notify('t');
    expect(() => openSqliteCoordination({ path, leaseMs: 0 })).toThrow(TypeError);
  });
});

describe('singleton jobs', () => {
  sharedJobCases(shared);

  test('ok/of two processes one runs a job at a time; the other skips its tick, then runs the next', async () => {
    const [a, b] = [processOn(), processOn()];
    const inside = deferred();
    const release = deferred();
    const held = a.exclusive('profile-reconcile', async () => {
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
      ...{ clock: () => new Date(t), logger: silentLogger, coordination: b },
      tickMs: 3_600_000,
    });
    expect(await running.tick()).toBe(0);
    expect(ran).toBe(0);
    // A second holder in the same process waits its turn too.
    expect(await a.exclusive('profile-reconcile', () => Promise.resolve('again'))).toEqual({
      skipped: true,
    });
    release.resolve();
    expect(await held).toEqual({ value: 'a' });
    expect(await running.tick()).toBe(3);
    expect(ran).toBe(1);
    await running.stop();
  });

  test('ok/a lease is renewed while its job runs, past its first expiry', async () => {
    const leaseMs = 90;
    const [a, b] = [processOn({ leaseMs }), processOn({ leaseMs })];
    const release = deferred();
    const inside = deferred();
    const held = a.exclusive('renewal', async () => {
      inside.resolve();
      await release.promise;
    });
    await inside.promise;
    // The clock passes the lease's first expiry; the holder's next renewal extends it from there.
    t += 10 * leaseMs;
    const expiry = () =>
      raw((db) => db.prepare('SELECT expires_at FROM orchard_job_leases').pluck().get() as number);
    for (let i = 0; i < 500 && expiry() < t; i++) await sleep(10);
    expect(expiry()).toBeGreaterThan(t);
    expect(await b.exclusive('renewal', () => Promise.resolve(2))).toEqual({ skipped: true });
    release.resolve();
    await held;
    // Released after the job: free at once, no expiry to wait for.
    expect(raw((db) => db.prepare('SELECT count(*) FROM orchard_job_leases').pluck().get())).toBe(
      0,
    );
    expect(await b.exclusive('renewal', () => Promise.resolve(3))).toEqual({ value: 3 });
  });

  test('ok/a crashed holder (a SIGKILLed process) holds its job until the lease expires, then the other takes it', async () => {
    // A real process takes the lease with the default length and is killed while it runs the job.
    const script = `
      import { openSqliteCoordination } from './src/storage/sqlite/coordination.ts';
      const c = openSqliteCoordination({ path: ${JSON.stringify(path)}, now: () => ${String(t)} });
      await c.exclusive('identity-renewal', () => {
        process.stdout.write('held\\n');
        return new Promise(() => undefined);
      });`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('held')) resolve();
      });
      child.once('exit', (code) => {
        reject(new Error(`holder exited with ${String(code)} before holding`));
      });
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const b = processOn();
    expect(await b.exclusive('identity-renewal', () => Promise.resolve(1))).toEqual({
      skipped: true,
    });
    t += DEFAULT_LEASE_MS - 1;
    expect(await b.exclusive('identity-renewal', () => Promise.resolve(1))).toEqual({
      skipped: true,
    });
    t += 1;
    expect(await b.exclusive('identity-renewal', () => Promise.resolve(2))).toEqual({ value: 2 });
  }, 60_000);
});

describe('notifications', () => {
  test('ok/a change in one process reaches the other; each hears its own at once and once', async () => {
    const [a, b] = [processOn(), processOn()];
    const heard = { a: 0, b: 0 };
    let wake = deferred();
    a.listen('settings', () => {
      heard.a++;
      wake.resolve();
    });
    b.listen('settings', () => {
      heard.b++;
      wake.resolve();
    });
    await a.notify('settings');
    expect(heard).toEqual({ a: 1, b: 0 });
    while (heard.b < 1) {
      await wake.promise;
      wake = deferred();
    }
    await b.notify('settings');
    expect(heard).toEqual({ a: 1, b: 2 });
    while (heard.a < 2) {
      await wake.promise;
      wake = deferred();
    }
    // A's poll that brought B's change passed A's own too: no process heard a change twice.
    expect(heard).toEqual({ a: 2, b: 2 });
  });

  test('ok/other topics are not called, and a removed listener no longer is', async () => {
    const [a, b] = [processOn(), processOn()];
    const calls: string[] = [];
    let wake = deferred();
    const off = b.listen('two', () => calls.push('two'));
    b.listen('one', () => {
      calls.push('one');
      wake.resolve();
    });
    off();
    await a.notify('two');
    await a.notify('one');
    await wake.promise;
    expect(calls).toEqual(['one']);
    wake = deferred();
    await a.notify('one');
    await wake.promise;
    expect(calls).toEqual(['one', 'one']);
  });
});

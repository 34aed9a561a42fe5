/**
 * What every `Coordination` shared between processes must do, whatever it is built on: the cases
 * the SQLite and PostgreSQL suites both run, with two coordinations standing in for two processes
 * (or daemons) on one database and the test's clock.
 */
import { expect, test } from '@jest/globals';
import {
  perAddress,
  sharedFailedLoginLimiter,
  sharedRateLimiter,
} from '../../src/http/rate-limit.js';
import type { Coordination } from '../../src/storage/ports.js';

/** A promise and its resolve. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** How a suite gives the shared cases their coordinations and clock. */
export interface SharedCoordinationContext {
  /** What the two holders are called in test names: `processes` or `daemons`. */
  holders: string;
  /** Two coordinations on one database (closed by the suite's own afterEach). */
  pair(): Promise<[Coordination, Coordination]>;
  /** The clock the limiters read (milliseconds). */
  now: () => number;
  /** Moves that clock forward. */
  advance(ms: number): void;
}

/** The shared rate-limit cases (call inside a `describe`). */
export function sharedLimitCases(ctx: SharedCoordinationContext): void {
  const { now } = ctx;
  test(`ok/two ${ctx.holders} together allow per address what one allows, and refill as one`, async () => {
    const [a, b] = await ctx.pair();
    const limiter = (c: Coordination) =>
      perAddress(sharedRateLimiter({ perMinute: 5, scope: 'enroll', coordination: c, now }));
    const [la, lb] = [limiter(a), limiter(b)];
    const answers: (number | undefined)[] = [];
    for (let i = 0; i < 12; i++) answers.push(await (i % 2 === 0 ? la : lb).take('192.0.2.7'));
    // Each holder's local bucket alone would allow 5 (10 in all): the shared one allows 5.
    expect(answers.filter((w) => w === undefined)).toHaveLength(5);
    expect(answers.slice(5).every((w) => w !== undefined && w >= 1)).toBe(true);
    // Another address has a bucket of its own; an IPv6 /64 is one bucket in both holders.
    expect(await lb.take('192.0.2.8')).toBeUndefined();
    expect(await la.take('2001:db8:1:2::1')).toBeUndefined();
    for (let i = 0; i < 4; i++) await lb.take(`2001:db8:1:2::${String(i + 2)}`);
    expect(await la.take('2001:db8:1:2:ffff::9')).toBeGreaterThanOrEqual(1);
    // 12 s refill one token (5 a minute): one more request passes, in either holder.
    ctx.advance(12_000);
    const after = [await lb.take('192.0.2.7'), await la.take('192.0.2.7')];
    expect(after.filter((w) => w === undefined)).toHaveLength(1);
  });

  test(`ok/a failed sign-in counts in every one of two ${ctx.holders}, per address and against the global ceiling`, async () => {
    const [a, b] = await ctx.pair();
    const limiter = (c: Coordination) =>
      sharedFailedLoginLimiter({
        ...{ perMinute: 3, globalPerMinute: 7, scope: 'web-sign-in' },
        ...{ coordination: c, now },
      });
    const [la, lb] = [limiter(a), limiter(b)];
    await la.failed('198.51.100.1');
    await lb.failed('198.51.100.1');
    expect(await lb.blocked('198.51.100.1')).toBeUndefined();
    await la.failed('198.51.100.1');
    // Three failures spread over two holders: both refuse that address now, no other.
    expect(await lb.blocked('198.51.100.1')).toBeGreaterThanOrEqual(1);
    expect(await la.blocked('198.51.100.1')).toBeGreaterThanOrEqual(1);
    expect(await lb.blocked('198.51.100.2')).toBeUndefined();
    // The global ceiling (7) is shared too: rotating addresses across holders does not help.
    for (let i = 0; i < 4; i++) await (i % 2 === 0 ? la : lb).failed(`203.0.113.${String(i)}`);
    expect(await la.blocked('203.0.113.200')).toBeGreaterThanOrEqual(1);
  });
}

/** The shared singleton-job cases (call inside a `describe`). */
export function sharedJobCases(ctx: SharedCoordinationContext): void {
  test('ok/different jobs do not exclude each other', async () => {
    const [a, b] = await ctx.pair();
    const release = deferred();
    const inside = deferred();
    const held = a.exclusive('one', async () => {
      inside.resolve();
      await release.promise;
    });
    await inside.promise;
    expect(await b.exclusive('two', () => Promise.resolve('ran'))).toEqual({ value: 'ran' });
    release.resolve();
    await held;
  });
}

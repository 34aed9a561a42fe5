/**
 * The coordination of a daemon alone (memory and SQLite): a job runs once at a time in the
 * process, shared buckets never refuse (the local bucket is the whole limit, as before), and a
 * notification calls this process's listeners at once. The singleton job runner skips a tick the
 * job's holder is still running and logs a failed one.
 */
import { describe, expect, test } from '@jest/globals';
import { sharedRateLimiter } from '../../src/http/rate-limit.js';
import { silentLogger } from '../../src/logger.js';
import {
  inProcessCoordination,
  isInProcess,
  startSingletonJob,
} from '../../src/server/coordination.js';

describe('in-process coordination', () => {
  test('ok/a job runs once at a time, buckets never refuse, notifications are heard at once', async () => {
    const c = inProcessCoordination();
    expect(isInProcess(c)).toBe(true);
    let release!: () => void;
    const held = c.exclusive(
      'job',
      () =>
        new Promise<string>(
          (r) =>
            (release = () => {
              r('one');
            }),
        ),
    );
    expect(await c.exclusive('job', () => Promise.resolve('two'))).toEqual({ skipped: true });
    expect(await c.exclusive('other', () => Promise.resolve('three'))).toEqual({ value: 'three' });
    release();
    expect(await held).toEqual({ value: 'one' });
    const bucket = { scope: 's', key: 'k', perMinute: 1, now: 0 };
    expect([await c.take(bucket), await c.take(bucket), await c.blocked(bucket)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const heard: string[] = [];
    const off = c.listen('t', () => heard.push('t'));
    await c.notify('t');
    off();
    await c.notify('t');
    expect(heard).toEqual(['t']);
    await c.close();
    await expect(c.exclusive('job', () => Promise.resolve(1))).rejects.toThrow();
  });

  test('ok/a limiter over the in-process coordination limits exactly as the local bucket', async () => {
    const limiter = sharedRateLimiter({
      ...{ perMinute: 2, scope: 'enroll', coordination: inProcessCoordination() },
      now: () => 0,
    });
    const answers = [
      await limiter.take('a'),
      await limiter.take('a'),
      await limiter.take('a'),
      await limiter.take('b'),
    ];
    expect(answers).toEqual([undefined, undefined, 30, undefined]);
  });

  test('fail/a singleton tick the holder still runs is skipped; a failed tick is logged and counts 0', async () => {
    const c = inProcessCoordination();
    let release!: () => void;
    let runs = 0;
    const errors: unknown[] = [];
    const job = startSingletonJob(
      c,
      () => {
        runs++;
        return new Promise<number>(
          (r) =>
            (release = () => {
              r(5);
            }),
        );
      },
      {
        name: 'renewal',
        intervalMs: 3_600_000,
        logger: { ...silentLogger, error: (o) => errors.push(o) },
      },
    );
    const first = job.tick();
    // This process's ticks never overlap: the same run is answered.
    expect(job.tick()).toBe(first);
    const outside = await c.exclusive('renewal', () => Promise.resolve(0));
    expect(outside).toEqual({ skipped: true });
    release();
    expect(await first).toEqual({ value: 5 });
    expect(runs).toBe(1);
    await job.stop();
    const failing = startSingletonJob(c, () => Promise.reject(new Error('boom')), {
      ...{ name: 'sweep', intervalMs: 3_600_000 },
      logger: { ...silentLogger, error: (o) => errors.push(o) },
    });
    expect(await failing.tick()).toEqual({ value: 0 });
    expect(errors).toHaveLength(1);
    await failing.stop();
  });
});

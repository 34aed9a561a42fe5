import { describe, expect, test } from '@jest/globals';
import { runBatch, type Settle } from '../../src/push/apns/batch.js';
import { createLimiter } from '../../src/push/apns/limiter.js';

/** Item i answers `i * 2`, synchronously when `sync(i)`, else on a later macrotask. */
function doubler(sync: (i: number) => boolean, seen: { active: number; peak: number }) {
  return (i: number, settle: Settle<number>): number | undefined => {
    if (sync(i)) return i * 2;
    seen.active++;
    seen.peak = Math.max(seen.peak, seen.active);
    setImmediate(() => {
      seen.active--;
      settle(i, i * 2);
    });
    return undefined;
  };
}

describe('runBatch', () => {
  test.each([
    ['ok/empty batch', 0, 4, () => false],
    ['ok/all asynchronous', 50, 7, () => false],
    ['ok/all synchronous', 50, 7, () => true],
    ['ok/mixed', 200, 16, (i: number) => i % 3 === 0],
  ])('%s: results in order, in progress bounded by the cap', async (_n, n, cap, sync) => {
    const seen = { active: 0, peak: 0 };
    const limiter = createLimiter(1000);
    const results = await runBatch(n, cap, limiter, doubler(sync, seen));
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    expect(seen.peak).toBeLessThanOrEqual(cap);
    // Every slot was given back: the limiter can hand out all 1000 again at once.
    for (let k = 0; k < 1000; k++) expect(limiter.acquire()).toBeUndefined();
  });

  test('ok/200,000 synchronous results do not grow the stack', async () => {
    const results = await runBatch(200_000, 10_000, createLimiter(10_000), (i) => i);
    expect(results).toHaveLength(200_000);
    expect(results[199_999]).toBe(199_999);
  });

  test('ok/two batches share the limiter', async () => {
    const seen = { active: 0, peak: 0 };
    const limiter = createLimiter(5);
    const [a, b] = await Promise.all([
      runBatch(
        40,
        100,
        limiter,
        doubler(() => false, seen),
      ),
      runBatch(
        40,
        100,
        limiter,
        doubler(() => false, seen),
      ),
    ]);
    expect(seen.peak).toBe(5);
    expect(a).toEqual(b);
  });

  test('fail/an error passed to fail rejects the batch', async () => {
    const boom = new Error('boom');
    const run = runBatch(10, 3, createLimiter(3), (i, settle, fail) => {
      setImmediate(() => {
        if (i === 4) fail(boom);
        else settle(i, i);
      });
      return undefined;
    });
    await expect(run).rejects.toBe(boom);
  });
});

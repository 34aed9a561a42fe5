/**
 * Runs a batch of pushes without an async frame per push: at most `cap` items of one batch
 * are in progress, each also holding a slot of a {@link Limiter} shared by every batch.
 */
import type { Limiter } from './limiter.js';

/** Stores item `i`'s result; called at most once per item. */
export type Settle<R> = (i: number, result: R) => void;

/**
 * Starts item `i`: returns its result when known at once, else `undefined` and later calls
 * `settle(i, result)`, or `fail(err)` on an unexpected error.
 */
export type StartItem<R> = (
  i: number,
  settle: Settle<R>,
  fail: (err: unknown) => void,
) => R | undefined;

/**
 * Runs items `0..n-1` through `start` and resolves with their results in order. Rejects with
 * the first error passed to `fail`. Synchronous results do not recurse, so any `n` is safe.
 */
export function runBatch<R>(
  n: number,
  cap: number,
  limiter: Limiter,
  start: StartItem<R>,
): Promise<R[]> {
  const results = new Array<R>(n);
  if (n === 0) return Promise.resolve(results);
  return new Promise((resolve, reject) => {
    let next = 0;
    let active = 0;
    let left = n;
    const fail: (err: unknown) => void = reject;
    const done = (i: number, r: R): void => {
      results[i] = r;
      limiter.release();
      active--;
      left--;
    };
    const run = (i: number): void => {
      const r = start(i, settle, fail);
      if (r !== undefined) done(i, r);
    };
    const pump = (): void => {
      while (next < n && active < cap) {
        const i = next++;
        active++;
        const wait = limiter.acquire();
        if (wait === undefined) run(i);
        else
          wait.then(() => {
            try {
              run(i);
              pump();
            } catch (err) {
              fail(err);
            }
          }, fail);
      }
      if (left === 0) resolve(results);
    };
    const settle = (i: number, r: R): void => {
      done(i, r);
      pump();
    };
    pump();
  });
}

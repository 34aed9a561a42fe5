/**
 * A counting semaphore bounding the pushes in progress across all `push()` calls, so memory
 * stays bounded however many targets callers hand over at once.
 */

/** Slots for work in progress. */
export interface Limiter {
  /** Takes a slot: `undefined` when one was free, else a promise resolved when one is handed over. */
  acquire(): Promise<void> | undefined;
  /** Gives a slot back (to the longest waiter, if any). */
  release(): void;
}

/** Creates a limiter with `max` slots. Throws `TypeError` when `max` is below 1. */
export function createLimiter(max: number): Limiter {
  if (!(max >= 1)) throw new TypeError('max must be >= 1');
  let used = 0;
  let waiters: (() => void)[] = [];
  let head = 0;
  return {
    acquire() {
      if (used < max) {
        used++;
        return undefined;
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    release() {
      const next = waiters[head];
      if (next === undefined) {
        used--;
        return;
      }
      head++;
      if (head > 1024 && head * 2 > waiters.length) {
        waiters = waiters.slice(head);
        head = 0;
      }
      next();
    },
  };
}

/**
 * Coalesces pushes to the same device: while a push for a key is in flight, or within
 * `windowMs` after one was sent and remembered, another push would only wake the device again,
 * so it is answered from the first. Callers remember a push only when its key says the device
 * has not answered it yet (the provider's key carries the target's `coalesceKey`). Memory is
 * bounded by `maxEntries` (plus what is in flight).
 */

/** Options of {@link createCoalescer}. */
export interface CoalescerOptions<R> {
  windowMs: number;
  maxEntries: number;
  now: () => number;
  /** Whether a finished result counts as sent (only those start a window). */
  isSent: (result: R) => boolean;
}

/**
 * Remembers pushes in flight (as `F`, by default their promise) and recent successes. Usage:
 * `find(key)`; when it returns `undefined`, send, `start(key, running)`, and
 * `finish(key, result, remember)` once it settles.
 */
export interface Coalescer<R, F = Promise<R>> {
  /** The in-flight push for `key`, or its result when sent within the window, else `undefined`. */
  find(key: string): F | R | undefined;
  start(key: string, running: F): void;
  /** Ends the in-flight push of `key`; a sent result opens a window only when `remember`. */
  finish(key: string, result: R, remember: boolean): void;
  /** Forgets `key` (e.g. on a new TokenUpdate). */
  forget(key: string): void;
  readonly size: number;
}

/** Creates a coalescer; a window of 0 still shares in-flight pushes. */
export function createCoalescer<R, F = Promise<R>>(options: CoalescerOptions<R>): Coalescer<R, F> {
  const inflight = new Map<string, F>();
  const recent = new Map<string, { at: number; result: R }>();
  const prune = (now: number): void => {
    for (const [key, entry] of recent) {
      if (now - entry.at < options.windowMs && recent.size <= options.maxEntries) break;
      recent.delete(key);
    }
  };
  return {
    find(key) {
      const shared = inflight.get(key);
      if (shared !== undefined) return shared;
      if (recent.size === 0) return undefined;
      const last = recent.get(key);
      if (last !== undefined && options.now() - last.at < options.windowMs) return last.result;
      return undefined;
    },
    start(key, running) {
      inflight.set(key, running);
    },
    finish(key, result, remember) {
      inflight.delete(key);
      if (!remember || options.windowMs <= 0 || !options.isSent(result)) return;
      const now = options.now();
      recent.delete(key);
      recent.set(key, { at: now, result });
      prune(now);
    },
    forget(key) {
      recent.delete(key);
    },
    get size() {
      return recent.size + inflight.size;
    },
  };
}

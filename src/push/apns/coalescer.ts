/**
 * Coalesces pushes to the same device: while a push for a key is in flight, or within
 * `windowMs` after one was sent, another push would only wake the device again, so it is
 * answered from the first. Memory is bounded by `maxEntries`.
 */

/** Options of {@link createCoalescer}. */
export interface CoalescerOptions<R> {
  windowMs: number;
  maxEntries: number;
  now: () => number;
  /** Whether a finished result counts as sent (only those start a window). */
  isSent: (result: R) => boolean;
}

/** Runs at most one push per key at a time and remembers recent successes. */
export interface Coalescer<R> {
  /**
   * Runs `send` unless a push for `key` is in flight (its result is shared) or was sent within
   * the window (`recent` is returned). Resolves to the result and whether it was coalesced.
   */
  run(
    key: string,
    send: () => Promise<R>,
  ): Promise<{ result: R; coalesced: boolean }> | { result: R; coalesced: true };
  /** Forgets `key` (e.g. on a new TokenUpdate). */
  forget(key: string): void;
  readonly size: number;
}

/** Creates a coalescer; a window of 0 still shares in-flight pushes. */
export function createCoalescer<R>(options: CoalescerOptions<R>): Coalescer<R> {
  const inflight = new Map<string, Promise<R>>();
  const recent = new Map<string, { at: number; result: R }>();
  const prune = (now: number): void => {
    for (const [key, entry] of recent) {
      if (now - entry.at < options.windowMs && recent.size <= options.maxEntries) break;
      recent.delete(key);
    }
  };
  return {
    run(key, send) {
      const shared = inflight.get(key);
      if (shared !== undefined) return shared.then((result) => ({ result, coalesced: true }));
      const now = options.now();
      const last = recent.get(key);
      if (last !== undefined && now - last.at < options.windowMs)
        return { result: last.result, coalesced: true };
      const running = send();
      inflight.set(key, running);
      return running.then(
        (result) => {
          inflight.delete(key);
          if (options.windowMs > 0 && options.isSent(result)) {
            recent.delete(key);
            recent.set(key, { at: options.now(), result });
            prune(options.now());
          }
          return { result, coalesced: false };
        },
        (error: unknown) => {
          inflight.delete(key);
          throw error;
        },
      );
    },
    forget(key) {
      recent.delete(key);
    },
    get size() {
      return recent.size + inflight.size;
    },
  };
}

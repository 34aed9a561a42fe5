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

/** A key's window: when it opened, and the result it answers with. */
interface Window<R> {
  at: number;
  result: R;
}

/**
 * Creates a coalescer; a window of 0 still shares in-flight pushes. Its tables are dictionaries
 * (objects without a prototype), not Maps: entries enter and leave at the push rate while others
 * stay, and a long-lived Map used that way makes V8 keep what its entries held alive through
 * scavenges (issue 20); a dictionary does not.
 */
export function createCoalescer<R, F = Promise<R>>(options: CoalescerOptions<R>): Coalescer<R, F> {
  const inflight = Object.create(null) as Record<string, F | undefined>;
  let inflightCount = 0;
  const recent = Object.create(null) as Record<string, Window<R> | undefined>;
  let recentCount = 0;
  // Windows in the order they opened; an entry whose key has since opened a newer window (or
  // was forgotten) is passed over. `head` is the first not yet passed.
  let order: ({ key: string; window: Window<R> } | undefined)[] = [];
  let head = 0;
  const prune = (now: number): void => {
    while (head < order.length) {
      const entry = order[head];
      if (entry !== undefined && recent[entry.key] === entry.window) {
        if (now - entry.window.at < options.windowMs && recentCount <= options.maxEntries) break;
        Reflect.deleteProperty(recent, entry.key);
        recentCount--;
      }
      order[head++] = undefined;
    }
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
  };
  return {
    find(key) {
      const shared = inflight[key];
      if (shared !== undefined) return shared;
      if (recentCount === 0) return undefined;
      const last = recent[key];
      if (last !== undefined && options.now() - last.at < options.windowMs) return last.result;
      return undefined;
    },
    start(key, running) {
      if (inflight[key] === undefined) inflightCount++;
      inflight[key] = running;
    },
    finish(key, result, remember) {
      if (inflight[key] !== undefined) {
        Reflect.deleteProperty(inflight, key);
        inflightCount--;
      }
      if (!remember || options.windowMs <= 0 || !options.isSent(result)) return;
      const now = options.now();
      const window: Window<R> = { at: now, result };
      if (recent[key] === undefined) recentCount++;
      recent[key] = window;
      order.push({ key, window });
      prune(now);
    },
    forget(key) {
      if (recent[key] === undefined) return;
      Reflect.deleteProperty(recent, key);
      recentCount--;
    },
    get size() {
      return recentCount + inflightCount;
    },
  };
}

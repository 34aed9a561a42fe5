/**
 * Per-client token buckets for the endpoints an attacker can hammer without credentials:
 * enrollment links, SCEP PKIOperation and failed admin API logins. Device MDM routes are never
 * limited (a device must not read a refusal as anything but "try later", and it already backs
 * off). A refusal is 429 `ERR_RATE_LIMITED` with `Retry-After`.
 */
import { json, type HttpAnswer } from './http-util.js';

/** A token bucket per key (client address). */
export interface RateLimiter {
  /** Takes one token; resolves the seconds to wait when none is left (nothing taken). */
  take(key: string): number | undefined;
  /** The seconds to wait when the bucket is empty, without taking a token. */
  blocked(key: string): number | undefined;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Bucket size and refill per minute; must be a positive integer. */
  perMinute: number;
  /** Milliseconds now; default `Date.now`. */
  now?: () => number;
  /** Most keys tracked; the oldest is dropped past it (default 10,000). */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Creates a limiter. Throws TypeError when `perMinute` is not a positive integer. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { perMinute } = options;
  if (!Number.isInteger(perMinute) || perMinute <= 0)
    throw new TypeError('perMinute must be a positive integer');
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 10_000;
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();
  const refill = (key: string): Bucket => {
    const t = now();
    let b = buckets.get(key);
    if (!b) {
      if (buckets.size >= maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done !== true) buckets.delete(oldest.value);
      }
      b = { tokens: perMinute, at: t };
      buckets.set(key, b);
    }
    b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
    b.at = t;
    return b;
  };
  const wait = (b: Bucket): number | undefined =>
    b.tokens >= 1 ? undefined : Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
  return {
    take(key) {
      const b = refill(key);
      const seconds = wait(b);
      if (seconds === undefined) b.tokens -= 1;
      return seconds;
    },
    blocked: (key) => wait(refill(key)),
  };
}

/** The daemon's limiters, one per class of endpoint. */
export interface DaemonLimits {
  enroll: RateLimiter;
  scep: RateLimiter;
  adminAuth: RateLimiter;
}

/** The limiters for `--rate-limit N/min`; `undefined` when 0 (off). */
export function createDaemonLimits(
  perMinute: number,
  now?: () => number,
): DaemonLimits | undefined {
  if (perMinute === 0) return undefined;
  const make = () => createRateLimiter({ perMinute, ...(now ? { now } : {}) });
  return { enroll: make(), scep: make(), adminAuth: make() };
}

/** The 429 answer: JSON `{code: 'ERR_RATE_LIMITED'}` with `Retry-After` in seconds. */
export function rateLimited(retryAfterSeconds: number): HttpAnswer {
  const answer = json(429, {
    code: 'ERR_RATE_LIMITED',
    message: `too many requests; retry in ${retryAfterSeconds} s`,
  });
  return { ...answer, headers: { ...answer.headers, 'retry-after': String(retryAfterSeconds) } };
}

/**
 * Token buckets for the endpoints an attacker can hammer without credentials (enrollment links,
 * SCEP PKIOperation, failed admin API logins), per client address and, for failed logins, with
 * one global ceiling, so rotating addresses does not help. Device MDM routes are never limited
 * (a device must not read a refusal as anything but "try later", and it already backs off). A
 * refusal is 429 `ERR_RATE_LIMITED` with `Retry-After`. IPv6 counts per /64. Import from
 * `orchard-mdm/node`.
 */
import { isIP } from 'node:net';
import type { Logger } from '../logger.js';
import type { Coordination } from '../storage/ports.js';
import type { EdgeResponse } from './edge.js';

/** A value, or a promise of it (a limiter shared through the database answers promises). */
export type MaybePromise<T> = T | Promise<T>;

/** A token bucket per key. */
export interface RateLimiter {
  /** Takes one token; resolves the seconds to wait when none is left (nothing taken). */
  take(key: string): MaybePromise<number | undefined>;
  /** The seconds to wait when the bucket is empty, without taking a token or tracking the key. */
  blocked(key: string): MaybePromise<number | undefined>;
  /** How many keys are tracked now in this process (at most `maxKeys`). */
  readonly size: number;
}

/** A limiter of this process alone: it answers at once. */
export interface LocalRateLimiter extends RateLimiter {
  /** Takes one token; the seconds to wait when none is left (nothing taken). */
  take(key: string): number | undefined;
  /** The seconds to wait when the bucket is empty, without taking a token or tracking the key. */
  blocked(key: string): number | undefined;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Bucket size and refill per minute; must be a positive integer. */
  perMinute: number;
  /** Milliseconds now; default `Date.now`. */
  now?: () => number;
  /**
   * Most keys tracked (default 10,000). Past it, buckets that have refilled (they hold nothing a
   * new bucket would not) go first, then the least recently used one.
   */
  maxKeys?: number;
}

// Buckets looked at for a refilled one before the least recently used is dropped (bounds CPU).
const EVICTION_SCAN = 64;

interface Bucket {
  tokens: number;
  at: number;
}

/** Creates a limiter. Throws TypeError when `perMinute` or `maxKeys` is not a positive integer. */
export function createRateLimiter(options: RateLimiterOptions): LocalRateLimiter {
  const { perMinute } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  if (!Number.isInteger(perMinute) || perMinute <= 0)
    throw new TypeError('perMinute must be a positive integer');
  if (!Number.isInteger(maxKeys) || maxKeys <= 0)
    throw new TypeError('maxKeys must be a positive integer');
  const now = options.now ?? Date.now;
  const perMs = perMinute / 60_000;
  // Map order is least recently used first: a bucket is re-inserted whenever it is touched.
  const buckets = new Map<string, Bucket>();
  const level = (b: Bucket, t: number): number =>
    Math.min(perMinute, b.tokens + (t - b.at) * perMs);
  const evict = (t: number): void => {
    if (buckets.size < maxKeys) return;
    let scanned = 0;
    for (const [key, b] of buckets) {
      // A refilled bucket holds nothing a new one would not: dropping it loses no state.
      if (level(b, t) >= perMinute) {
        buckets.delete(key);
        return;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    const oldest = buckets.keys().next();
    if (oldest.done !== true) buckets.delete(oldest.value);
  };
  const wait = (tokens: number): number | undefined =>
    tokens >= 1 ? undefined : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
  return {
    take(key) {
      const t = now();
      let b = buckets.get(key);
      if (b) buckets.delete(key);
      else {
        evict(t);
        b = { tokens: perMinute, at: t };
      }
      b.tokens = level(b, t);
      b.at = t;
      buckets.set(key, b);
      const seconds = wait(b.tokens);
      if (seconds === undefined) b.tokens -= 1;
      return seconds;
    },
    blocked(key) {
      const b = buckets.get(key);
      return b === undefined ? undefined : wait(level(b, now()));
    },
    get size() {
      return buckets.size;
    },
  };
}

function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string | undefined): number[] =>
    s === undefined || s === '' ? [] : s.split(':').map((g) => parseInt(g, 16));
  const left = part(head);
  const right = part(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/**
 * The bucket of a client address: IPv4 (and IPv4-mapped IPv6) per address, IPv6 per /64 (one
 * subscriber usually holds a whole /64). Anything else is its own bucket.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  if (mapped !== undefined) return mapped;
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address.toLowerCase());
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** A limiter keyed by client address, bucketed by {@link addressBucket}. */
export function perAddress(limiter: RateLimiter): RateLimiter {
  return {
    take: (client) => limiter.take(addressBucket(client)),
    blocked: (client) => limiter.blocked(addressBucket(client)),
    get size() {
      return limiter.size;
    },
  };
}

/** Failed admin logins: a bucket per client address and one shared by all of them. */
export interface FailedLoginLimiter {
  /**
   * The seconds a request without a valid key from `client` must wait (its address's bucket or
   * the global one is empty); `undefined` when it may be served.
   */
  blocked(client: string): MaybePromise<number | undefined>;
  /** Records a failed login (missing or wrong key) from `client` in both buckets; never rejects. */
  failed(client: string): MaybePromise<void>;
}

/** Options of {@link createFailedLoginLimiter}. */
export interface FailedLoginLimiterOptions extends RateLimiterOptions {
  /** Failed logins per minute across all addresses; default ten times `perMinute`. */
  globalPerMinute?: number;
}

const GLOBAL = '*';

/** A failed-login limiter of this process alone: it answers at once. */
export interface LocalFailedLoginLimiter extends FailedLoginLimiter {
  /** The seconds to wait, or `undefined` when `client` may be served. */
  blocked(client: string): number | undefined;
  /** Records a failed login from `client` in both buckets. */
  failed(client: string): void;
}

/** Creates the failed-login limiter. Throws TypeError on a rate that is not a positive integer. */
export function createFailedLoginLimiter(
  options: FailedLoginLimiterOptions,
): LocalFailedLoginLimiter {
  const { globalPerMinute = options.perMinute * 10, ...rest } = options;
  const address = createRateLimiter(rest);
  const global = createRateLimiter({ ...rest, perMinute: globalPerMinute, maxKeys: 1 });
  return {
    blocked(client) {
      const a = address.blocked(addressBucket(client));
      const g = global.blocked(GLOBAL);
      return a === undefined ? g : g === undefined ? a : Math.max(a, g);
    },
    failed(client) {
      address.take(addressBucket(client));
      global.take(GLOBAL);
    },
  };
}

/** Where a limiter shares its counts with the other daemons on the database. */
export interface SharedLimitOptions {
  /** The database's coordination (`orchard_rate_buckets` on PostgreSQL). */
  coordination: Coordination;
  /** The limiter's namespace among the shared buckets, e.g. `enroll`. */
  scope: string;
  /** Logs a shared count that could not be reached (the local bucket then decides alone). */
  logger?: Logger;
}

/** The later of two waits. */
function longer(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** `work`, or `undefined` (logged) when the shared count cannot be reached: the local one holds. */
async function orLocal(
  work: Promise<number | undefined>,
  options: SharedLimitOptions,
): Promise<number | undefined> {
  try {
    return await work;
  } catch (err) {
    options.logger?.warn({ err, scope: options.scope }, 'shared rate limit unavailable');
    return undefined;
  }
}

/**
 * A limiter every daemon on the database shares: the local bucket refuses first (no database
 * call), then one atomic upsert of the shared bucket decides, so N daemons together allow what
 * one allows. When the database cannot be reached the local bucket decides alone.
 */
export function sharedRateLimiter(options: RateLimiterOptions & SharedLimitOptions): RateLimiter {
  const local = createRateLimiter(options);
  const now = options.now ?? Date.now;
  const bucket = (key: string) => ({
    ...{ scope: options.scope, key, perMinute: options.perMinute },
    now: now(),
  });
  return {
    take(key) {
      const wait = local.take(key);
      if (wait !== undefined) return wait;
      return orLocal(options.coordination.take(bucket(key)), options);
    },
    blocked(key) {
      const wait = local.blocked(key);
      if (wait !== undefined) return wait;
      return orLocal(options.coordination.blocked(bucket(key)), options);
    },
    get size() {
      return local.size;
    },
  };
}

/**
 * The failed-login limiter every daemon on the database shares (per address and global buckets
 * in the database behind the local ones): a failure counts everywhere, and a client refused by
 * one daemon is refused by all.
 */
export function sharedFailedLoginLimiter(
  options: FailedLoginLimiterOptions & SharedLimitOptions,
): FailedLoginLimiter {
  const { globalPerMinute = options.perMinute * 10 } = options;
  const local = createFailedLoginLimiter(options);
  const now = options.now ?? Date.now;
  const { coordination, scope } = options;
  const address = (client: string) => ({
    ...{ scope, key: addressBucket(client), perMinute: options.perMinute },
    now: now(),
  });
  const global = () => ({ scope, key: GLOBAL, perMinute: globalPerMinute, now: now() });
  return {
    blocked(client) {
      const wait = local.blocked(client);
      if (wait !== undefined) return wait;
      const both = Promise.all([
        coordination.blocked(address(client)),
        coordination.blocked(global()),
      ]).then(([a, g]) => longer(a, g));
      return orLocal(both, options);
    },
    async failed(client) {
      local.failed(client);
      const both = Promise.all([coordination.take(address(client)), coordination.take(global())]);
      await orLocal(
        both.then(() => undefined),
        options,
      );
    },
  };
}

/** The 429 answer: JSON `{code: 'ERR_RATE_LIMITED'}` with `Retry-After` in seconds. */
export function rateLimited(retryAfterSeconds: number): EdgeResponse {
  const body = {
    code: 'ERR_RATE_LIMITED',
    message: `too many requests; retry in ${retryAfterSeconds} s`,
  };
  return {
    status: 429,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'retry-after': String(retryAfterSeconds),
    },
    body: Buffer.from(JSON.stringify(body)),
  };
}

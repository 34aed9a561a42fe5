/**
 * Options of the APNs push provider, with defaults and start-up validation.
 */
import type { BackoffOptions } from './backoff.js';

/** Apple's production APNs host. */
export const APNS_PRODUCTION_URL = 'https://api.push.apple.com';
/** Apple's development APNs host (only for profiles with `UseDevelopmentAPNS`). */
export const APNS_SANDBOX_URL = 'https://api.sandbox.push.apple.com';

/** Tuning of {@link createApnsPushProvider}; every field has a default. */
export interface ApnsProviderOptions {
  /** APNs base URL; defaults to production (tests point it at a mock). */
  url?: string;
  /** Use the sandbox host when `url` is not given. */
  sandbox?: boolean;
  /** Extra trust anchors for the APNs server certificate (tests only). */
  ca?: string;
  /** Most connections (default 2). */
  poolSize?: number;
  /** Most concurrent streams per connection; the server's limit also applies (default 1000). */
  maxStreamsPerConnection?: number;
  /** Per-request timeout in ms (default 10,000). */
  requestTimeoutMs?: number;
  /** Attempts per push including the first (default 4). */
  maxAttempts?: number;
  /** Retry backoff (default 250 ms doubling up to 30 s, equal jitter). */
  backoff?: BackoffOptions;
  /**
   * Consecutive failures that open the circuit, and how long it stays open (default 10, 30 s);
   * `connectThreshold` failures to reach APNs at all since the last success open it sooner
   * (default 3, so one push's retries against an unreachable APNs open it).
   */
  breaker?: { threshold: number; cooldownMs: number; connectThreshold?: number };
  /**
   * A push sent to a token absorbs later ones with the same PushMagic and `coalesceKey` for this
   * long (default 2,000 ms; 0 only shares in-flight pushes). Targets without a key only share.
   */
  coalesceWindowMs?: number;
  /** Most pushes in progress at once over all `push()` calls (default 10,000). */
  maxPending?: number;
  /** `apns-expiration` = now + this many seconds; 0 sends 0 (deliver now or never). Default 86,400. */
  expirationSeconds?: number;
  /** `apns-priority` (default 10). */
  priority?: 5 | 10;
  /** How often expiry events are checked, in ms (default hourly; 0 = only on push). */
  expiryCheckIntervalMs?: number;
  /** Days before expiry at which `certificate-expiring` fires (default 30, 14, 7, 1). */
  expiryThresholds?: readonly number[];
  /** Most dead tokens remembered (default 100,000). */
  maxDeadTokens?: number;
}

/** {@link ApnsProviderOptions} with defaults applied. */
export type ResolvedProviderOptions = Required<
  Omit<ApnsProviderOptions, 'ca' | 'sandbox' | 'expiryThresholds'>
> & {
  ca: string | undefined;
  expiryThresholds: readonly number[] | undefined;
};

function positive(name: string, value: number, min = 1): number {
  if (!Number.isFinite(value) || value < min)
    throw new TypeError(`${name} must be a number >= ${min}`);
  return value;
}

/** Applies defaults and checks ranges. Throws `TypeError` naming the bad option. */
export function resolveProviderOptions(o: ApnsProviderOptions): ResolvedProviderOptions {
  const url = o.url ?? (o.sandbox === true ? APNS_SANDBOX_URL : APNS_PRODUCTION_URL);
  if (!/^https:\/\//.test(url)) throw new TypeError('url must be an https:// URL');
  const backoff = o.backoff ?? { baseMs: 250, maxMs: 30_000 };
  const breaker = o.breaker ?? { threshold: 10, cooldownMs: 30_000 };
  return {
    url,
    ca: o.ca,
    poolSize: positive('poolSize', o.poolSize ?? 2),
    maxStreamsPerConnection: positive('maxStreamsPerConnection', o.maxStreamsPerConnection ?? 1000),
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs ?? 10_000),
    maxAttempts: positive('maxAttempts', o.maxAttempts ?? 4),
    backoff: {
      baseMs: positive('backoff.baseMs', backoff.baseMs, 0),
      maxMs: positive('backoff.maxMs', backoff.maxMs, 0),
    },
    breaker: {
      threshold: positive('breaker.threshold', breaker.threshold),
      cooldownMs: positive('breaker.cooldownMs', breaker.cooldownMs, 0),
      connectThreshold: positive('breaker.connectThreshold', breaker.connectThreshold ?? 3),
    },
    coalesceWindowMs: positive('coalesceWindowMs', o.coalesceWindowMs ?? 2_000, 0),
    maxPending: positive('maxPending', o.maxPending ?? 10_000),
    expirationSeconds: positive('expirationSeconds', o.expirationSeconds ?? 86_400, 0),
    priority: o.priority ?? 10,
    expiryCheckIntervalMs: positive(
      'expiryCheckIntervalMs',
      o.expiryCheckIntervalMs ?? 3_600_000,
      0,
    ),
    expiryThresholds: o.expiryThresholds,
    maxDeadTokens: positive('maxDeadTokens', o.maxDeadTokens ?? 100_000),
  };
}

/**
 * Parsing of the optional features of `orchard serve`: webhooks, command retention, push
 * certificate hot reload and topic changes, and rate limits. Each refusal is a
 * {@link ConfigError} naming the flag.
 */
import { ConfigError } from '../index.js';

/** The event shapes `--webhook-format` offers. */
export type WebhookFormatConfig = 'orchard' | 'nanomdm';

/** Where events are delivered, the HMAC key they are signed with, and their shape. */
export interface WebhookConfig {
  url: string;
  secret: string;
  /** `nanomdm`: MicroMDM/NanoMDM-shaped events with raw payloads; absent means `orchard`. */
  format?: WebhookFormatConfig;
}

/** The feature part of the daemon configuration. */
export interface FeatureConfig {
  webhook?: WebhookConfig;
  /** Keep finished command targets (and delivered events) this long; absent keeps everything. */
  commandRetentionMs?: number;
  /** Accept a push certificate whose topic differs from the recorded one (orphans devices). */
  pushAllowTopicChange: boolean;
  /** How often the push certificate files are polled for a renewal. */
  pushWatchIntervalMs: number;
  /** Requests per minute per client address on enrollment, SCEP PKIOperation and failed admin logins; 0 turns limits off. */
  rateLimitPerMinute: number;
  /** Renew a device identity this long before its certificate expires (default 30 days). */
  identityRenewalLeadMs: number;
  /**
   * Lifetime of the SCEP challenge in a profile from an enrollment link that never expires
   * (default 7 days); other links' challenges live as long as the link.
   */
  enrollmentChallengeTtlMs: number;
}

/** Default lead time of identity renewal: 30 days before the device certificate expires. */
export const DEFAULT_IDENTITY_RENEWAL_MS = 30 * 86_400_000;

/** Default of {@link FeatureConfig.enrollmentChallengeTtlMs}: 7 days. */
export const DEFAULT_ENROLLMENT_CHALLENGE_TTL_MS = 7 * 86_400_000;

/** Default requests per minute per client address (see {@link FeatureConfig.rateLimitPerMinute}). */
export const DEFAULT_RATE_LIMIT = 60;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30d`, `12h`, `90m` or `45s` into milliseconds; throws ConfigError naming `flag`. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(value);
  const n = Number(m?.[1]);
  const unit = UNITS[m?.[2] ?? ''];
  if (!m || unit === undefined || n <= 0)
    throw new ConfigError(flag, `expected a duration such as 30d, 12h, 90m or 45s, got "${value}"`);
  return n * unit;
}

function parseWebhookFormat(value: string | undefined): WebhookFormatConfig | undefined {
  if (value === undefined || value === 'orchard' || value === 'nanomdm') return value;
  throw new ConfigError('--webhook-format', `must be orchard or nanomdm, got "${value}"`);
}

function parseWebhook(read: (flag: string) => string | undefined): WebhookConfig | undefined {
  const url = read('webhook-url');
  const secret = read('webhook-secret');
  const format = parseWebhookFormat(read('webhook-format'));
  if (url === undefined) {
    if (secret !== undefined) throw new ConfigError('--webhook-secret', 'needs --webhook-url');
    if (format !== undefined) throw new ConfigError('--webhook-format', 'needs --webhook-url');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('--webhook-url', `not a URL: "${url}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ConfigError('--webhook-url', `must be http: or https: (got ${parsed.protocol})`);
  if (parsed.username !== '' || parsed.password !== '')
    throw new ConfigError('--webhook-url', 'must not carry credentials');
  if (secret === undefined || secret === '')
    throw new ConfigError('--webhook-secret', 'is required with --webhook-url');
  if (secret.length < 32)
    throw new ConfigError('--webhook-secret', 'must be at least 32 characters');
  return { url: parsed.href, secret, ...(format === undefined ? {} : { format }) };
}

function parseRateLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_RATE_LIMIT;
  if (value === 'off' || value === '0') return 0;
  const m = /^(\d{1,6})(\/min)?$/.exec(value);
  if (!m) throw new ConfigError('--rate-limit', `expected N/min (or off), got "${value}"`);
  return Number(m[1]);
}

function parseSwitch(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(flag, 'must be true or false');
}

/**
 * Reads the feature flags through `read` (flag over `ORCHARD_*` variable). Throws
 * {@link ConfigError} naming the flag on an invalid value.
 */
export function parseFeatures(read: (flag: string) => string | undefined): FeatureConfig {
  const out: FeatureConfig = {
    pushAllowTopicChange: parseSwitch('--push-allow-topic-change', read('push-allow-topic-change')),
    pushWatchIntervalMs: 60_000,
    rateLimitPerMinute: parseRateLimit(read('rate-limit')),
    identityRenewalLeadMs: DEFAULT_IDENTITY_RENEWAL_MS,
    enrollmentChallengeTtlMs: DEFAULT_ENROLLMENT_CHALLENGE_TTL_MS,
  };
  const challengeTtl = read('enrollment-challenge-ttl');
  if (challengeTtl !== undefined) {
    out.enrollmentChallengeTtlMs = parseDuration('--enrollment-challenge-ttl', challengeTtl);
    if (out.enrollmentChallengeTtlMs < 3_600_000)
      throw new ConfigError('--enrollment-challenge-ttl', 'must be at least 1h');
  }
  const lead = read('identity-renewal');
  if (lead !== undefined) {
    out.identityRenewalLeadMs = parseDuration('--identity-renewal', lead);
    if (out.identityRenewalLeadMs < 86_400_000)
      throw new ConfigError('--identity-renewal', 'must be at least 1d');
  }
  const webhook = parseWebhook(read);
  if (webhook) out.webhook = webhook;
  const retention = read('command-retention');
  if (retention !== undefined)
    out.commandRetentionMs = parseDuration('--command-retention', retention);
  const watch = read('push-watch-interval');
  if (watch !== undefined) out.pushWatchIntervalMs = parseDuration('--push-watch-interval', watch);
  return out;
}

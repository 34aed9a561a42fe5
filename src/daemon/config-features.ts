/**
 * The optional features of `orchard serve` (webhooks, command retention, push certificate hot
 * reload and topic changes, rate limits, identity renewal) and the value parsers every part of
 * the configuration shares. Each refusal is a {@link ConfigError} naming the flag.
 */
import { ConfigError } from '../index.js';

/** Reads a flag's value (the flag over its `ORCHARD_*` variable). */
export type Read = (flag: string) => string | undefined;

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

const DAY = 86_400_000;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY };

/** Parses `30d`, `12h`, `90m` or `45s` into milliseconds; throws ConfigError naming `flag`. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(value);
  const n = Number(m?.[1]);
  const unit = UNITS[m?.[2] ?? ''];
  if (!m || unit === undefined || n <= 0)
    throw new ConfigError(flag, `expected a duration such as 30d, 12h, 90m or 45s, got "${value}"`);
  return n * unit;
}

/** The duration of `--name`, `fallback` when unset; refused under `min` ms (named `minText`). */
export function durationOf(read: Read, name: string, fallback: number, min?: [number, string]) {
  const value = read(name);
  if (value === undefined) return fallback;
  const ms = parseDuration(`--${name}`, value);
  if (min && ms < min[0]) throw new ConfigError(`--${name}`, `must be at least ${min[1]}`);
  return ms;
}

/** A switch: unset, `false` or `0` is off, `true` or `1` on; anything else is refused. */
export function parseSwitch(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(flag, 'must be true or false');
}

/** Parses a URL of one of `protocols` without credentials; throws ConfigError naming `flag`. */
export function parseUrlFlag(flag: string, value: string, protocols: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(flag, `not a URL: "${value}"`);
  }
  if (!protocols.includes(url.protocol))
    throw new ConfigError(flag, `must be ${protocols.join(' or ')} (got ${url.protocol})`);
  return url;
}

function parseWebhook(read: Read): WebhookConfig | undefined {
  const url = read('webhook-url');
  const secret = read('webhook-secret');
  const format = read('webhook-format');
  if (format !== undefined && format !== 'orchard' && format !== 'nanomdm')
    throw new ConfigError('--webhook-format', `must be orchard or nanomdm, got "${format}"`);
  if (url === undefined) {
    if (secret !== undefined) throw new ConfigError('--webhook-secret', 'needs --webhook-url');
    if (format !== undefined) throw new ConfigError('--webhook-format', 'needs --webhook-url');
    return undefined;
  }
  const parsed = parseUrlFlag('--webhook-url', url, ['http:', 'https:']);
  if (parsed.username !== '' || parsed.password !== '')
    throw new ConfigError('--webhook-url', 'must not carry credentials');
  if (secret === undefined || secret === '')
    throw new ConfigError('--webhook-secret', 'is required with --webhook-url');
  if (secret.length < 32)
    throw new ConfigError('--webhook-secret', 'must be at least 32 characters');
  return { url: parsed.href, secret, ...(format === undefined ? {} : { format }) };
}

function parseRateLimit(value: string | undefined): number {
  if (value === undefined) return 60;
  if (value === 'off' || value === '0') return 0;
  const m = /^(\d{1,6})(\/min)?$/.exec(value);
  if (!m) throw new ConfigError('--rate-limit', `expected N/min (or off), got "${value}"`);
  return Number(m[1]);
}

/**
 * Reads the feature flags through `read`. Throws {@link ConfigError} naming the flag on an
 * invalid value.
 */
export function parseFeatures(read: Read): FeatureConfig {
  const out: FeatureConfig = {
    pushAllowTopicChange: parseSwitch('--push-allow-topic-change', read('push-allow-topic-change')),
    pushWatchIntervalMs: durationOf(read, 'push-watch-interval', 60_000),
    rateLimitPerMinute: parseRateLimit(read('rate-limit')),
    identityRenewalLeadMs: durationOf(read, 'identity-renewal', 30 * DAY, [DAY, '1d']),
    enrollmentChallengeTtlMs: durationOf(read, 'enrollment-challenge-ttl', 7 * DAY, [
      3_600_000,
      '1h',
    ]),
  };
  const webhook = parseWebhook(read);
  if (webhook) out.webhook = webhook;
  if (read('command-retention') !== undefined)
    out.commandRetentionMs = durationOf(read, 'command-retention', 0);
  return out;
}

/**
 * The value parsers of `orchard serve`'s flags. Each refusal is a {@link ConfigError} naming
 * the flag; each parser returns the part of the configuration its flag (or flag group) sets.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createProxyTrust } from '../http/node.js';
import { ConfigError, type PushCertificateFiles } from '../index.js';

/** Reads a flag's value (the flag over its `ORCHARD_*` variable). */
export type Read = (flag: string) => string | undefined;

const DAY = 86_400_000;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY };

/** `{ [key]: value }`, or nothing when `value` is undefined. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Parses `30d`, `12h`, `90m` or `45s` into milliseconds; throws ConfigError naming `flag`. */
function parseDuration(flag: string, value: string): number {
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

/** The default of `--profile-reconcile-interval`: one ProfileList per device a day. */
export const DEFAULT_PROFILE_RECONCILE_INTERVAL_MS = DAY;

/**
 * `--profile-reconcile-interval`: how often each enrolled device's profiles are compared with a
 * ProfileList answer (default 24h); refused under 5 minutes, which would flood devices.
 */
export function reconcileIntervalOf(read: Read): number {
  return durationOf(read, 'profile-reconcile-interval', DEFAULT_PROFILE_RECONCILE_INTERVAL_MS, [
    5 * 60_000,
    '5m',
  ]);
}

/** A switch: unset, `false` or `0` is off, `true` or `1` on; anything else is refused. */
export function parseSwitch(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(flag, 'must be true or false');
}

/** Parses a URL of one of `protocols` without credentials; throws ConfigError naming `flag`. */
function parseUrlFlag(flag: string, value: string, protocols: readonly string[]): URL {
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

/** A base URL without query, fragment, credentials or trailing slash (absent when unset). */
export function baseUrl(flag: string, value: string | undefined, protocols: readonly string[]) {
  if (value === undefined) return undefined;
  const url = parseUrlFlag(flag, value, protocols);
  if (url.search !== '' || url.hash !== '' || url.username !== '')
    throw new ConfigError(flag, 'must not carry a query, fragment or credentials');
  return url.href.replace(/\/+$/, '');
}

/** One of `values` (`fallback` when unset), else ConfigError listing them. */
export function oneOf<T extends string>(
  flag: string,
  values: readonly T[],
  value: string | undefined,
  fallback: T,
): T {
  const found = values.find((v) => v === (value ?? fallback));
  if (!found) throw new ConfigError(flag, `must be one of ${values.join(', ')}`);
  return found;
}

/** A secret of at least `min` characters (absent when unset). */
export function secretOf(flag: string, value: string | undefined, min: number) {
  if (value !== undefined && value.length < min)
    throw new ConfigError(flag, `must be at least ${min} characters`);
  return value;
}

/** A positive whole number, `fallback` when unset. */
export function countOf(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1)
    throw new ConfigError(flag, `expected a positive whole number, got "${value}"`);
  return Number(value);
}

/** An absolute path, absent when unset, refused when empty (`must name a file`). */
export function fileOf(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw new ConfigError(flag, 'must name a file');
  return resolve(value);
}

/** Two flags given together (`--a`/`--b`), as absolute paths; absent when neither is set. */
export function pair(read: Read, a: string, b: string): [string, string] | undefined {
  const x = read(a);
  const y = read(b);
  if (x === undefined && y === undefined) return undefined;
  if (x === undefined || x === '') throw new ConfigError(`--${a}`, `is required with --${b}`);
  if (y === undefined || y === '') throw new ConfigError(`--${b}`, `is required with --${a}`);
  return [resolve(x), resolve(y)];
}

/** `--listen HOST:PORT` (default `127.0.0.1:8080`). */
export function parseListen(value = '127.0.0.1:8080'): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port > 65535)
    throw new ConfigError('--listen', `expected HOST:PORT, got "${value}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** `--data-dir`, absolute (default `./orchard-data`); refused when empty. */
export function dataDirOf(read: Read): string {
  const dir = read('data-dir');
  if (dir === '') throw new ConfigError('--data-dir', 'must not be empty');
  return resolve(dir ?? './orchard-data');
}

/** Where the daemon keeps its state: a SQLite file, or a PostgreSQL database several daemons share. */
export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * `--database sqlite:PATH` (default `<data-dir>/orchard.db`) or `--database postgres://...`
 * (also `postgresql://`); ConfigError for anything else.
 */
export function parseDatabase(value: string | undefined, dataDir: string): DatabaseLocation {
  if (value === undefined || value === '')
    return { kind: 'sqlite', path: resolve(dataDir, 'orchard.db') };
  if (/^postgres(ql)?:\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError('--database', 'is not a valid postgres:// URL');
    }
    if (url.hostname === '' && !url.searchParams.has('host'))
      throw new ConfigError('--database', 'a postgres:// URL needs a host');
    return { kind: 'postgres', url: value };
  }
  const m = /^sqlite:(.+)$/.exec(value);
  if (!m?.[1])
    throw new ConfigError('--database', `expected sqlite:PATH or postgres://..., got "${value}"`);
  return { kind: 'sqlite', path: isAbsolute(m[1]) ? m[1] : resolve(m[1]) };
}

/** The location with any password in a PostgreSQL URL replaced by `***` (for logs and errors). */
export function describeDatabase(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return `sqlite:${location.path}`;
  try {
    const url = new URL(location.url);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable)';
  }
}

/** `--trusted-proxy CIDR[,CIDR]`: empty trusts no one. */
export function parseProxies(value: string | undefined): readonly string[] {
  if (value === undefined) return [];
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0)
    throw new ConfigError('--trusted-proxy', 'expected CIDR[,CIDR], e.g. 127.0.0.1,10.0.0.0/8');
  try {
    createProxyTrust(entries);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError('--trusted-proxy', message, { cause });
  }
  return entries;
}

/** `--rate-limit N/min` or `off` (default 60). */
export function parseRateLimit(value: string | undefined): number {
  if (value === undefined) return 60;
  if (value === 'off' || value === '0') return 0;
  const m = /^(\d{1,6})(\/min)?$/.exec(value);
  if (!m) throw new ConfigError('--rate-limit', `expected N/min (or off), got "${value}"`);
  return Number(m[1]);
}

/** Where events are delivered, the HMAC key they are signed with, and their shape. */
export interface WebhookConfig {
  url: string;
  secret: string;
  /** `nanomdm`: MicroMDM/NanoMDM-shaped events with raw payloads; absent means `orchard`. */
  format?: 'orchard' | 'nanomdm';
}

/** `--webhook-url`, `--webhook-secret` and `--webhook-format` together. */
export function parseWebhook(read: Read): WebhookConfig | undefined {
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
  secretOf('--webhook-secret', secret, 32);
  const shape = (['orchard', 'nanomdm'] as const).find((f) => f === format);
  return { url: parsed.href, secret, ...optional('format', shape) };
}

/** `--push-cert`/`--push-key`, or `--push-p12` with its password. */
export function parsePush(read: Read): PushCertificateFiles | undefined {
  const pem = pair(read, 'push-cert', 'push-key');
  const p12 = read('push-p12');
  if (pem && p12 !== undefined)
    throw new ConfigError('--push-p12', 'give either --push-cert/--push-key or --push-p12');
  if (pem) return { kind: 'pem', certFile: pem[0], keyFile: pem[1] };
  if (p12 === undefined) {
    for (const flag of ['push-p12-password', 'push-p12-password-file'])
      if (read(flag) !== undefined) throw new ConfigError(`--${flag}`, 'needs --push-p12');
    return undefined;
  }
  const file = fileOf('--push-p12', p12) ?? '';
  return { kind: 'p12', file, password: pushP12Password(read) };
}

/** `--push-p12-password`, else `--push-p12-password-file` less one trailing newline, else empty. */
function pushP12Password(read: Read): string {
  const password = read('push-p12-password');
  const file = read('push-p12-password-file');
  if (file === undefined) return password ?? '';
  if (password !== undefined)
    throw new ConfigError(
      '--push-p12-password-file',
      'give either --push-p12-password or --push-p12-password-file',
    );
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'error';
    throw new ConfigError('--push-p12-password-file', `cannot read ${file} (${code})`, { cause });
  }
}

/**
 * The network part of the configuration of `orchard serve`: trusted proxies (whose certificate
 * header and `X-Forwarded-For` are believed), the connection cap and the timeouts that cut slow
 * clients. Each refusal is a {@link ConfigError} naming the flag.
 */
import { createProxyTrust } from '../http/node.js';
import type { FlagSpec } from './config.js';
import { durationOf, type Read } from './config-features.js';
import { ConfigError } from '../index.js';

/** The network flags of `orchard serve`, in help order. */
export const NETWORK_FLAGS: readonly FlagSpec[] = [
  {
    name: 'trusted-proxy',
    arg: 'CIDR[,CIDR]',
    description: 'proxies whose --cert-header and X-Forwarded-For are believed (none by default)',
  },
  {
    name: 'max-connections',
    arg: 'N',
    description: 'most open connections; idle ones are closed first (default 1024)',
  },
  {
    name: 'headers-timeout',
    arg: 'DURATION',
    description: 'time a client has to send request headers (default 10s)',
  },
  {
    name: 'request-timeout',
    arg: 'DURATION',
    description: 'time a client has to send a whole request (default 30s)',
  },
  {
    name: 'keep-alive-timeout',
    arg: 'DURATION',
    description: 'how long an idle kept-alive connection stays open (default 5s)',
  },
];

/** Connection handling of the daemon. */
export interface NetworkConfig {
  /** Proxy addresses and CIDRs (IPv4 or IPv6); empty trusts no one. */
  trustedProxies: readonly string[];
  /** Most open connections. */
  maxConnections: number;
  /** A connection that has not sent complete headers this long after its request began is cut (408). */
  headersTimeoutMs: number;
  /** A request not fully received this long after it began is cut (408). */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
}

/** Defaults of {@link NetworkConfig}, as documented in docs/operations.md. */
export const NETWORK_DEFAULTS: Readonly<NetworkConfig> = {
  trustedProxies: [],
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

function parseProxies(value: string | undefined): readonly string[] {
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

function parseCount(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1)
    throw new ConfigError(flag, `expected a positive whole number, got "${value}"`);
  return Number(value);
}

/**
 * Reads the network flags through `read` (flag over `ORCHARD_*` variable). Throws
 * {@link ConfigError} naming the flag on an invalid value, and naming `--cert-header` and
 * `--trusted-proxy` when a certificate header is configured without a proxy to trust it from.
 */
export function parseNetwork(read: Read): NetworkConfig {
  const d = NETWORK_DEFAULTS;
  const config: NetworkConfig = {
    trustedProxies: parseProxies(read('trusted-proxy')),
    maxConnections: parseCount('--max-connections', read('max-connections'), d.maxConnections),
    headersTimeoutMs: durationOf(read, 'headers-timeout', d.headersTimeoutMs),
    requestTimeoutMs: durationOf(read, 'request-timeout', d.requestTimeoutMs),
    keepAliveTimeoutMs: durationOf(read, 'keep-alive-timeout', d.keepAliveTimeoutMs),
  };
  if (config.headersTimeoutMs > config.requestTimeoutMs)
    throw new ConfigError('--headers-timeout', 'must not be longer than --request-timeout');
  if (read('cert-header') !== undefined && config.trustedProxies.length === 0)
    throw new ConfigError(
      '--cert-header',
      'needs --trusted-proxy: without it anyone could send a device certificate in the header',
    );
  return config;
}

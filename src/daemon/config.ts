/**
 * Configuration of `orchard serve`: every flag with its `ORCHARD_*` variable and its parser, and
 * the resolution of both into a typed {@link DaemonConfig}, validated at start-up with errors
 * naming the flag.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import {
  ConfigError,
  EMBEDDED_CERTIFICATE_CACHE_DEFAULT,
  type PushCertificateFiles,
} from '../index.js';
import {
  baseUrl,
  countOf,
  dataDirOf,
  durationOf,
  fileOf,
  oneOf,
  optional,
  pair,
  parseDatabase,
  parseListen,
  parseProxies,
  parsePush,
  parseRateLimit,
  parseSwitch,
  parseWebhook,
  reconcileIntervalOf,
  secretOf,
  type DatabaseLocation,
  type Read,
  type WebhookConfig,
} from './config-values.js';

/** The validated configuration of the daemon. */
export interface DaemonConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  dataDir: string;
  /** The SQLite file or the PostgreSQL database. */
  database: DatabaseLocation;
  /** Base URL without a trailing slash; absent means `http://<bound address>`. */
  publicUrl?: string;
  tls?: { certFile: string; keyFile: string; requestClientCert: boolean };
  apiKey?: string;
  scepChallenge?: string;
  /** Accept single-DES SCEP envelopes (weak; only for old clients). */
  scepAllowDes: boolean;
  push?: PushCertificateFiles;
  apnsUrl?: string;
  apnsCaFile?: string;
  /** `--smtp-url`: where invitation mail goes (may carry credentials: never logged). */
  smtpUrl?: string;
  /** `--smtp-from`: the invitations' sender; absent, `orchard@<public host>`. */
  smtpFrom?: string;
  logLevel: string;
  certHeader?: string;
  caKeyType: 'rsa-4096' | 'ec-p384' | 'rsa-2048';
  /** `--profile-signing-cert`/`--profile-signing-key`: the operator's profile-signing identity. */
  profileSigning?: { certFile: string; keyFile: string };
  /** `--secrets-key-file`: a key file that must exist; absent uses `<dataDir>/secrets.key`. */
  secretsKeyFile?: string;
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
  /** Lifetime of the SCEP challenge from a link that never expires (default 7 days). */
  enrollmentChallengeTtlMs: number;
  /** How often each enrolled device's profiles are reconciled with a ProfileList (default 24 h). */
  profileReconcileIntervalMs: number;
  /** Proxy addresses and CIDRs (IPv4 or IPv6) whose certificate header and XFF are believed. */
  trustedProxies: readonly string[];
  /** Most open connections. */
  maxConnections: number;
  /** Device certificates kept parsed and verified, process-wide (`--identity-cache`). */
  identityCache: number;
  /** A connection without complete headers this long after its request began is cut (408). */
  headersTimeoutMs: number;
  /** A request not fully received this long after it began is cut (408). */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /**
   * `--acme-attestation-roots`: PEM bundle of the anchors device attestations (ACME
   * device-attest-01) must chain to; absent, Apple's Enterprise Attestation Root (bundled).
   */
  acmeAttestationRootsFile?: string;
  /** `--acme-test-challenge`: offer ACME's test-only `test-01` (never with an https public URL). */
  acmeTestChallenge: boolean;
  /** `--workers`: processes serving the one port over the one database (default 1). */
  workers: number;
}

/** One flag of `orchard serve`. `env` is `ORCHARD_` plus the flag in capitals. */
export interface FlagSpec {
  /** Flag name without dashes, e.g. `data-dir`. */
  name: string;
  /** Placeholder of its value; absent for a boolean switch. */
  arg?: string;
  description: string;
  /** The configuration this flag (or the group it opens) sets; absent when its group's first flag reads it. */
  parse?: (read: Read) => Partial<DaemonConfig>;
}

const DAY = 86_400_000;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const CA_TYPES = ['rsa-4096', 'ec-p384', 'rsa-2048'] as const;

function parseTls(read: Read): DaemonConfig['tls'] {
  const files = pair(read, 'tls-cert', 'tls-key');
  const client = read('tls-client-cert');
  if (!files) {
    if (client !== undefined) throw new ConfigError('--tls-client-cert', 'needs --tls-cert');
    return undefined;
  }
  const requestClientCert = parseSwitch('--tls-client-cert', client);
  return { certFile: files[0], keyFile: files[1], requestClientCert };
}

function parseApiKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < 32)
    throw new ConfigError(
      '--api-key',
      'must be at least 32 characters (an empty key never opens the API)',
    );
  if (/\s/.test(value)) throw new ConfigError('--api-key', 'must not contain whitespace');
  return value;
}

/** An `smtp://` or `smtps://` URL with a host; the error never repeats it (it may hold a password). */
function parseSmtpUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['smtp:', 'smtps:'].includes(url.protocol) || url.hostname === '')
    throw new ConfigError(
      '--smtp-url',
      'must be smtp://[user:password@]host[:port] or smtps://...',
    );
  return value;
}

function parseSmtpFrom(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(value))
    throw new ConfigError('--smtp-from', 'must be a mail address such as orchard@example.com');
  return value;
}

function parseCertHeader(read: Read): string | undefined {
  const value = read('cert-header');
  if (value === undefined) return undefined;
  if (read('trusted-proxy') === undefined)
    throw new ConfigError(
      '--cert-header',
      'needs --trusted-proxy: without it anyone could send a device certificate in the header',
    );
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value))
    throw new ConfigError('--cert-header', 'must be an HTTP header name');
  return value.toLowerCase();
}

/**
 * `--acme-test-challenge`: a switch, refused when devices reach the daemon over https (an
 * explicit https `--public-url`, or TLS without one): test-01 proves nothing about a device.
 */
function parseAcmeTestChallenge(read: Read): boolean {
  const on = parseSwitch('--acme-test-challenge', read('acme-test-challenge'));
  const publicUrl = read('public-url');
  const https =
    publicUrl === undefined ? read('tls-cert') !== undefined : /^https:/i.test(publicUrl.trim());
  if (on && https)
    throw new ConfigError(
      '--acme-test-challenge',
      'is for tests only and refused with an https public URL: test-01 proves nothing about a device',
    );
  return on;
}

function parseTimeouts(read: Read) {
  const headersTimeoutMs = durationOf(read, 'headers-timeout', 10_000);
  const requestTimeoutMs = durationOf(read, 'request-timeout', 30_000);
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError('--headers-timeout', 'must not be longer than --request-timeout');
  return { headersTimeoutMs, requestTimeoutMs };
}

/** `--workers`: a count from 1 to 64, or `auto` (one per CPU the process may use). */
function parseWorkers(value: string | undefined): number {
  if (value === 'auto') return Math.max(1, Math.min(64, availableParallelism()));
  const count = countOf('--workers', value, 1);
  if (count > 64) throw new ConfigError('--workers', 'must be at most 64 (or auto)');
  return count;
}

/** Every flag of `orchard serve`, in help order, each with its parser. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: 'listen',
    arg: 'HOST:PORT',
    description: 'where to listen (default 127.0.0.1:8080)',
    parse: (r) => parseListen(r('listen')),
  },
  {
    name: 'data-dir',
    arg: 'DIR',
    description: 'state directory (default ./orchard-data)',
    parse: (r) => ({ dataDir: dataDirOf(r) }),
  },
  {
    name: 'database',
    arg: 'URL',
    description: 'sqlite:PATH (default <data-dir>/orchard.db) or postgres://USER@HOST:PORT/DB',
    parse: (r) => ({ database: parseDatabase(r('database'), dataDirOf(r)) }),
  },
  {
    name: 'public-url',
    arg: 'URL',
    description: 'base URL devices use (default http://<listen>)',
    parse: (r) =>
      optional('publicUrl', baseUrl('--public-url', r('public-url'), ['http:', 'https:'])),
  },
  {
    name: 'tls-cert',
    arg: 'FILE',
    description: 'serve HTTPS with this certificate chain (PEM)',
    parse: (r) => optional('tls', parseTls(r)),
  },
  { name: 'tls-key', arg: 'FILE', description: 'private key of --tls-cert (PEM)' },
  { name: 'tls-client-cert', description: 'with TLS, ask devices for their client certificate' },
  {
    name: 'api-key',
    arg: 'KEY',
    description: 'an admin API key (32+ characters, write scope)',
    parse: (r) => optional('apiKey', parseApiKey(r('api-key'))),
  },
  {
    name: 'scep-challenge',
    arg: 'SECRET',
    description: 'static SCEP challenge (8+ characters)',
    parse: (r) => optional('scepChallenge', secretOf('--scep-challenge', r('scep-challenge'), 8)),
  },
  {
    name: 'scep-allow-des',
    description: 'accept single-DES SCEP requests (old clients such as Debian scepclient 2.1)',
    parse: (r) => ({ scepAllowDes: parseSwitch('--scep-allow-des', r('scep-allow-des')) }),
  },
  {
    name: 'push-cert',
    arg: 'FILE',
    description: 'APNs MDM push certificate (PEM)',
    parse: (r) => optional('push', parsePush(r)),
  },
  { name: 'push-key', arg: 'FILE', description: 'private key of --push-cert (PEM)' },
  { name: 'push-p12', arg: 'FILE', description: 'push certificate and key as PKCS#12' },
  { name: 'push-p12-password', arg: 'PW', description: 'password of --push-p12 (shows in ps)' },
  {
    name: 'push-p12-password-file',
    arg: 'FILE',
    description: 'file holding the password of --push-p12 (a trailing newline is dropped)',
  },
  {
    name: 'apns-url',
    arg: 'URL',
    description: 'APNs base URL (default Apple production)',
    parse: (r) => optional('apnsUrl', baseUrl('--apns-url', r('apns-url'), ['https:'])),
  },
  {
    name: 'apns-ca',
    arg: 'FILE',
    description: 'extra CA for the APNs server (tests only)',
    parse: (r) =>
      optional('apnsCaFile', r('apns-ca') === undefined ? undefined : resolve(r('apns-ca') ?? '')),
  },
  {
    name: 'smtp-url',
    arg: 'URL',
    description: 'send invitation mail through this SMTP server (smtp:// or smtps://)',
    parse: (r) => optional('smtpUrl', parseSmtpUrl(r('smtp-url'))),
  },
  {
    name: 'smtp-from',
    arg: 'ADDRESS',
    description: 'sender of invitation mail (default orchard@<public host>)',
    parse: (r) => optional('smtpFrom', parseSmtpFrom(r('smtp-from'))),
  },
  {
    name: 'log-level',
    arg: 'LEVEL',
    description: 'trace|debug|info|warn|error|fatal|silent',
    parse: (r) => ({ logLevel: oneOf('--log-level', LEVELS, r('log-level'), 'info') }),
  },
  {
    name: 'cert-header',
    arg: 'NAME',
    description: 'proxy header carrying the client certificate',
    parse: (r) => optional('certHeader', parseCertHeader(r)),
  },
  {
    name: 'ca-key-type',
    arg: 'TYPE',
    description: 'key of a new CA: rsa-4096 (default), ec-p384, rsa-2048',
    parse: (r) => ({ caKeyType: oneOf('--ca-key-type', CA_TYPES, r('ca-key-type'), 'rsa-4096') }),
  },
  {
    name: 'webhook-url',
    arg: 'URL',
    description: 'deliver events (enrolled, ...) to this URL',
    parse: (r) => optional('webhook', parseWebhook(r)),
  },
  {
    name: 'webhook-secret',
    arg: 'SECRET',
    description: 'HMAC key of the webhook (32+ characters)',
  },
  {
    name: 'webhook-format',
    arg: 'FORMAT',
    description: 'orchard (default) or nanomdm (MicroMDM/NanoMDM events with raw payloads)',
  },
  {
    name: 'command-retention',
    arg: 'DURATION',
    description: 'delete finished commands and delivered events after this long (e.g. 30d)',
    parse: (r) =>
      optional(
        'commandRetentionMs',
        r('command-retention') === undefined ? undefined : durationOf(r, 'command-retention', 0),
      ),
  },
  {
    name: 'push-allow-topic-change',
    description: 'accept a push certificate with another topic (orphans enrolled devices)',
    parse: (r) => ({
      pushAllowTopicChange: parseSwitch('--push-allow-topic-change', r('push-allow-topic-change')),
    }),
  },
  {
    name: 'push-watch-interval',
    arg: 'DURATION',
    description: 'how often the push certificate files are checked for a renewal (default 60s)',
    parse: (r) => ({ pushWatchIntervalMs: durationOf(r, 'push-watch-interval', 60_000) }),
  },
  {
    name: 'rate-limit',
    arg: 'N/MIN',
    description: 'per-address limit on enrollment, SCEP and failed logins (default 60/min, off)',
    parse: (r) => ({ rateLimitPerMinute: parseRateLimit(r('rate-limit')) }),
  },
  {
    name: 'identity-renewal',
    arg: 'DURATION',
    description: 'renew device identity certificates this long before they expire (default 30d)',
    parse: (r) => ({
      identityRenewalLeadMs: durationOf(r, 'identity-renewal', 30 * DAY, [DAY, '1d']),
    }),
  },
  {
    name: 'enrollment-challenge-ttl',
    arg: 'DURATION',
    description:
      'lifetime of the SCEP challenge from a link that never expires (default 7d; others: the link)',
    parse: (r) => ({
      enrollmentChallengeTtlMs: durationOf(r, 'enrollment-challenge-ttl', 7 * DAY, [
        3_600_000,
        '1h',
      ]),
    }),
  },
  {
    name: 'profile-reconcile-interval',
    arg: 'DURATION',
    description:
      "compare each device's profiles with a ProfileList this often (default 24h, at least 5m)",
    parse: (r) => ({ profileReconcileIntervalMs: reconcileIntervalOf(r) }),
  },
  {
    name: 'profile-signing-cert',
    arg: 'FILE',
    description:
      'sign profiles with this certificate (PEM, chain after it) instead of the generated one',
    parse: (r) => {
      const files = pair(r, 'profile-signing-cert', 'profile-signing-key');
      return optional('profileSigning', files && { certFile: files[0], keyFile: files[1] });
    },
  },
  {
    name: 'profile-signing-key',
    arg: 'FILE',
    description: 'private key of --profile-signing-cert (PEM)',
  },
  {
    name: 'secrets-key-file',
    arg: 'FILE',
    description: 'key file sealing device secrets at rest (default <data-dir>/secrets.key)',
    parse: (r) => optional('secretsKeyFile', fileOf('--secrets-key-file', r('secrets-key-file'))),
  },
  {
    name: 'trusted-proxy',
    arg: 'CIDR[,CIDR]',
    description: 'proxies whose --cert-header and X-Forwarded-For are believed (none by default)',
    parse: (r) => ({ trustedProxies: parseProxies(r('trusted-proxy')) }),
  },
  {
    name: 'max-connections',
    arg: 'N',
    description: 'most open connections; idle ones are closed first (default 1024)',
    parse: (r) => ({ maxConnections: countOf('--max-connections', r('max-connections'), 1024) }),
  },
  {
    name: 'identity-cache',
    arg: 'N',
    description: `device certificates kept parsed and verified, about 5 KB each; set above the number of devices (default ${String(EMBEDDED_CERTIFICATE_CACHE_DEFAULT)})`,
    parse: (r) => ({
      identityCache: countOf(
        '--identity-cache',
        r('identity-cache'),
        EMBEDDED_CERTIFICATE_CACHE_DEFAULT,
      ),
    }),
  },
  {
    name: 'headers-timeout',
    arg: 'DURATION',
    description: 'time a client has to send request headers (default 10s)',
    parse: parseTimeouts,
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
    parse: (r) => ({ keepAliveTimeoutMs: durationOf(r, 'keep-alive-timeout', 5_000) }),
  },
  {
    name: 'acme-attestation-roots',
    arg: 'FILE',
    description:
      "anchors (PEM bundle) ACME device attestations must chain to (default: Apple's Enterprise Attestation Root, bundled)",
    parse: (r) =>
      optional(
        'acmeAttestationRootsFile',
        fileOf('--acme-attestation-roots', r('acme-attestation-roots')),
      ),
  },
  {
    name: 'acme-test-challenge',
    description:
      'TESTS ONLY: offer the ACME test-01 challenge, valid without any proof (refused with an https public URL)',
    parse: (r) => ({ acmeTestChallenge: parseAcmeTestChallenge(r) }),
  },
  {
    name: 'workers',
    arg: 'N',
    description:
      'processes serving the port over one SQLite database, or auto: one per CPU (default 1)',
    parse: (r) => ({ workers: parseWorkers(r('workers')) }),
  },
];

/** Environment variable of a flag: `data-dir` → `ORCHARD_DATA_DIR`. */
export function envName(flag: string): string {
  return `ORCHARD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Raw values: flag values (commander's camelCase keys or flag names) over the environment. */
export type RawValues = Readonly<Record<string, string | boolean | undefined>>;

type Env = Readonly<Record<string, string | undefined>>;

const camel = (flag: string): string =>
  flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function reader(flags: RawValues, env: Env): Read {
  return (flag) => {
    const value = flags[camel(flag)] ?? flags[flag];
    if (typeof value === 'string') return value;
    if (value === true) return 'true';
    return env[envName(flag)];
  };
}

/**
 * The database named by `--database`/`ORCHARD_DATABASE` (default `<data-dir>/orchard.db`),
 * for the offline subcommands. Throws ConfigError naming the flag.
 */
export function resolveDatabase(flags: RawValues, env: Env = process.env): DatabaseLocation {
  const read = reader(flags, env);
  return parseDatabase(read('database'), dataDirOf(read));
}

/**
 * The secrets key file named by `--secrets-key-file`/`ORCHARD_SECRETS_KEY_FILE`, or
 * `<data-dir>/secrets.key` (`given` false), for `orchard secrets`. Throws ConfigError naming
 * the flag on an empty value.
 */
export function resolveSecretsKeyFile(
  flags: RawValues,
  env: Env = process.env,
): { path: string; given: boolean } {
  const read = reader(flags, env);
  const file = fileOf('--secrets-key-file', read('secrets-key-file'));
  if (file !== undefined) return { path: file, given: true };
  return { path: resolve(dataDirOf(read), 'secrets.key'), given: false };
}

/**
 * Resolves flags (over `ORCHARD_*` variables) into a {@link DaemonConfig}: each flag's parser in
 * help order. Throws {@link ConfigError} naming the flag on any invalid value; files are checked
 * later, at open.
 */
export function resolveConfig(flags: RawValues, env: Env = process.env): DaemonConfig {
  const read = reader(flags, env);
  const config: Partial<DaemonConfig> = {};
  for (const flag of FLAGS) Object.assign(config, flag.parse?.(read));
  return config as DaemonConfig;
}

/**
 * Configuration of `orchard serve`: every flag with its `ORCHARD_*` variable, and the resolution
 * of both into a typed {@link DaemonConfig}, validated at start-up with errors naming the flag.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  parseFeatures,
  parseSwitch,
  parseUrlFlag,
  type FeatureConfig,
  type Read,
} from './config-features.js';
import { NETWORK_FLAGS, parseNetwork, type NetworkConfig } from './config-network.js';
import { ConfigError, type PushCertificateFiles } from '../index.js';

/** One flag of `orchard serve`. `env` is `ORCHARD_` plus the flag in capitals. */
export interface FlagSpec {
  /** Flag name without dashes, e.g. `data-dir`. */
  name: string;
  /** Placeholder of its value; absent for a boolean switch. */
  arg?: string;
  description: string;
}

/** Every flag of `orchard serve`, in help order. */
export const FLAGS: readonly FlagSpec[] = [
  { name: 'listen', arg: 'HOST:PORT', description: 'where to listen (default 127.0.0.1:8080)' },
  { name: 'data-dir', arg: 'DIR', description: 'state directory (default ./orchard-data)' },
  { name: 'database', arg: 'URL', description: 'sqlite:PATH (default <data-dir>/orchard.db)' },
  { name: 'public-url', arg: 'URL', description: 'base URL devices use (default http://<listen>)' },
  { name: 'tls-cert', arg: 'FILE', description: 'serve HTTPS with this certificate chain (PEM)' },
  { name: 'tls-key', arg: 'FILE', description: 'private key of --tls-cert (PEM)' },
  { name: 'tls-client-cert', description: 'with TLS, ask devices for their client certificate' },
  { name: 'api-key', arg: 'KEY', description: 'an admin API key (32+ characters, write scope)' },
  { name: 'scep-challenge', arg: 'SECRET', description: 'static SCEP challenge (8+ characters)' },
  {
    name: 'scep-allow-des',
    description: 'accept single-DES SCEP requests (old clients such as Debian scepclient 2.1)',
  },
  { name: 'push-cert', arg: 'FILE', description: 'APNs MDM push certificate (PEM)' },
  { name: 'push-key', arg: 'FILE', description: 'private key of --push-cert (PEM)' },
  { name: 'push-p12', arg: 'FILE', description: 'push certificate and key as PKCS#12' },
  { name: 'push-p12-password', arg: 'PW', description: 'password of --push-p12 (shows in ps)' },
  {
    name: 'push-p12-password-file',
    arg: 'FILE',
    description: 'file holding the password of --push-p12 (a trailing newline is dropped)',
  },
  { name: 'apns-url', arg: 'URL', description: 'APNs base URL (default Apple production)' },
  { name: 'apns-ca', arg: 'FILE', description: 'extra CA for the APNs server (tests only)' },
  { name: 'log-level', arg: 'LEVEL', description: 'trace|debug|info|warn|error|fatal|silent' },
  { name: 'cert-header', arg: 'NAME', description: 'proxy header carrying the client certificate' },
  {
    name: 'ca-key-type',
    arg: 'TYPE',
    description: 'key of a new CA: rsa-4096 (default), ec-p384, rsa-2048',
  },
  { name: 'webhook-url', arg: 'URL', description: 'deliver events (enrolled, ...) to this URL' },
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
  },
  {
    name: 'push-allow-topic-change',
    description: 'accept a push certificate with another topic (orphans enrolled devices)',
  },
  {
    name: 'push-watch-interval',
    arg: 'DURATION',
    description: 'how often the push certificate files are checked for a renewal (default 60s)',
  },
  {
    name: 'rate-limit',
    arg: 'N/MIN',
    description: 'per-address limit on enrollment, SCEP and failed logins (default 60/min, off)',
  },
  {
    name: 'identity-renewal',
    arg: 'DURATION',
    description: 'renew device identity certificates this long before they expire (default 30d)',
  },
  {
    name: 'enrollment-challenge-ttl',
    arg: 'DURATION',
    description:
      'lifetime of the SCEP challenge from a link that never expires (default 7d; others: the link)',
  },
  {
    name: 'secrets-key-file',
    arg: 'FILE',
    description: 'key file sealing device secrets at rest (default <data-dir>/secrets.key)',
  },
  ...NETWORK_FLAGS,
];

/** Environment variable of a flag: `data-dir` → `ORCHARD_DATA_DIR`. */
export function envName(flag: string): string {
  return `ORCHARD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The validated configuration of the daemon. */
export interface DaemonConfig extends FeatureConfig, NetworkConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  dataDir: string;
  /** SQLite database file. */
  databasePath: string;
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
  logLevel: string;
  certHeader?: string;
  caKeyType: 'rsa-4096' | 'ec-p384' | 'rsa-2048';
  /** `--secrets-key-file`: a key file that must exist; absent uses `<dataDir>/secrets.key`. */
  secretsKeyFile?: string;
}

/** Raw values: flag values (commander's camelCase keys or flag names) over the environment. */
export type RawValues = Readonly<Record<string, string | boolean | undefined>>;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const CA_TYPES = ['rsa-4096', 'ec-p384', 'rsa-2048'] as const;
const camel = (flag: string): string =>
  flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

type Env = Readonly<Record<string, string | undefined>>;

function reader(flags: RawValues, env: Env): Read {
  return (flag) => {
    const value = flags[camel(flag)] ?? flags[flag];
    if (typeof value === 'string') return value;
    if (value === true) return 'true';
    return env[envName(flag)];
  };
}

/** `--data-dir`, absolute (default `./orchard-data`); refused when empty. */
function dataDirOf(read: Read): string {
  const dir = read('data-dir');
  if (dir === '') throw new ConfigError('--data-dir', 'must not be empty');
  return resolve(dir ?? './orchard-data');
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port > 65535)
    throw new ConfigError('--listen', `expected HOST:PORT, got "${value}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function parseUrl(flag: string, value: string, protocols: readonly string[]): string {
  const url = parseUrlFlag(flag, value, protocols);
  if (url.search !== '' || url.hash !== '' || url.username !== '')
    throw new ConfigError(flag, 'must not carry a query, fragment or credentials');
  return url.href.replace(/\/+$/, '');
}

function parseDatabase(value: string | undefined, dataDir: string): string {
  if (value === undefined || value === '') return resolve(dataDir, 'orchard.db');
  if (/^postgres(ql)?:\/\//.test(value))
    throw new ConfigError('--database', 'PostgreSQL is not yet supported; use sqlite:PATH');
  const m = /^sqlite:(.+)$/.exec(value);
  if (!m?.[1]) throw new ConfigError('--database', `expected sqlite:PATH, got "${value}"`);
  return isAbsolute(m[1]) ? m[1] : resolve(m[1]);
}

/**
 * The database file named by `--database`/`ORCHARD_DATABASE` (default `<data-dir>/orchard.db`),
 * for the offline subcommands. Throws ConfigError naming the flag.
 */
export function resolveDatabasePath(flags: RawValues, env: Env = process.env): string {
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
  const file = parseSecretsKeyFile(read('secrets-key-file'));
  if (file !== undefined) return { path: file, given: true };
  return { path: resolve(dataDirOf(read), 'secrets.key'), given: false };
}

function parseSecretsKeyFile(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw new ConfigError('--secrets-key-file', 'must name a file');
  return resolve(value);
}

function pair(read: Read, a: string, b: string): [string, string] | undefined {
  const x = read(a);
  const y = read(b);
  if (x === undefined && y === undefined) return undefined;
  if (x === undefined || x === '') throw new ConfigError(`--${a}`, `is required with --${b}`);
  if (y === undefined || y === '') throw new ConfigError(`--${b}`, `is required with --${a}`);
  return [resolve(x), resolve(y)];
}

function parsePush(read: Read): PushCertificateFiles | undefined {
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
  if (p12 === '') throw new ConfigError('--push-p12', 'must name a file');
  return { kind: 'p12', file: resolve(p12), password: pushP12Password(read) };
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

function parseSecrets(read: Read): Partial<DaemonConfig> {
  const out: Partial<DaemonConfig> = {};
  const apiKey = read('api-key');
  if (apiKey !== undefined) {
    if (apiKey.length < 32)
      throw new ConfigError(
        '--api-key',
        'must be at least 32 characters (an empty key never opens the API)',
      );
    if (/\s/.test(apiKey)) throw new ConfigError('--api-key', 'must not contain whitespace');
    out.apiKey = apiKey;
  }
  const challenge = read('scep-challenge');
  if (challenge !== undefined) {
    if (challenge.length < 8)
      throw new ConfigError('--scep-challenge', 'must be at least 8 characters');
    out.scepChallenge = challenge;
  }
  return out;
}

function parseLogLevel(value: string | undefined): string {
  const level = value ?? 'info';
  if (!LEVELS.includes(level))
    throw new ConfigError('--log-level', `must be one of ${LEVELS.join(', ')}`);
  return level;
}

function parseCaKeyType(value: string | undefined): DaemonConfig['caKeyType'] {
  const found = CA_TYPES.find((t) => t === (value ?? 'rsa-4096'));
  if (!found) throw new ConfigError('--ca-key-type', `must be one of ${CA_TYPES.join(', ')}`);
  return found;
}

function parseCertHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value))
    throw new ConfigError('--cert-header', 'must be an HTTP header name');
  return value.toLowerCase();
}

function parseTls(read: Read): DaemonConfig['tls'] {
  const files = pair(read, 'tls-cert', 'tls-key');
  const client = read('tls-client-cert');
  if (!files) {
    if (client !== undefined) throw new ConfigError('--tls-client-cert', 'needs --tls-cert');
    return undefined;
  }
  return {
    certFile: files[0],
    keyFile: files[1],
    requestClientCert: parseSwitch('--tls-client-cert', client),
  };
}

/**
 * Resolves flags (over `ORCHARD_*` variables) into a {@link DaemonConfig}. Throws
 * {@link ConfigError} naming the flag on any invalid value; files are checked later, at open.
 */
export function resolveConfig(flags: RawValues, env: Env = process.env): DaemonConfig {
  const read = reader(flags, env);
  const { host, port } = parseListen(read('listen') ?? '127.0.0.1:8080');
  const dataDir = dataDirOf(read);
  const config: DaemonConfig = {
    host,
    port,
    dataDir,
    databasePath: parseDatabase(read('database'), dataDir),
    logLevel: parseLogLevel(read('log-level')),
    caKeyType: parseCaKeyType(read('ca-key-type')),
    scepAllowDes: parseSwitch('--scep-allow-des', read('scep-allow-des')),
    ...parseSecrets(read),
    ...parseFeatures(read),
    ...parseNetwork(read),
  };
  const publicUrl = read('public-url');
  if (publicUrl !== undefined)
    config.publicUrl = parseUrl('--public-url', publicUrl, ['http:', 'https:']);
  const tls = parseTls(read);
  if (tls) config.tls = tls;
  const push = parsePush(read);
  if (push) config.push = push;
  const apnsUrl = read('apns-url');
  if (apnsUrl !== undefined) config.apnsUrl = parseUrl('--apns-url', apnsUrl, ['https:']);
  const apnsCa = read('apns-ca');
  if (apnsCa !== undefined) config.apnsCaFile = resolve(apnsCa);
  const certHeader = parseCertHeader(read('cert-header'));
  if (certHeader !== undefined) config.certHeader = certHeader;
  const secretsKeyFile = parseSecretsKeyFile(read('secrets-key-file'));
  if (secretsKeyFile !== undefined) config.secretsKeyFile = secretsKeyFile;
  return config;
}

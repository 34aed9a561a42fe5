/**
 * The composition root of `orchard serve`: opens the data directory, wires the services, creates
 * the first API key and enrollment link on first start, listens (HTTP or HTTPS), and shuts down
 * gracefully, draining in-flight requests.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import {
  closeServer,
  createEdgeListener,
  createNodeServer,
  guardConnections,
  listenServer,
  type EdgeRoute,
} from '../http/node.js';
import {
  createMetrics,
  enrollmentCounter,
  metricsResponse,
  type OrchardMetrics,
} from '../http/metrics.js';
import {
  createApiKey,
  ensureApiKey,
  prepareDataDirectory,
  PUSH_CERTIFICATE_HELP,
  PUSH_CERTIFICATE_STEPS,
  PUSH_TOPIC_META,
  setEmbeddedCertificateCacheSize,
  type EdgeResponse,
} from '../index.js';
import type { DaemonConfig } from './config.js';
import { orchardRoutes } from '../server/index.js';
import { createLineBuffer, requestLineWriter, type LineBuffer } from './log-lines.js';
import { openServices, type DaemonServices, type ServiceRole } from './services.js';

/** Options of {@link startDaemon} beyond the configuration. */
export interface StartOptions {
  /** Where pino writes JSON lines; default stdout. */
  logDestination?: DestinationStream;
  /** Where the first-start banner (API key, enrollment URL) goes; default stderr. Never the log. */
  print?: (text: string) => void;
  clock?: () => Date;
  /**
   * The part this process plays among several over one database (`--workers`); default the
   * only process: background jobs, the first-start API key and banner.
   */
  role?: ServiceRole;
  /**
   * The `/metrics` answer over this process's metrics; default this process's registry alone
   * (a `--workers` worker answers the whole daemon's, aggregated by the primary).
   */
  metricsResponder?: (metrics: OrchardMetrics) => () => Promise<EdgeResponse>;
}

/** A running daemon. */
export interface RunningDaemon {
  /** Where it listens, e.g. `http://127.0.0.1:41234`. */
  url: string;
  publicUrl: string;
  port: number;
  /** The API key generated on first start (absent on later starts or with --api-key). */
  generatedApiKey?: string;
  /** Checks the push certificate files now (another worker reloaded them); true on a reload. */
  recheckPush(): Promise<boolean>;
  /** Stops accepting, drains in-flight requests (at most `graceMs`), closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** The server of `config`: HTTP, or HTTPS with the `--tls-cert` files. */
async function createServer(config: DaemonConfig): Promise<Server> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, tls } = config;
  const timeouts = { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs };
  if (!tls) return createNodeServer(timeouts);
  const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  return createNodeServer({
    ...timeouts,
    tls: { cert, key, requestClientCert: tls.requestClientCert },
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The push certificate steps, one per line, for stderr. */
function pushHelp(): string {
  return PUSH_CERTIFICATE_STEPS.map((line) => `  ${line}\n`).join('');
}

/**
 * What the first start prints once: the generated API key, and the enrollment URL only when a
 * push certificate is configured (`link`); otherwise how to get one, never a link that would fail.
 */
function firstStartBanner(apiKey: string, link: string | undefined): string {
  const enroll =
    link === undefined ? pushHelp() : `  Enrollment URL (single use, 7 days): ${link}\n`;
  return `\nOrchard first start.\n  Admin API key (shown once, stored hashed): ${apiKey}\n${enroll}\n`;
}

/** The route table: Orchard's routes (rate limits from `--rate-limit`) and `/metrics`. */
function routeTable(
  config: DaemonConfig,
  services: DaemonServices,
  metrics: { metrics: OrchardMetrics; serve: () => Promise<EdgeResponse> },
  logger: PinoLogger,
): EdgeRoute[] {
  const { storage, admin, push, clock, caStorage } = services;
  const { trustedProxies, certHeader, rateLimitPerMinute } = config;
  const deps = { services, storage, admin, push, clock, logger };
  const orchard = orchardRoutes(
    {
      ...{ ...deps, certificates: caStorage.certificates, pushReload: () => services.pushReload },
      acme: services.acme,
      onProfileServed: () => {
        metrics.metrics.enrollment('profile');
      },
    },
    { trustedProxies, rateLimitPerMinute, ...(certHeader === undefined ? {} : { certHeader }) },
  );
  return [...orchard, { path: '/metrics', serve: metrics.serve }];
}

/** Records `--api-key`, or creates the first key when none is active (returned once). */
async function firstStartKey(
  config: DaemonConfig,
  services: DaemonServices,
): Promise<string | undefined> {
  if (config.apiKey !== undefined) {
    await ensureApiKey(services.admin, config.apiKey, 'from --api-key');
    return undefined;
  }
  if ((await services.admin.countActiveApiKeys()) > 0) return undefined;
  return (await createApiKey(services.admin, 'initial', 'write')).key;
}

/**
 * Starts the daemon. Throws ConfigError (naming the flag) for unusable files, StorageError for
 * an unusable database, and the listen error (e.g. EADDRINUSE) when the address is taken.
 */
export async function startDaemon(
  config: DaemonConfig,
  options: StartOptions = {},
): Promise<RunningDaemon> {
  const print = options.print ?? ((t: string) => process.stderr.write(t));
  const role = options.role ?? { background: true };
  // Lines gathered and written a few at a time (see log-lines.ts); a given destination as it is.
  const lines = options.logDestination === undefined ? createLineBuffer() : undefined;
  const destination: DestinationStream = options.logDestination ?? (lines as LineBuffer);
  const base = { service: 'orchard', ...(role.index === undefined ? {} : { worker: role.index }) };
  const logger: PinoLogger = pino(
    { level: config.logLevel, base, redact: ['authorization', '*.authorization'] },
    destination,
  );
  // Request lines carry fixed fields only (no header, body or token): no redaction pass for them.
  const requestLogger: PinoLogger = pino({ level: config.logLevel, base }, destination);
  // The same lines as requestLogger's, each built as one string: no logger call per request.
  const requestLine = requestLineWriter(destination, base, requestLogger.isLevelEnabled('info'));
  await prepareDataDirectory(config.dataDir, logger);
  const metrics = createMetrics();
  const clock = options.clock ?? (() => new Date());
  const services = await openServices(config, logger, metrics, clock, role);
  // Of several workers, the one with the background jobs starts first and does this once.
  const generatedApiKey = role.background ? await firstStartKey(config, services) : undefined;
  metrics.gauge(
    'orchard_enrollments',
    'Enrollments by state.',
    'state',
    enrollmentCounter(services.storage),
  );
  const server = await createServer(config);
  guardConnections(server, { maxConnections: config.maxConnections, logger });
  setEmbeddedCertificateCacheSize(config.identityCache);
  const serveMetrics = (options.metricsResponder ?? ((m) => () => metricsResponse(m)))(metrics);
  const routes = routeTable(config, services, { metrics, serve: serveMetrics }, logger);
  const { trustedProxies } = config;
  server.on(
    'request',
    createEdgeListener({
      ...{ routes, logger, requestLogger, metrics, trustedProxies },
      ...(requestLine === undefined ? {} : { requestLine }),
    }),
  );
  let port: number;
  try {
    port = await listenServer(server, config.port, config.host);
  } catch (error) {
    await services.close();
    throw error;
  }
  const url = `${config.tls ? 'https' : 'http'}://${hostForUrl(config.host)}:${port}`;
  const publicUrl = config.publicUrl ?? url;
  services.setPublicUrl(publicUrl);
  await services.admin.setMeta('public_url', publicUrl);
  if (publicUrl.startsWith('http:'))
    logger.warn(
      { publicUrl },
      'the public URL is plain http: devices require https, so enrollment profiles will not validate on a device; serve TLS or put a TLS proxy in front and set --public-url https://...',
    );
  // `orchard enroll create` reads this: it prints no link the daemon would refuse.
  await services.admin.setMeta(PUSH_TOPIC_META, services.push?.topic ?? '');
  if (!services.push) logger.warn({}, `no push certificate: ${PUSH_CERTIFICATE_HELP}`);
  if (generatedApiKey !== undefined) {
    const link = services.push
      ? (await services.enrollment.createToken({ singleUse: true })).url
      : undefined;
    print(firstStartBanner(generatedApiKey, link));
  } else if (!services.push && role.background) print(`\n${pushHelp()}\n`);
  logger.info({ url, publicUrl, push: services.push !== undefined }, 'listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    publicUrl,
    port,
    ...(generatedApiKey === undefined ? {} : { generatedApiKey }),
    recheckPush: () => services.recheckPush(),
    close(graceMs = 10_000) {
      closing ??= (async () => {
        await closeServer(server, graceMs);
        await services.close();
        logger.info({}, 'stopped');
        logger.flush();
        lines?.end();
      })();
      return closing;
    },
  };
}

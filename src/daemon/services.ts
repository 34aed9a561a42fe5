/**
 * Opens and wires the daemon's parts from its configuration: storage, admin tables, CA and SCEP,
 * the push provider, the MDM core behind certificate authentication, and enrollment. Only the
 * library's public exports are used.
 */
import {
  anyChallenge,
  createCa,
  createMdmCore,
  createOneTimeChallenges,
  createOutboxWorker,
  createScepHandler,
  sealerFor,
  staticChallenge,
  withCertAuth,
  withNanoMdmWebhook,
  type ApnsPushProvider,
  type CertificateAuthority,
  type EnrollmentPushResult,
  type Logger,
  type MdmCore,
  type MdmCoreOptions,
  type MdmService,
  type MdmStorage,
  type OutboxWorker,
  type ScepHandler,
  withEnrollmentLinks,
  openPkiDirectory,
  type PkiDirectory,
  type AdminStorage,
  type FilePush,
  type PushReloadState,
  type PushStats,
} from '../index.js';
import {
  createPushStats,
  identityAuditObservers,
  openFilePush,
  secretsKeyLocation,
} from '../index.js';
import { registerPushGauges, withPushCount, type OrchardMetrics } from '../http/metrics.js';
import { openSealedStorage, type SqliteCaStorage } from '../storage/sqlite/index.js';
import type { DaemonConfig } from './config.js';

/** Everything the HTTP layer serves. */
export interface DaemonServices {
  storage: MdmStorage;
  admin: AdminStorage;
  caStorage: SqliteCaStorage;
  /** The issuing CA: SCEP issues through it, the admin API revokes through it. */
  ca: CertificateAuthority;
  pki: PkiDirectory;
  core: MdmCore;
  service: MdmService;
  scep: ScepHandler;
  /** Mints a one-time SCEP challenge bound to `boundTo`, valid one hour or `ttlSeconds`. */
  issueChallenge(boundTo: string, ttlSeconds?: number): Promise<string>;
  /** The clock every part runs on (the CA, challenges, certificate checks, admin records). */
  clock: () => Date;
  push: ApnsPushProvider | undefined;
  /** The outcome of the latest push certificate reload (absent without push). */
  pushReload: PushReloadState | undefined;
  /** Recent push outcomes by reason, for `/healthz`. */
  pushStats: PushStats;
  /** The webhook delivery worker (absent without `--webhook-url`). */
  webhooks: OutboxWorker | undefined;
  close(): Promise<void>;
}

/** Every per-enrollment push outcome goes to the metrics and to the health window. */
function pushObserver(metrics: OrchardMetrics, stats: PushStats) {
  return (results: readonly EnrollmentPushResult[]): void => {
    for (const r of results) metrics.pushResult(r.outcome, r.reason);
    stats.record(results);
  };
}

const WEEK_MS = 7 * 86_400_000;

/** Storage retention: `--command-retention` for commands and delivered events (7 days with webhooks). */
function retentionOf(config: DaemonConfig) {
  const events = config.commandRetentionMs ?? (config.webhook ? WEEK_MS : undefined);
  if (config.commandRetentionMs === undefined && events === undefined) return {};
  return {
    retention: {
      ...(config.commandRetentionMs === undefined
        ? {}
        : { finishedCommandsMs: config.commandRetentionMs }),
      ...(events === undefined ? {} : { deliveredEventsMs: events }),
    },
  };
}

/**
 * Core options: the topic follows the provider (a forced topic change applies without a
 * restart); events go to the outbox only when a webhook delivers them.
 */
function coreOptions(push: ApnsPushProvider | undefined, outbox: boolean): MdmCoreOptions {
  if (!push) return { outbox };
  return { outbox, topic: () => push.topic };
}

/**
 * The service devices talk to: with `--webhook-format nanomdm`, every check-in and report it
 * accepts also writes a MicroMDM/NanoMDM-shaped event (with the raw payload) to the outbox, and
 * the core writes none of its own.
 */
function servedService(
  config: DaemonConfig,
  service: MdmService,
  storage: MdmStorage,
  webhooks: OutboxWorker | undefined,
  clock: () => Date,
): MdmService {
  if (config.webhook?.format !== 'nanomdm') return service;
  return withNanoMdmWebhook(service, {
    outbox: storage,
    enrollments: storage,
    clock,
    ...(webhooks === undefined
      ? {}
      : {
          onEvent: () => {
            webhooks.wake();
          },
        }),
  });
}

/** The push certificate from its files, when configured (see `openFilePush`). */
function openPush(
  config: DaemonConfig,
  storage: MdmStorage,
  settings: AdminStorage,
  logger: Logger,
): Promise<FilePush | undefined> {
  if (!config.push) return Promise.resolve(undefined);
  return openFilePush({
    files: config.push,
    storage,
    settings,
    logger,
    allowTopicChange: config.pushAllowTopicChange,
    watchIntervalMs: config.pushWatchIntervalMs,
    ...(config.apnsUrl === undefined ? {} : { apnsUrl: config.apnsUrl }),
    ...(config.apnsCaFile === undefined ? {} : { apnsCaFile: config.apnsCaFile }),
  });
}

/**
 * Opens every part, all on `clock`. Throws ConfigError naming the flag for unusable push files,
 * StorageError when the database cannot be opened, and the CA module's errors for unusable keys.
 */
export async function openServices(
  config: DaemonConfig,
  logger: Logger,
  metrics: OrchardMetrics,
  clock: () => Date = () => new Date(),
): Promise<DaemonServices> {
  const pki = await openPkiDirectory(config.dataDir, config.caKeyType, clock);
  // One secrets key seals every device secret: UnlockTokens (the storage) and escrowed
  // bootstrap tokens (the core).
  // One connection to the one database file: MDM storage, CA, challenges and admin tables.
  const { database, storage, secrets } = await openSealedStorage(
    secretsKeyLocation(config),
    { path: config.databasePath, clock, ...retentionOf(config) },
    logger,
  );
  const { ca: caStorage, admin } = database;
  const daemonPush = await openPush(config, storage, admin, logger).catch(
    async (error: unknown) => {
      await database.close();
      throw error;
    },
  );
  const push = daemonPush?.provider;
  const pushStats = createPushStats();
  registerPushGauges(metrics, push);
  const core = createMdmCore(
    {
      storage,
      logger,
      bootstrapSealer: sealerFor(secrets.keyring, 'bootstrap-token'),
      clock,
      ...(push ? { push: withPushCount(push, metrics) } : {}),
      onPushResults: pushObserver(metrics, pushStats),
    },
    coreOptions(push, config.webhook !== undefined && config.webhook.format !== 'nanomdm'),
  );
  for (const type of ['enrolled', 're-enrolled', 'checked-out'] as const)
    core.events.on(type, () => {
      metrics.enrollment(type);
    });
  const webhooks = config.webhook
    ? createOutboxWorker({ store: storage, ...config.webhook, logger })
    : undefined;
  if (webhooks) {
    webhooks.start();
    core.events.on('*', () => {
      webhooks.wake();
    });
  }
  const ca = createCa({ material: pki.ca, store: caStorage.certificates, clock });
  // The CA answers isRevoked(serial): a certificate revoked through the admin API is refused
  // (400 ERR_DEVICE_CERT_REVOKED, never 401) on the device's next request.
  const service = withCertAuth(core, {
    store: storage,
    roots: [ca.certificate],
    intermediates: ca.intermediates,
    revocation: ca,
    // The CA's records are what lets a bound enrollment move to a renewed certificate.
    issuance: ca,
    ...identityAuditObservers(core, admin),
    clock,
    logger,
  });
  const oneTime = createOneTimeChallenges(
    { store: caStorage.challenges, clock },
    { ttlSeconds: 3600 },
  );
  // A certificate issued against a link's challenge spends the link (single use: every other
  // challenge it gave out is refused from then on).
  const linked = withEnrollmentLinks(oneTime.validator, { admin, clock });
  const validator =
    config.scepChallenge === undefined
      ? linked
      : anyChallenge(linked, staticChallenge(config.scepChallenge));
  const scep = createScepHandler(
    { ca, validator, logger, clock },
    { allowSingleDes: config.scepAllowDes },
  );
  return {
    storage,
    admin,
    caStorage,
    ca,
    pki,
    core,
    service: servedService(config, service, storage, webhooks, clock),
    scep,
    issueChallenge: async (boundTo, ttlSeconds) =>
      (await oneTime.issue(boundTo, ttlSeconds === undefined ? {} : { ttlSeconds })).challenge,
    clock,
    push,
    pushReload: daemonPush?.reload,
    pushStats,
    webhooks,
    async close() {
      daemonPush?.watch.stop();
      await core.close();
      await webhooks?.stop();
      await push?.close();
      await database.close();
    },
  };
}

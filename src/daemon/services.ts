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
  type CertAuthDeps,
  type CertificateAuthority,
  type EnrollmentPushResult,
  type Logger,
  type MdmCore,
  type MdmCoreOptions,
  type MdmService,
  type MdmStorage,
  type OutboxWorker,
  type PushProvider,
  type ScepHandler,
  withEnrollmentLinks,
} from '../index.js';
import type { SqliteCaStorage } from '../storage/sqlite/index.js';
import type { AdminStore } from './admin-store.js';
import type { DaemonConfig } from './config.js';
import type { DaemonMetrics } from './metrics.js';
import { openDaemonPki, type DaemonPki } from './pki.js';
import {
  createPushStats,
  openPush,
  pushCertificateGauge,
  type PushReloadState,
  type PushStats,
} from './push.js';
import { openSealedStorage, secretsKeyLocation } from './secrets-key-file.js';

/** Everything the HTTP layer serves. */
export interface DaemonServices {
  storage: MdmStorage;
  admin: AdminStore;
  caStorage: SqliteCaStorage;
  /** The issuing CA: SCEP issues through it, the admin API revokes through it. */
  ca: CertificateAuthority;
  pki: DaemonPki;
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

/** The APNs provider, counting every push result by outcome (`orchard_pushes_total`). */
function countedPush(provider: ApnsPushProvider, metrics: DaemonMetrics): PushProvider {
  return {
    async push(targets) {
      const results = await provider.push(targets);
      for (const r of results) metrics.pushed(r.outcome);
      return results;
    },
  };
}

/** Every per-enrollment push outcome goes to the metrics and to the health window. */
function pushObserver(metrics: DaemonMetrics, stats: PushStats) {
  return (results: readonly EnrollmentPushResult[]): void => {
    for (const r of results) metrics.pushResult(r.outcome, r.reason);
    stats.record(results);
  };
}

const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/** `orchard_push_circuit_state{state}`: 1 for the APNs circuit's current state, 0 for the others. */
function circuitGauge(metrics: DaemonMetrics, push: ApnsPushProvider | undefined): void {
  metrics.gauge(
    'orchard_push_circuit_state',
    'APNs circuit breaker state (1 = current).',
    'state',
    () => {
      const circuit = push?.health().circuit;
      if (circuit === undefined) return {};
      return Object.fromEntries(CIRCUIT_STATES.map((s) => [s, s === circuit ? 1 : 0]));
    },
  );
}

const WEEK_MS = 7 * 86_400_000;

/**
 * What the daemon does with binding decisions: every refused takeover and every certificate that
 * took over an enrollment (renewal, re-enrollment) becomes an event and an audit entry.
 */
function bindingObservers(
  core: MdmCore,
  admin: AdminStore,
): Pick<CertAuthDeps, 'onBound' | 'onRefused'> {
  const channel = async (enrollmentId: string) => {
    const found = await core.findEnrollment(enrollmentId);
    return found ?? { id: enrollmentId, type: 'device' as const, deviceId: enrollmentId };
  };
  return {
    async onRefused(refusal) {
      admin.audit({
        actor: 'device',
        action: 'identity.refused',
        target: refusal.enrollmentId,
        detail: { reason: refusal.reason, serial: refusal.serial },
      });
      await core.announce(await channel(refusal.enrollmentId), {
        type: 'identity-refused',
        reason: refusal.reason,
        serial: refusal.serial,
      });
    },
    async onBound(change) {
      if (change.reason === 'enrollment') return;
      admin.audit({
        actor: 'device',
        action: `identity.${change.reason}`,
        target: change.enrollmentId,
        detail: { serial: change.serial, previousSerial: change.previousSerial ?? null },
      });
      await core.announce(await channel(change.enrollmentId), {
        type: 'identity-rebound',
        reason: change.reason,
        serial: change.serial,
        ...(change.previousSerial === undefined ? {} : { previousSerial: change.previousSerial }),
      });
    },
  };
}

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

/**
 * Opens every part, all on `clock`. Throws ConfigError naming the flag for unusable push files,
 * StorageError when the database cannot be opened, and the CA module's errors for unusable keys.
 */
export async function openServices(
  config: DaemonConfig,
  logger: Logger,
  metrics: DaemonMetrics,
  clock: () => Date = () => new Date(),
): Promise<DaemonServices> {
  const pki = await openDaemonPki(config.dataDir, config.caKeyType, clock);
  // One secrets key seals every device secret: UnlockTokens (the storage) and escrowed
  // bootstrap tokens (the core).
  // One connection to the one database file: MDM storage, CA, challenges and admin tables.
  const { database, storage, secrets } = await openSealedStorage(
    secretsKeyLocation(config),
    { path: config.databasePath, clock, ...retentionOf(config) },
    logger,
  );
  const { ca: caStorage, admin } = database;
  const daemonPush = await openPush(config, { storage, admin, logger }).catch(
    async (error: unknown) => {
      await database.close();
      throw error;
    },
  );
  const push = daemonPush?.provider;
  const pushStats = createPushStats();
  circuitGauge(metrics, push);
  pushCertificateGauge(metrics, push);
  const core = createMdmCore(
    {
      storage,
      logger,
      bootstrapSealer: sealerFor(secrets.keyring, 'bootstrap-token'),
      clock,
      ...(push ? { push: countedPush(push, metrics) } : {}),
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
    ...bindingObservers(core, admin),
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

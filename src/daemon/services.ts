/**
 * Opens the daemon's files (data directory keys, the database, the push certificate) and wires
 * them with `createOrchardServices` (`orchard-mdm/server`) from its configuration.
 */
import {
  openFilePush,
  openPkiDirectory,
  type AdminStorage,
  type ApnsPushProvider,
  type Logger,
  type MdmStorage,
  type PkiDirectory,
  type PushReloadState,
} from '../index.js';
import { registerPushGauges, type OrchardMetrics } from '../http/metrics.js';
import {
  createAcmeClientIdentifiers,
  createOrchardAcme,
  createOrchardServices,
  createSmtpMailer,
  type AcmeClientIdentifiers,
  type AcmeServer,
  type Mailer,
  type OrchardServices,
} from '../server/index.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../index.js';
import type { DaemonConfig } from './config.js';
import { openDaemonDatabase, shareKeyMaterial, type DaemonDatabase } from './database.js';
import { openSqliteCoordination, type Coordination } from '../storage/sqlite/index.js';
import { attestationRootsOf } from './acme.js';

/** Everything the HTTP layer serves. */
export interface DaemonServices extends OrchardServices {
  storage: MdmStorage;
  admin: AdminStorage;
  caStorage: DaemonDatabase['ca'];
  /** The database's engine and, on PostgreSQL, its pool (coordination between daemons). */
  database: DaemonDatabase;
  pki: PkiDirectory;
  /** The clock every part runs on (the CA, challenges, certificate checks, admin records). */
  clock: () => Date;
  push: ApnsPushProvider | undefined;
  /** The outcome of the latest push certificate reload (absent without push). */
  pushReload: PushReloadState | undefined;
  /** Sets the base URL enrollment profiles carry (known once listening). */
  setPublicUrl(url: string): void;
  /** The ACME server, mounted on `/acme/` (its base URL follows the public URL). */
  acme: AcmeServer;
  /** The one-time ClientIdentifiers ACME enrollment profiles carry (shared through the database). */
  acmeIdentifiers: AcmeClientIdentifiers;
  /** Checks the push certificate files now (another process saw them change); true on a reload. */
  recheckPush(): Promise<boolean>;
}

/**
 * The part one process plays among several serving one database (`--workers`): `background`
 * false only serves requests (no retention sweep, webhook delivery, reconcile timer, identity
 * renewal scan or push certificate watch); the one with `background` calls `onPushReloaded`
 * when its watch reloaded the push certificate, so the others can check the files too.
 */
export interface ServiceRole {
  background: boolean;
  /** The worker's index among several (1 has `background`); every log line carries it. */
  index?: number;
  onPushReloaded?: () => void;
}

/**
 * Polls the push certificate files every `intervalMs` in place of the watch's own timer, telling
 * `onReloaded` after each reload; returns its stop.
 */
function watchAndTell(
  watch: { check(): Promise<boolean>; stop(): void },
  intervalMs: number,
  onReloaded: () => void,
): () => void {
  watch.stop();
  const timer = setInterval(() => {
    void watch.check().then((reloaded) => {
      if (reloaded) onReloaded();
    });
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}

const WEEK_MS = 7 * 86_400_000;

/**
 * The coordination of the processes on the daemon's database: PostgreSQL's (advisory locks,
 * LISTEN/NOTIFY), or the SQLite file's own tables (`--workers`, or several daemons on one file).
 */
async function openCoordination(
  config: DaemonConfig,
  database: DaemonDatabase,
  logger: Logger,
): Promise<Coordination> {
  if (config.database.kind === 'sqlite')
    return openSqliteCoordination({ path: config.database.path, logger });
  if (database.postgres === undefined) throw new TypeError('PostgreSQL database not opened');
  const { pgCoordination } = await import('../storage/postgres/index.js');
  return pgCoordination(database.postgres.connection.pool, { url: config.database.url, logger });
}

/**
 * The operator's profile-signing identity (`--profile-signing-cert`, chain after the leaf, and
 * `--profile-signing-key`), replacing the generated one; ConfigError naming the flag when the
 * files are unreadable or the key does not belong to the certificate.
 */
async function operatorSigning(files: { certFile: string; keyFile: string }) {
  const read = (flag: string, file: string) =>
    readFile(file, 'utf8').catch(() => {
      throw new ConfigError(flag, `cannot read ${file}`);
    });
  const [certPem, keyPem] = await Promise.all([
    read('--profile-signing-cert', files.certFile),
    read('--profile-signing-key', files.keyFile),
  ]);
  const blocks = certPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  try {
    const [leaf, ...chain] = blocks.map((b) => new X509Certificate(b));
    if (!leaf) throw new Error('no certificate');
    const privateKey = createPrivateKey(keyPem);
    if (!leaf.checkPrivateKey(privateKey))
      throw new ConfigError('--profile-signing-key', 'is not the key of --profile-signing-cert');
    return { certificate: leaf, privateKey, chain };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      '--profile-signing-cert',
      'needs a PEM certificate and a PEM private key',
    );
  }
}

/** Storage retention: `--command-retention` for commands and delivered events (7 days with webhooks). */
function retentionOf(config: DaemonConfig) {
  const events = config.commandRetentionMs ?? (config.webhook ? WEEK_MS : undefined);
  if (events === undefined) return {};
  const commands = config.commandRetentionMs;
  return {
    retention: {
      ...(commands === undefined ? {} : { finishedCommandsMs: commands }),
      deliveredEventsMs: events,
    },
  };
}

/** The invitation mailer of `--smtp-url`, sending as `--smtp-from` or `orchard@<public host>`. */
function mailerOf(config: DaemonConfig): { mailer?: Mailer } {
  if (config.smtpUrl === undefined) return {};
  const host = config.publicUrl === undefined ? 'localhost' : new URL(config.publicUrl).hostname;
  return {
    mailer: createSmtpMailer({ url: config.smtpUrl, from: config.smtpFrom ?? `orchard@${host}` }),
  };
}

/**
 * Opens every part, all on `clock`. Throws ConfigError naming the flag for unusable push files,
 * StorageError when the database cannot be opened, and the CA module's errors for unusable keys.
 */
export async function openServices(
  config: DaemonConfig,
  logger: Logger & { child(bindings: object): Logger },
  metrics: OrchardMetrics,
  clock: () => Date = () => new Date(),
  role: ServiceRole = { background: true },
): Promise<DaemonServices> {
  const mdmLogger = logger.child({ component: 'mdm' });
  // Read before anything opens: a bad --acme-attestation-roots fails the start at once.
  const attestationRoots = await attestationRootsOf(config);
  // One database (a SQLite file, or PostgreSQL shared by several daemons): MDM storage, CA,
  // challenges and admin tables; one secrets key seals every device secret.
  const database = await openDaemonDatabase(
    config,
    { clock, ...(role.background ? retentionOf(config) : {}) },
    mdmLogger,
  );
  const { storage, ca: caStorage, admin, secrets } = database;
  let pki: PkiDirectory;
  try {
    if (database.postgres !== undefined) {
      // Every daemon on the database issues and signs with the same CA and signing identity.
      const shared = await shareKeyMaterial(
        database.postgres,
        secrets,
        config.dataDir,
        async () => {
          await openPkiDirectory(config.dataDir, config.caKeyType, clock);
        },
        clock,
      );
      mdmLogger.info(
        { keyMaterial: shared },
        'CA and signing identity shared through the database',
      );
    }
    const opened = await openPkiDirectory(config.dataDir, config.caKeyType, clock);
    pki = config.profileSigning
      ? { ...opened, signing: await operatorSigning(config.profileSigning) }
      : opened;
  } catch (error) {
    await database.close();
    throw error;
  }
  const filePush = config.push
    ? await openFilePush({
        ...{ files: config.push, storage, settings: admin, logger: mdmLogger },
        ...{ allowTopicChange: config.pushAllowTopicChange },
        watchIntervalMs: config.pushWatchIntervalMs,
        ...(config.apnsUrl === undefined ? {} : { apnsUrl: config.apnsUrl }),
        ...(config.apnsCaFile === undefined ? {} : { apnsCaFile: config.apnsCaFile }),
      }).catch(async (error: unknown) => {
        await database.close();
        throw error;
      })
    : undefined;
  const push = filePush?.provider;
  let stopWatch = (): void => filePush?.watch.stop();
  if (filePush && !role.background) filePush.watch.stop();
  else if (filePush && role.onPushReloaded)
    stopWatch = watchAndTell(filePush.watch, config.pushWatchIntervalMs, role.onPushReloaded);
  registerPushGauges(metrics, push);
  // The processes on one database (daemons on PostgreSQL; workers or daemons on one SQLite file)
  // share rate limits, singleton jobs and cache invalidation.
  const coordination = await openCoordination(config, database, mdmLogger).catch(
    async (error: unknown) => {
      filePush?.watch.stop();
      await database.close();
      throw error;
    },
  );
  let publicUrl = config.publicUrl ?? '';
  // One-time ClientIdentifiers of ACME profiles, in the database (every daemon on it shares them).
  const acmeLogger = logger.child({ component: 'acme' });
  const acmeIdentifiers = createAcmeClientIdentifiers({
    ...{ store: database.acmeIdentifiers, clock, logger: acmeLogger },
  });
  const services = createOrchardServices(
    {
      acmeIdentifiers,
      ...{ storage, admin, ca: caStorage, pki, secrets: secrets.keyring, push, clock, metrics },
      ...{ logger: mdmLogger, identityLogger: logger.child({ component: 'identity' }) },
      // On SQLite the CA and the MDM storage share one file: one statement reads binding and
      // revocation for an idle poll.
      ...(database.probeIdle === undefined ? {} : { idlePolls: database.probeIdle }),
      coordination,
    },
    {
      ...(config.webhook === undefined ? {} : { webhook: config.webhook }),
      ...(config.scepChallenge === undefined ? {} : { scepChallenge: config.scepChallenge }),
      scepAllowDes: config.scepAllowDes,
      publicUrl: () => publicUrl,
      enrollmentChallengeTtlSeconds: config.enrollmentChallengeTtlMs / 1000,
      identityRenewalLeadDays: config.identityRenewalLeadMs / 86_400_000,
      reconcileIntervalMs: config.profileReconcileIntervalMs,
      backgroundJobs: role.background,
      ...mailerOf(config),
    },
  );
  // ACME on the database's store (shared by every daemon on PostgreSQL), issuing with the CA;
  // the enrollment composition's hooks also spend the enrollment link an order was for.
  const acme = createOrchardAcme(
    {
      ...{ store: database.acme, identifiers: acmeIdentifiers, ca: services.ca },
      ...(services.acmeEnrollment === undefined
        ? {}
        : { hooks: services.acmeEnrollment.serverHooks }),
      ...{ attestationRoots, clock, logger: acmeLogger },
    },
    { baseUrl: () => `${publicUrl}/acme`, testChallenge: config.acmeTestChallenge },
  );
  return {
    ...services,
    ...{ storage, admin, caStorage, database, pki, clock, push, pushReload: filePush?.reload },
    ...{ acme, acmeIdentifiers },
    setPublicUrl: (url) => {
      publicUrl = url;
    },
    recheckPush: async () => (filePush ? filePush.watch.check() : false),
    async close() {
      stopWatch();
      await services.close();
      await coordination.close();
      await database.close();
    },
  };
}

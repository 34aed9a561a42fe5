/**
 * Opens and wires the daemon's parts from its configuration: storage, admin tables, CA and SCEP,
 * the push provider, the MDM core behind certificate authentication, and enrollment. Only the
 * library's public exports are used.
 */
import { readFile } from 'node:fs/promises';
import {
  anyChallenge,
  createApnsPushProvider,
  createCa,
  createMdmCore,
  createOneTimeChallenges,
  createScepHandler,
  loadPushCertificate,
  openSqliteCaStorage,
  staticChallenge,
  withCertAuth,
  type ApnsPushProvider,
  type Logger,
  type MdmCore,
  type MdmService,
  type MdmStorage,
  type PushFunction,
  type ScepHandler,
  type SqliteCaStorage,
} from '../index.js';
import { createSqliteStorage } from '../storage/sqlite/index.js';
import { openAdminStore, type AdminStore } from './admin-store.js';
import type { DaemonConfig, PushSource } from './config.js';
import { ConfigError } from './errors.js';
import type { DaemonMetrics } from './metrics.js';
import { openDaemonPki, type DaemonPki } from './pki.js';

/** Everything the HTTP layer serves. */
export interface DaemonServices {
  storage: MdmStorage;
  admin: AdminStore;
  caStorage: SqliteCaStorage;
  pki: DaemonPki;
  core: MdmCore;
  service: MdmService;
  scep: ScepHandler;
  issueChallenge(boundTo: string): Promise<string>;
  push: ApnsPushProvider | undefined;
  close(): Promise<void>;
}

async function loadPush(source: PushSource) {
  try {
    if (source.kind === 'pem') {
      const [certPem, keyPem] = await Promise.all([
        readFile(source.certFile),
        readFile(source.keyFile),
      ]);
      return loadPushCertificate({ certPem, keyPem });
    }
    return loadPushCertificate({ pkcs12: await readFile(source.file), password: source.password });
  } catch (cause) {
    const flag = source.kind === 'pem' ? '--push-cert' : '--push-p12';
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(flag, `cannot load the push certificate: ${why}`, { cause });
  }
}

async function openPush(
  config: DaemonConfig,
  storage: MdmStorage,
  logger: Logger,
): Promise<ApnsPushProvider | undefined> {
  if (!config.push) return undefined;
  const certificate = await loadPush(config.push);
  const ca =
    config.apnsCaFile === undefined ? undefined : (await readFile(config.apnsCaFile)).toString();
  return createApnsPushProvider(
    {
      certificate,
      onEvent: (event) => {
        if (event.type === 'token-unregistered')
          storage.invalidatePushToken(event.enrollmentId, new Date()).catch((err: unknown) => {
            logger.error({ err }, 'could not invalidate a push token');
          });
        else if (event.type !== 'token-rejected')
          logger.warn({ event: event.type, topic: event.topic }, 'push event');
      },
    },
    {
      ...(config.apnsUrl === undefined ? {} : { url: config.apnsUrl }),
      ...(ca === undefined ? {} : { ca }),
    },
  );
}

function pushFunction(provider: ApnsPushProvider, metrics: DaemonMetrics): PushFunction {
  return async (targets) => {
    const results = await provider.push(targets);
    for (const r of results) metrics.pushed(r.outcome);
    return results;
  };
}

/**
 * Opens every part. Throws ConfigError naming the flag for unusable push files, StorageError
 * when the database cannot be opened, and the CA module's errors for unusable keys.
 */
export async function openServices(
  config: DaemonConfig,
  logger: Logger,
  metrics: DaemonMetrics,
): Promise<DaemonServices> {
  const pki = await openDaemonPki(config.dataDir, config.caKeyType);
  const storage = createSqliteStorage({ path: config.databasePath });
  const caStorage = openSqliteCaStorage({ path: config.databasePath });
  const admin = openAdminStore(config.databasePath);
  const push = await openPush(config, storage, logger);
  const core = createMdmCore(
    { storage, logger, ...(push ? { push: pushFunction(push, metrics) } : {}) },
    push ? { topic: push.topic } : {},
  );
  for (const type of ['enrolled', 're-enrolled', 'checked-out'] as const)
    core.events.on(type, () => {
      metrics.enrollment(type);
    });
  const service = withCertAuth(core, { store: storage, roots: [pki.ca.certificate], logger });
  const ca = createCa({ material: pki.ca, store: caStorage.certificates });
  const oneTime = createOneTimeChallenges({ store: caStorage.challenges }, { ttlSeconds: 3600 });
  const validator =
    config.scepChallenge === undefined
      ? oneTime.validator
      : anyChallenge(oneTime.validator, staticChallenge(config.scepChallenge));
  const scep = createScepHandler(
    { ca, validator, logger },
    { allowSingleDes: config.scepAllowDes },
  );
  return {
    storage,
    admin,
    caStorage,
    pki,
    core,
    service,
    scep,
    issueChallenge: async (boundTo) => (await oneTime.issue(boundTo)).challenge,
    push,
    async close() {
      await core.close();
      await push?.close();
      await storage.close();
      caStorage.close();
      admin.close();
    },
  };
}

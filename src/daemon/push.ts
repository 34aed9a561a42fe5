/**
 * The daemon's push certificate: loading it from the configured files, the start-up topic guard
 * (a topic other than the one recorded in the admin settings is refused unless
 * `--push-allow-topic-change`, naming how many enrolled devices it would orphan), the APNs
 * provider, and the hot reload that polls the files and swaps in a renewed certificate.
 */
import { readFile } from 'node:fs/promises';
import {
  createApnsPushProvider,
  loadPushCertificate,
  OrchardError,
  watchPushCertificate,
  type ApnsPushProvider,
  type Logger,
  type MdmStorage,
  type PushCertificate,
  type PushCertificateSource,
  type PushCertificateWatch,
} from '../index.js';
import type { AdminStore } from './admin-store.js';
import type { DaemonConfig, PushSource } from './config.js';
import { ConfigError } from './errors.js';

/** The admin settings key holding the topic devices enrolled with. */
export const TOPIC_META_KEY = 'push_topic';

/** The outcome of the latest certificate reload, for `/healthz`. */
export interface PushReloadState {
  lastReloadAt?: Date;
  lastError?: { code: string; message: string; at: Date };
}

/** A provider with its file watch. */
export interface DaemonPush {
  provider: ApnsPushProvider;
  reload: PushReloadState;
  watch: PushCertificateWatch;
}

const flagOf = (source: PushSource): string =>
  source.kind === 'pem' ? '--push-cert' : '--push-p12';

/** Reads the configured files into a source for `loadPushCertificate`. */
export async function readPushSource(source: PushSource): Promise<PushCertificateSource> {
  if (source.kind === 'pem') {
    const [certPem, keyPem] = await Promise.all([
      readFile(source.certFile),
      readFile(source.keyFile),
    ]);
    return { certPem, keyPem };
  }
  return { pkcs12: await readFile(source.file), password: source.password };
}

async function loadPush(source: PushSource): Promise<PushCertificate> {
  try {
    return loadPushCertificate(await readPushSource(source));
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(flagOf(source), `cannot load the push certificate: ${why}`, { cause });
  }
}

/** Counts enrolled enrollments whose push info names `topic`, through the storage port. */
export async function countEnrolledForTopic(storage: MdmStorage, topic: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await storage.listEnrollments({
      limit: 1000,
      enrolled: true,
      ...(cursor ? { cursor } : {}),
    });
    const infos = await storage.findPushInfo(page.items.map((e) => e.id));
    count += infos.filter((i) => i.topic === topic).length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return count;
}

async function guardRecordedTopic(
  config: DaemonConfig,
  source: PushSource,
  deps: { storage: MdmStorage; admin: AdminStore; logger: Logger },
  topic: string,
): Promise<void> {
  const recorded = deps.admin.getMeta(TOPIC_META_KEY);
  if (recorded !== undefined && recorded !== topic) {
    const orphaned = await countEnrolledForTopic(deps.storage, recorded);
    const what = `the push certificate has topic ${topic}, but devices enrolled with ${recorded}: ${orphaned} enrolled device${orphaned === 1 ? '' : 's'} would be orphaned and have to re-enroll`;
    if (!config.pushAllowTopicChange)
      throw new ConfigError(
        flagOf(source),
        `${what}. Renew the existing certificate at identity.apple.com, or pass --push-allow-topic-change`,
      );
    deps.logger.warn(
      { topic, recorded, orphaned },
      `${what} (allowed by --push-allow-topic-change)`,
    );
  }
  deps.admin.setMeta(TOPIC_META_KEY, topic);
}

function reloadHandlers(
  config: DaemonConfig,
  source: PushSource,
  deps: { admin: AdminStore; logger: Logger },
  provider: () => ApnsPushProvider,
  state: PushReloadState,
) {
  const onReload = (): void => {
    state.lastReloadAt = new Date();
    delete state.lastError;
    deps.admin.setMeta(TOPIC_META_KEY, provider().topic);
    const h = provider().health();
    deps.logger.info({ topic: h.topic, notAfter: h.notAfter }, 'push certificate reloaded');
  };
  const onError = (error: unknown): void => {
    const code = error instanceof OrchardError ? error.code : 'ERR_PUSH_RELOAD';
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_PUSH_TOPIC_CHANGED' && config.pushAllowTopicChange) {
      readPushSource(source)
        .then((s) => provider().reloadCertificate(s, { force: true }))
        .then(onReload, onError);
      return;
    }
    state.lastError = { code, message, at: new Date() };
    deps.logger.error({ code, err: message }, 'push certificate reload refused');
  };
  return { onReload, onError };
}

/**
 * Loads the push certificate, applies the start-up topic guard and starts the provider and its
 * file watch. Resolves `undefined` without a push configuration. Throws ConfigError naming the
 * flag for an unusable certificate or a refused topic change.
 */
export async function openPush(
  config: DaemonConfig,
  deps: { storage: MdmStorage; admin: AdminStore; logger: Logger },
): Promise<DaemonPush | undefined> {
  const source = config.push;
  if (!source) return undefined;
  const certificate = await loadPush(source);
  await guardRecordedTopic(config, source, deps, certificate.topic);
  const ca =
    config.apnsCaFile === undefined ? undefined : (await readFile(config.apnsCaFile)).toString();
  const { storage, logger } = deps;
  const provider = createApnsPushProvider(
    {
      certificate,
      countEnrollmentsForTopic: (topic) => countEnrolledForTopic(storage, topic),
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
  const reload: PushReloadState = {};
  const watch = await watchPushCertificate(provider, {
    files: source.kind === 'pem' ? [source.certFile, source.keyFile] : [source.file],
    load: () => readPushSource(source),
    intervalMs: config.pushWatchIntervalMs,
    ...reloadHandlers(config, source, deps, () => provider, reload),
  });
  return { provider, reload, watch };
}

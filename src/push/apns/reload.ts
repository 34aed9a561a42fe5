/**
 * A push certificate served from files: loading it, the start-up topic guard (a topic other than
 * the one recorded in the settings is refused unless allowed, naming how many enrolled devices it
 * would orphan), the APNs provider, and the hot reload that polls the files and swaps in a renewed
 * certificate, with the outcome of the latest reload for `/healthz`.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, OrchardError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MdmStorage, SettingsStore } from '../../storage/ports.js';
import {
  loadPushCertificate,
  type PushCertificate,
  type PushCertificateSource,
} from './certificate.js';
import { createApnsPushProvider, type ApnsPushProvider } from './provider.js';
import { watchPushCertificate, type PushCertificateWatch } from './reloader.js';

/** The settings key holding the topic devices enrolled with. */
export const TOPIC_META_KEY = 'push_topic';

/** Where the push certificate comes from: PEM certificate and key files, or one PKCS#12 file. */
export type PushCertificateFiles =
  | { kind: 'pem'; certFile: string; keyFile: string }
  | { kind: 'p12'; file: string; password: string };

/** The outcome of the latest certificate reload, for `/healthz`. */
export interface PushReloadState {
  lastReloadAt?: Date;
  lastError?: { code: string; message: string; at: Date };
}

/** A provider with its file watch (see {@link openFilePush}). */
export interface FilePush {
  provider: ApnsPushProvider;
  reload: PushReloadState;
  watch: PushCertificateWatch;
}

/** The storage {@link openFilePush} uses: enrolled topics and push token invalidation. */
export type FilePushStorage = Pick<
  MdmStorage,
  'listEnrollments' | 'findPushInfo' | 'invalidatePushToken'
>;

/** Options of {@link openFilePush}. */
export interface FilePushOptions {
  files: PushCertificateFiles;
  storage: FilePushStorage;
  /** Where the enrolled topic is recorded (`push_topic`). */
  settings: SettingsStore;
  logger: Logger;
  /** Accept a certificate with another topic than the recorded one (orphans devices). */
  allowTopicChange: boolean;
  /** How often the files are polled for a renewal (ms). */
  watchIntervalMs: number;
  /** APNs base URL; default Apple production. */
  apnsUrl?: string;
  /** A PEM file with an extra CA for the APNs server (tests). */
  apnsCaFile?: string;
}

const flagOf = (files: PushCertificateFiles): string =>
  files.kind === 'pem' ? '--push-cert' : '--push-p12';

/** Reads the files into a source for `loadPushCertificate`; rejects with the file-system error. */
export async function readPushFiles(files: PushCertificateFiles): Promise<PushCertificateSource> {
  if (files.kind === 'pem') {
    const [certPem, keyPem] = await Promise.all([
      readFile(files.certFile),
      readFile(files.keyFile),
    ]);
    return { certPem, keyPem };
  }
  return { pkcs12: await readFile(files.file), password: files.password };
}

async function loadFiles(files: PushCertificateFiles): Promise<PushCertificate> {
  try {
    return loadPushCertificate(await readPushFiles(files));
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(flagOf(files), `cannot load the push certificate: ${why}`, { cause });
  }
}

/** Counts enrolled enrollments whose push info names `topic`, through the storage port. */
export async function countEnrolledForTopic(
  storage: Pick<MdmStorage, 'listEnrollments' | 'findPushInfo'>,
  topic: string,
): Promise<number> {
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

async function guardRecordedTopic(options: FilePushOptions, topic: string): Promise<void> {
  const recorded = await options.settings.getMeta(TOPIC_META_KEY);
  if (recorded !== undefined && recorded !== topic) {
    const orphaned = await countEnrolledForTopic(options.storage, recorded);
    const what = `the push certificate has topic ${topic}, but devices enrolled with ${recorded}: ${orphaned} enrolled device${orphaned === 1 ? '' : 's'} would be orphaned and have to re-enroll`;
    if (!options.allowTopicChange)
      throw new ConfigError(
        flagOf(options.files),
        `${what}. Renew the existing certificate at identity.apple.com, or pass --push-allow-topic-change`,
      );
    options.logger.warn(
      { topic, recorded, orphaned },
      `${what} (allowed by --push-allow-topic-change)`,
    );
  }
  await options.settings.setMeta(TOPIC_META_KEY, topic);
}

function reloadHandlers(
  options: FilePushOptions,
  provider: () => ApnsPushProvider,
  state: PushReloadState,
) {
  const { settings, logger } = options;
  const onReload = (): void => {
    state.lastReloadAt = new Date();
    delete state.lastError;
    const h = provider().health();
    // The certificate is already in use: a failed write of its topic is logged, not fatal.
    settings.setMeta(TOPIC_META_KEY, provider().topic).catch((error: unknown) => {
      logger.error({ err: error, topic: h.topic }, 'recording the push topic failed');
    });
    logger.info({ topic: h.topic, notAfter: h.notAfter }, 'push certificate reloaded');
  };
  const onError = (error: unknown): void => {
    const code = error instanceof OrchardError ? error.code : 'ERR_PUSH_RELOAD';
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_PUSH_TOPIC_CHANGED' && options.allowTopicChange) {
      readPushFiles(options.files)
        .then((s) => provider().reloadCertificate(s, { force: true }))
        .then(onReload, onError);
      return;
    }
    state.lastError = { code, message, at: new Date() };
    logger.error({ code, err: message }, 'push certificate reload refused');
  };
  return { onReload, onError };
}

function providerOf(options: FilePushOptions, certificate: PushCertificate, ca?: string) {
  const { storage, logger } = options;
  return createApnsPushProvider(
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
      ...(options.apnsUrl === undefined ? {} : { url: options.apnsUrl }),
      ...(ca === undefined ? {} : { ca }),
    },
  );
}

/**
 * Loads the push certificate from its files, applies the start-up topic guard and starts the
 * provider and its file watch. Throws ConfigError naming `--push-cert` or `--push-p12` for an
 * unusable certificate or a refused topic change.
 */
export async function openFilePush(options: FilePushOptions): Promise<FilePush> {
  const { files } = options;
  const certificate = await loadFiles(files);
  await guardRecordedTopic(options, certificate.topic);
  const ca =
    options.apnsCaFile === undefined ? undefined : (await readFile(options.apnsCaFile)).toString();
  const provider = providerOf(options, certificate, ca);
  const reload: PushReloadState = {};
  const watch = await watchPushCertificate(provider, {
    files: files.kind === 'pem' ? [files.certFile, files.keyFile] : [files.file],
    load: () => readPushFiles(files),
    intervalMs: options.watchIntervalMs,
    ...reloadHandlers(options, () => provider, reload),
  });
  return { provider, reload, watch };
}

/**
 * The daemon's push certificate: loading it from the configured files, the start-up topic guard
 * (a topic other than the one recorded in the admin settings is refused unless
 * `--push-allow-topic-change`, naming how many enrolled devices it would orphan), the APNs
 * provider, the hot reload that polls the files and swaps in a renewed certificate, and the
 * recent push outcomes `/healthz` reports.
 */
import { readFile } from 'node:fs/promises';
import {
  createApnsPushProvider,
  loadPushCertificate,
  OrchardError,
  watchPushCertificate,
  type ApnsPushProvider,
  type EnrollmentPushResult,
  type Logger,
  type MdmStorage,
  type PushCertificate,
  type PushCertificateSource,
  type PushCertificateWatch,
} from '../index.js';
import type { AdminStore } from './admin-store.js';
import type { DaemonConfig, PushSource } from './config.js';
import { ConfigError } from './errors.js';
import type { DaemonMetrics } from './metrics.js';

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

/**
 * Registers `orchard_push_certificate_days_left`: whole days until the push certificate (the one
 * in use, reloads included) expires, negative once expired. Registers nothing without push.
 */
export function pushCertificateGauge(
  metrics: DaemonMetrics,
  push: ApnsPushProvider | undefined,
): void {
  if (push === undefined) return;
  metrics.gauge(
    'orchard_push_certificate_days_left',
    'Whole days until the APNs push certificate expires; negative once expired.',
    '',
    () => ({ '': push.health().daysLeft }),
  );
}

/** Counts of push outcomes over the recent window, for `/healthz`. */
export interface PushStatsSnapshot {
  windowSeconds: number;
  accepted: number;
  failed: number;
  deferred: number;
  noToken: number;
  /** Failed and deferred pushes by reason (e.g. `ECONNREFUSED`, `Unregistered`, `CircuitOpen`). */
  byReason: Record<string, number>;
  /** The latest failed or deferred push, or `null` when none happened since start. */
  lastFailure: { outcome: string; reason: string; at: string } | null;
}

/** Push outcomes over a sliding window (see {@link createPushStats}). */
export interface PushStats {
  record(results: readonly EnrollmentPushResult[]): void;
  snapshot(): PushStatsSnapshot;
}

interface Bucket {
  start: number;
  counts: Record<'accepted' | 'failed' | 'deferred' | 'noToken', number>;
  byReason: Map<string, number>;
}

const BUCKET_MS = 10_000;
/** Distinct reasons kept per bucket; the rest count as `Other`. */
const MAX_REASONS = 50;

/**
 * Counts push outcomes in 10-second buckets over the last `windowMs` (default 5 minutes), so
 * memory stays bounded however many pushes fail. `now` gives milliseconds; default `Date.now`.
 */
export function createPushStats(now: () => number = Date.now, windowMs = 300_000): PushStats {
  const buckets: Bucket[] = [];
  let lastFailure: PushStatsSnapshot['lastFailure'] = null;
  const current = (t: number): Bucket => {
    const start = t - (t % BUCKET_MS);
    const last = buckets.at(-1);
    if (last?.start === start) return last;
    const fresh: Bucket = {
      start,
      counts: { accepted: 0, failed: 0, deferred: 0, noToken: 0 },
      byReason: new Map(),
    };
    buckets.push(fresh);
    while (buckets.length > 0 && (buckets[0]?.start ?? t) <= t - windowMs) buckets.shift();
    return fresh;
  };
  return {
    record(results) {
      if (results.length === 0) return;
      const t = now();
      const bucket = current(t);
      for (const r of results) {
        bucket.counts[r.outcome === 'no-token' ? 'noToken' : r.outcome]++;
        if (r.outcome !== 'failed' && r.outcome !== 'deferred') continue;
        const reason = r.reason ?? 'Unknown';
        const key =
          bucket.byReason.has(reason) || bucket.byReason.size < MAX_REASONS ? reason : 'Other';
        bucket.byReason.set(key, (bucket.byReason.get(key) ?? 0) + 1);
        lastFailure = { outcome: r.outcome, reason, at: new Date(t).toISOString() };
      }
    },
    snapshot() {
      const t = now();
      const out: PushStatsSnapshot = {
        windowSeconds: Math.round(windowMs / 1000),
        accepted: 0,
        failed: 0,
        deferred: 0,
        noToken: 0,
        byReason: {},
        lastFailure,
      };
      for (const b of buckets) {
        if (b.start <= t - windowMs) continue;
        out.accepted += b.counts.accepted;
        out.failed += b.counts.failed;
        out.deferred += b.counts.deferred;
        out.noToken += b.counts.noToken;
        for (const [reason, n] of b.byReason)
          out.byReason[reason] = (out.byReason[reason] ?? 0) + n;
      }
      return out;
    },
  };
}

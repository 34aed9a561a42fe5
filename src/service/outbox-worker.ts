/**
 * The outbox delivery worker: claims due entries under a lease, POSTs each to the webhook URL,
 * and records the outcome. Delivery is at least once: an entry whose worker died stays leased
 * until the lease lapses and is then claimed again, so receivers de-duplicate on the event id.
 */
import type { OutboxEntry, OutboxStore } from '../storage/ports.js';
import type { BackoffOptions, WebhookFormat } from './outbox-delivery.js';
import { backoffDelay, deliverEntry } from './outbox-delivery.js';
import type { Logger } from './ports.js';
import { silentLogger } from './ports.js';

/** Options of {@link createOutboxWorker}; every duration is in ms. */
export interface OutboxWorkerOptions {
  /** Where entries are claimed from and settled. */
  store: OutboxStore;
  /** `http:` or `https:` URL of the receiver. */
  url: string;
  /** HMAC key shared with the receiver; must not be empty. */
  secret: string | Uint8Array;
  /** The headers of each delivery: `nanomdm` adds NanoMDM's; default `orchard`. */
  format?: WebhookFormat;
  /** Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** How long a claim is exclusive; must exceed `timeoutMs`; default max(60 s, 3 × timeout). */
  leaseMs?: number;
  /** Entries claimed and sent concurrently per round; default 16. */
  batchSize?: number;
  /** Wait between rounds when nothing was due; default 1 s. */
  pollIntervalMs?: number;
  /** Attempts before an entry is abandoned (dead); default 15. */
  maxAttempts?: number;
  /** Default `{ baseMs: 1000, maxMs: 3_600_000 }`. */
  backoff?: Partial<BackoffOptions>;
  clock?: () => Date;
  /** Jitter source in [0, 1); default `Math.random`. */
  random?: () => number;
  logger?: Logger;
}

/** What one round did. */
export interface RunResult {
  claimed: number;
  delivered: number;
  retried: number;
  dead: number;
}

/** A running (or runnable) worker. */
export interface OutboxWorker {
  /** Starts the background loop; a second call does nothing. */
  start(): void;
  /** Wakes a sleeping loop now (e.g. right after an event was written). */
  wake(): void;
  /** Stops the loop after in-flight deliveries settle (each bounded by the timeout). */
  stop(): Promise<void>;
  /** One round: claim due entries, deliver them concurrently, record outcomes. */
  runOnce(): Promise<RunResult>;
}

type Settings = Required<Omit<OutboxWorkerOptions, 'backoff'>> & { backoff: BackoffOptions };

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be positive`);
  return value;
}

function settingsOf(options: OutboxWorkerOptions): Settings {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError('url must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError('url must be http: or https:');
  }
  if (options.secret.length === 0) throw new TypeError('webhook secret must not be empty');
  // Checked at run time too: JavaScript callers and configuration files are not type-checked.
  if (!['orchard', 'nanomdm', undefined].includes(options.format))
    throw new TypeError("format must be 'orchard' or 'nanomdm'");
  const timeoutMs = positive(options.timeoutMs ?? 10_000, 'timeoutMs');
  const leaseMs = positive(options.leaseMs ?? Math.max(60_000, 3 * timeoutMs), 'leaseMs');
  if (leaseMs <= timeoutMs) throw new TypeError('leaseMs must exceed timeoutMs');
  return {
    store: options.store,
    url: options.url,
    secret: options.secret,
    format: options.format ?? 'orchard',
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs,
    leaseMs,
    batchSize: positive(options.batchSize ?? 16, 'batchSize'),
    pollIntervalMs: positive(options.pollIntervalMs ?? 1000, 'pollIntervalMs'),
    maxAttempts: positive(options.maxAttempts ?? 15, 'maxAttempts'),
    backoff: {
      baseMs: positive(options.backoff?.baseMs ?? 1000, 'backoff.baseMs'),
      maxMs: positive(options.backoff?.maxMs ?? 3_600_000, 'backoff.maxMs'),
    },
    clock: options.clock ?? (() => new Date()),
    random: options.random ?? Math.random,
    logger: options.logger ?? silentLogger,
  };
}

async function settle(s: Settings, entry: OutboxEntry): Promise<'delivered' | 'retried' | 'dead'> {
  const outcome = await deliverEntry(entry, s);
  if (outcome.ok) {
    await s.store.markDelivered(entry.id, s.clock());
    return 'delivered';
  }
  const error = outcome.error ?? 'failed';
  if (entry.attempts >= s.maxAttempts) {
    s.logger.warn({ event: entry.id, attempts: entry.attempts, error }, 'webhook abandoned');
    await s.store.markFailed(entry.id, undefined, error);
    return 'dead';
  }
  const delay = backoffDelay(entry.attempts, s.backoff, s.random, outcome.retryAfterMs);
  s.logger.info({ event: entry.id, attempts: entry.attempts, error, delay }, 'webhook retry');
  await s.store.markFailed(entry.id, new Date(s.clock().getTime() + delay), error);
  return 'retried';
}

/**
 * Creates a webhook delivery worker over an outbox. Throws TypeError on invalid options (a
 * non-http URL, an empty secret, a lease not longer than the timeout). Store failures during
 * the loop are logged and retried on the next round; they never stop the loop.
 */
export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const s = settingsOf(options);
  const life = { stopped: false };
  // A function, so the check after an await is not narrowed away.
  const isStopped = (): boolean => life.stopped;
  let running: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  const runOnce = async (): Promise<RunResult> => {
    const entries = await s.store.claimDue(s.batchSize, s.clock(), s.leaseMs);
    const result: RunResult = { claimed: entries.length, delivered: 0, retried: 0, dead: 0 };
    const outcomes = await Promise.allSettled(entries.map((e) => settle(s, e)));
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') result[outcome.value] += 1;
      else s.logger.error({ err: outcome.reason as unknown }, 'webhook outcome not recorded');
    }
    return result;
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const loop = async (): Promise<void> => {
    while (!isStopped()) {
      let claimed = 0;
      try {
        claimed = (await runOnce()).claimed;
      } catch (err) {
        s.logger.error({ err }, 'webhook round failed');
      }
      if (!isStopped() && claimed < s.batchSize) await sleep(s.pollIntervalMs);
    }
  };

  return {
    start() {
      if (running !== undefined || life.stopped) return;
      running = loop();
    },
    wake() {
      wakeUp?.();
    },
    async stop() {
      life.stopped = true;
      wakeUp?.();
      await running;
    },
    runOnce,
  };
}

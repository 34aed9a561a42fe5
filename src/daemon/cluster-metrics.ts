/**
 * `/metrics` for the whole daemon under `--workers`: the worker that receives `GET /metrics` asks
 * the primary, which asks every worker for its registry (prom-client's JSON form, over the
 * cluster IPC channel), sums them with prom-client's `AggregatorRegistry.aggregate` and sends the
 * text back. Each metric is aggregated by its `aggregator`: counters and histograms are summed;
 * values every worker reads from the one database, or that describe one shared thing, are not
 * (see {@link CLUSTER_AGGREGATORS}). A worker that does not answer within `timeoutMs` is left out
 * of that scrape and counted in `orchard_cluster_metrics_missed_total{worker}`; /metrics never
 * waits longer than that bound on a worker.
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry, type Aggregator } from 'prom-client';
import type { EdgeResponse, Logger } from '../index.js';
import { metricsResponse, type OrchardMetrics } from '../http/metrics.js';

/** How long the primary waits for a worker's registry before leaving it out (2 s). */
export const CLUSTER_METRICS_TIMEOUT_MS = 2_000;

/**
 * Aggregation of the metrics that are not summed across workers: per-database gauges (every
 * worker counts the same rows) and facts about one shared thing take the first worker's value
 * (the lowest index that answered); the push certificate's days left the smallest (a worker that
 * has not reloaded yet still counts); the circuit state the largest (1 when any worker is in it).
 * prom-client's default metrics keep their own (`average` for event-loop lag, `omit` for start
 * time, `first` for the Node version); everything else is summed.
 */
export const CLUSTER_AGGREGATORS: Readonly<Record<string, Aggregator>> = {
  orchard_enrollments: 'first',
  orchard_build_info: 'first',
  orchard_push_certificate_days_left: 'min',
  orchard_push_circuit_state: 'max',
};

/** A registry in prom-client's JSON form (what travels between processes). */
type Json = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Messages of cluster metrics between a worker and the primary. */
type MetricsMessage =
  | { orchardMetrics: 'request'; id: number }
  | { orchardMetrics: 'collect'; id: number }
  | { orchardMetrics: 'part'; id: number; metrics: Json }
  | { orchardMetrics: 'answer'; id: number; text: string; contentType: string };

/** True for a message of cluster metrics (the supervisor passes these to its collector). */
export function isMetricsMessage(value: unknown): value is MetricsMessage {
  return typeof value === 'object' && value !== null && 'orchardMetrics' in value;
}

/** The registry's metrics in JSON form, each with its cluster aggregator. */
async function registryJson(registry: Registry): Promise<Json> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((m) => {
    const aggregator = CLUSTER_AGGREGATORS[m.name];
    return aggregator === undefined ? m : { ...m, aggregator };
  });
}

const unavailable = (): EdgeResponse => ({
  status: 503,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' },
  body: Buffer.from('cluster metrics unavailable: the primary did not answer\n'),
});

/**
 * A worker's `/metrics` answer: the whole daemon's metrics, aggregated by the primary. Also
 * answers the primary's requests for this worker's registry. Without a cluster channel (not a
 * worker) it answers this process's metrics; when the primary does not answer within
 * `timeoutMs` (default the collection bound plus 3 s) it answers 503.
 */
export function clusterMetricsResponder(
  metrics: OrchardMetrics,
  timeoutMs = CLUSTER_METRICS_TIMEOUT_MS + 3_000,
): () => Promise<EdgeResponse> {
  const send = process.send?.bind(process);
  if (send === undefined) return () => metricsResponse(metrics);
  const waiting = new Map<number, (answer: EdgeResponse) => void>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMetricsMessage(message)) return;
    if (message.orchardMetrics === 'collect') {
      const { id } = message;
      void registryJson(metrics.registry)
        .catch((): Json => [])
        .then((json) => {
          if (process.connected) send({ orchardMetrics: 'part', id, metrics: json });
        });
    } else if (message.orchardMetrics === 'answer') {
      waiting.get(message.id)?.({
        status: 200,
        headers: { 'content-type': message.contentType },
        body: Buffer.from(message.text),
      });
    }
  });
  return () =>
    new Promise<EdgeResponse>((resolve) => {
      const id = ++next;
      const timer = setTimeout(() => {
        finish(unavailable());
      }, timeoutMs);
      function finish(answer: EdgeResponse): void {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(answer);
      }
      waiting.set(id, finish);
      if (!process.connected) finish(unavailable());
      else send({ orchardMetrics: 'request', id } satisfies MetricsMessage);
    });
}

/** A worker the primary can ask, with its index (1 first). */
export interface MetricsWorker {
  index: number;
  worker: Worker;
}

/** Options of {@link clusterMetricsCollector}. */
export interface CollectorOptions {
  /** The workers now (connected or not). */
  workers: () => Iterable<MetricsWorker>;
  /** How long to wait for each worker's registry; default {@link CLUSTER_METRICS_TIMEOUT_MS}. */
  timeoutMs?: number;
  logger: Logger;
}

/** The primary's side of cluster metrics. */
export interface MetricsCollector {
  /** Handles a message of cluster metrics from `from`; false for any other message. */
  onMessage(from: MetricsWorker, message: unknown): boolean;
  /** The primary's own metrics (scrapes answered, workers left out). */
  readonly registry: Registry;
}

interface Collection {
  requester: MetricsWorker;
  requestId: number;
  parts: Map<number, Json>;
  expected: Set<number>;
  timer: NodeJS.Timeout;
}

/** The primary's own metrics, aggregated beside the workers'. */
function primaryMetrics() {
  const registry = new Registry();
  const missed = new Counter({
    name: 'orchard_cluster_metrics_missed_total',
    help: 'Scrapes of /metrics a worker did not answer in time (left out of that scrape), by worker.',
    labelNames: ['worker'],
    registers: [registry],
  });
  const scraped = new Gauge({
    name: 'orchard_cluster_metrics_workers',
    help: 'Workers whose metrics the latest /metrics answer includes, and those left out.',
    labelNames: ['state'],
    registers: [registry],
  });
  return { registry, missed, scraped };
}

/**
 * The primary's collector of cluster metrics: on a worker's request it asks every connected
 * worker for its registry, waits at most `timeoutMs`, aggregates what came and answers the
 * requester. Late parts are dropped.
 */
export function clusterMetricsCollector(options: CollectorOptions): MetricsCollector {
  const timeoutMs = options.timeoutMs ?? CLUSTER_METRICS_TIMEOUT_MS;
  const own = primaryMetrics();
  const collections = new Map<number, Collection>();
  let next = 0;

  const finish = async (id: number): Promise<void> => {
    const c = collections.get(id);
    if (c === undefined) return;
    collections.delete(id);
    clearTimeout(c.timer);
    const missing = [...c.expected].filter((index) => !c.parts.has(index));
    for (const index of missing) own.missed.inc({ worker: String(index) });
    own.scraped.set({ state: 'answered' }, c.parts.size);
    own.scraped.set({ state: 'missing' }, missing.length);
    if (missing.length > 0)
      options.logger.warn({ workers: missing, timeoutMs }, 'metrics left out of a scrape');
    try {
      const ordered = [...c.parts.entries()].sort(([a], [b]) => a - b).map(([, json]) => json);
      const all = [...ordered, await own.registry.getMetricsAsJSON()];
      const aggregated = AggregatorRegistry.aggregate(all);
      const text = await aggregated.metrics();
      const { worker } = c.requester;
      if (worker.isConnected())
        worker.send({
          ...{ orchardMetrics: 'answer', id: c.requestId, text },
          contentType: aggregated.contentType,
        } satisfies MetricsMessage);
    } catch (err) {
      // The requester answers 503 at its own bound.
      options.logger.error({ err }, 'cluster metrics aggregation failed');
    }
  };

  const collect = (requester: MetricsWorker, requestId: number): void => {
    const id = ++next;
    const expected = new Set<number>();
    const timer = setTimeout(() => void finish(id), timeoutMs);
    timer.unref();
    collections.set(id, { requester, requestId, parts: new Map(), expected, timer });
    for (const { index, worker } of options.workers()) {
      // Every known worker shows in the counter, 0 until it misses a scrape.
      own.missed.inc({ worker: String(index) }, 0);
      if (!worker.isConnected()) continue;
      expected.add(index);
      worker.send({ orchardMetrics: 'collect', id } satisfies MetricsMessage);
    }
    if (expected.size === 0) void finish(id);
  };

  return {
    registry: own.registry,
    onMessage(from, message) {
      if (!isMetricsMessage(message)) return false;
      if (message.orchardMetrics === 'request') collect(from, message.id);
      else if (message.orchardMetrics === 'part') {
        const c = collections.get(message.id);
        if (c === undefined || !c.expected.has(from.index)) return true;
        c.parts.set(from.index, message.metrics);
        if (c.parts.size === c.expected.size) void finish(message.id);
      }
      return true;
    },
  };
}

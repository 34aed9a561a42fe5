/**
 * Prometheus metrics (`orchard-mdm/metrics`, the one entry that loads prom-client), on a registry
 * of their own (two servers in one process never share one): request counts by route and status, latency histograms, pushes by
 * outcome and push outcomes by reason, gauges read at scrape time (push queue depth, circuit
 * state, certificate days left, enrollments by state), build info, and prom-client's default
 * process and Node runtime metrics (CPU, memory, event-loop lag, GC). Routes are templates
 * (`/enroll/{token}`), so no secret from a path ever becomes a label.
 */
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PushHealth, PushProvider } from '../push/ports.js';
import type { MdmStorage } from '../storage/ports.js';
import type { EdgeResponse } from './edge.js';

/** Latency buckets in seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Distinct outcome/reason label sets of `orchard_push_results_total`; the rest count as `Other`. */
const MAX_PUSH_LABEL_SETS = 200;

/** A gauge read at scrape time: label value → value (`''` for a gauge without a label). */
export type GaugeReader = () => Promise<Record<string, number>> | Record<string, number>;

/** Orchard's metrics. */
export interface OrchardMetrics {
  /** Records one finished HTTP request. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** Counts push results by outcome (`orchard_pushes_total`). */
  pushed(outcome: string, count?: number): void;
  /**
   * Counts one enrollment's push outcome (`accepted`, `failed`, `deferred`, `no-token`) with its
   * reason (APNs's, a transport error code, or ours), absent for an accepted push: push failures
   * by reason are `orchard_push_results_total{outcome="failed",reason}`.
   */
  pushResult(outcome: string, reason?: string): void;
  /** Counts an enrollment-profile download, a device enrollment, or a check-out. */
  enrollment(event: 'profile' | 'enrolled' | 're-enrolled' | 'checked-out'): void;
  /** Registers a gauge computed at scrape time, labelled by `label` (none when `''`). */
  gauge(name: string, help: string, label: string, read: GaugeReader): void;
  /** The exposition text of every metric. */
  render(): Promise<string>;
  /** The content type of {@link OrchardMetrics.render}'s text. */
  readonly contentType: string;
  /** The prom-client registry behind these metrics, for an embedder's own metrics. */
  readonly registry: Registry;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The version `orchard_build_info` reports (default: package.json's). */
  version?: string;
}

/** The version in package.json, two levels above this file in src/ and dist/ alike. */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** `orchard_push_results_total`, with its label sets capped so no APNs answer can blow them up. */
function pushResultCounter(registry: Registry): OrchardMetrics['pushResult'] {
  const counter = new Counter({
    name: 'orchard_push_results_total',
    help: 'Push outcomes per enrollment (accepted, failed, deferred, no-token) by reason; failures by reason are outcome="failed".',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
  const seen = new Set<string>();
  return (outcome, reason) => {
    let labels: Record<string, string> = reason === undefined ? { outcome } : { outcome, reason };
    const key = JSON.stringify(labels);
    if (!seen.has(key) && seen.size >= MAX_PUSH_LABEL_SETS) labels = { outcome, reason: 'Other' };
    else seen.add(key);
    counter.inc(labels);
  };
}

/** Registers a gauge whose values `read` computes at every scrape. */
function readerGauge(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: GaugeReader,
): void {
  new Gauge({
    name,
    help,
    labelNames: label === '' ? [] : [label],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [value, n] of Object.entries(await read())) {
        if (label === '') this.set(n);
        else this.set({ [label]: value }, n);
      }
    },
  });
}

/** Most (route, method, status) label sets whose counters are kept resolved. */
const MAX_REQUEST_LABEL_SETS = 1000;

/** Creates the metrics on a fresh registry, with the default process and runtime metrics. */
export function createMetrics(options: MetricsOptions = {}): OrchardMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'orchard_build_info',
    help: 'Always 1; the labels name the Orchard version and the Node version running it.',
    labelNames: ['version', 'node'],
    registers,
  }).set({ version: options.version ?? packageVersion(), node: process.version }, 1);
  const requests = new Counter({
    name: 'orchard_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    registers,
  });
  const latency = new Histogram({
    name: 'orchard_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames: ['route'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const pushes = new Counter({
    name: 'orchard_pushes_total',
    help: 'APNs pushes by outcome.',
    labelNames: ['outcome'],
    registers,
  });
  const enrollments = new Counter({
    name: 'orchard_enrollment_events_total',
    help: 'Enrollment profile downloads and enrollment state changes.',
    labelNames: ['event'],
    registers,
  });
  // Label sets resolved once: finding a child by a labels object costs more than the count.
  const children = new Map<string, { count: Counter.Internal; time: Histogram.Internal<string> }>();
  return {
    request(route, method, status, seconds) {
      const key = `${route} ${method} ${status}`;
      let child = children.get(key);
      if (child === undefined) {
        child = {
          count: requests.labels(route, method, String(status)),
          time: latency.labels(route),
        };
        if (children.size < MAX_REQUEST_LABEL_SETS) children.set(key, child);
      }
      child.count.inc();
      child.time.observe(seconds);
    },
    pushed(outcome, count = 1) {
      pushes.inc({ outcome }, count);
    },
    pushResult: pushResultCounter(registry),
    enrollment(event) {
      enrollments.inc({ event });
    },
    gauge(name, help, label, read) {
      readerGauge(registry, name, help, label, read);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
    registry,
  };
}

/** The `/metrics` answer: every metric in the exposition format. */
export async function metricsResponse(metrics: OrchardMetrics): Promise<EdgeResponse> {
  return {
    status: 200,
    headers: { 'content-type': metrics.contentType },
    body: Buffer.from(await metrics.render()),
  };
}

const PAGE = 1000;
const MAX_COUNTED = 200_000;

/**
 * Counts enrollments by state (`enrolled`, `pending`) through the storage port, page by page
 * (at most 200,000), cached for `ttlMs` (15 seconds) so scrapes stay cheap.
 */
export function enrollmentCounter(
  storage: Pick<MdmStorage, 'listEnrollments'>,
  ttlMs = 15_000,
): GaugeReader {
  let cached: { at: number; value: Record<string, number> } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.value;
    const value = { enrolled: 0, pending: 0 };
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await storage.listEnrollments({ limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const e of page.items) value[e.enrolled ? 'enrolled' : 'pending']++;
      seen += page.items.length;
      cursor = page.nextCursor;
    } while (cursor !== undefined && seen < MAX_COUNTED);
    cached = { at: Date.now(), value };
    return value;
  };
}

/** A push provider whose state the push gauges read. */
export type ObservedPush = PushProvider & { health(): PushHealth };

const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/**
 * Registers the push gauges: `orchard_push_queue_depth` (0 without push),
 * `orchard_push_circuit_state{state}` (1 for the current state) and, with push,
 * `orchard_push_certificate_days_left` (negative once expired; follows reloads).
 */
export function registerPushGauges(metrics: OrchardMetrics, push: ObservedPush | undefined): void {
  metrics.gauge('orchard_push_queue_depth', 'Pushes queued or in flight.', '', () => {
    const h = push?.health();
    return { '': h ? h.queued + h.inFlight : 0 };
  });
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
  if (push === undefined) return;
  metrics.gauge(
    'orchard_push_certificate_days_left',
    'Whole days until the APNs push certificate expires; negative once expired.',
    '',
    () => ({ '': push.health().daysLeft }),
  );
}

/** `provider`, counting every push result by outcome (`orchard_pushes_total`). */
export function withPushCount(provider: PushProvider, metrics: OrchardMetrics): PushProvider {
  return {
    async push(targets) {
      const results = await provider.push(targets);
      for (const r of results) metrics.pushed(r.outcome);
      return results;
    },
  };
}

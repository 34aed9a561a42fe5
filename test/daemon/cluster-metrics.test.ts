/**
 * The primary's side of `/metrics` under `--workers` (cluster-metrics.ts) with stand-in workers
 * (the fault injected: one never answers, one has left): what answered is aggregated (counters
 * summed, per-database gauges taken once), a worker that did not answer in time is left out and
 * counted, and late answers are dropped. The real cluster is covered by workers-shared.test.ts.
 */
import type { Worker } from 'node:cluster';
import { describe, expect, test } from '@jest/globals';
import { silentLogger } from '../../src/logger.js';
import { createMetrics, type OrchardMetrics } from '../../src/http/metrics.js';
import {
  CLUSTER_AGGREGATORS,
  clusterMetricsCollector,
  type MetricsWorker,
} from '../../src/daemon/cluster-metrics.js';

interface StandIn {
  ref: MetricsWorker;
  sent: unknown[];
}

/** A stand-in worker that records what the primary sends it. */
function standIn(index: number, connected = true): StandIn {
  const sent: unknown[] = [];
  const worker = {
    isConnected: () => connected,
    send: (message: unknown) => sent.push(message),
  } as unknown as Worker;
  return { ref: { index, worker }, sent };
}

/** A worker's registry in JSON form, with the aggregators a worker gives it. */
async function partOf(metrics: OrchardMetrics) {
  return (await metrics.registry.getMetricsAsJSON()).map((m) => {
    const aggregator = CLUSTER_AGGREGATORS[m.name];
    return aggregator === undefined ? m : { ...m, aggregator };
  });
}

function workerMetrics(requests: number, enrolled: number): OrchardMetrics {
  const metrics = createMetrics({ version: '9.9.9' });
  for (let i = 0; i < requests; i++) metrics.request('/healthz', 'GET', 200, 0.001);
  metrics.gauge('orchard_enrollments', 'Enrollments by state.', 'state', () => ({ enrolled }));
  return metrics;
}

const idOf = (message: unknown): number => (message as { id: number }).id;

async function answerOf(w: StandIn): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const answer = w.sent.find(
      (m) => (m as { orchardMetrics?: string }).orchardMetrics === 'answer',
    );
    if (answer !== undefined) return (answer as { text: string }).text;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no answer');
}

describe('cluster metrics collector', () => {
  test('ok/every worker answers: counters summed, per-database gauges and build info once', async () => {
    const [one, two] = [standIn(1), standIn(2)];
    const collector = clusterMetricsCollector({
      workers: () => [one.ref, two.ref],
      logger: silentLogger,
    });
    expect(collector.onMessage(one.ref, { orchardMetrics: 'request', id: 7 })).toBe(true);
    expect(collector.onMessage(one.ref, { orchard: 'listening', port: 1 })).toBe(false);
    const collect = idOf(one.sent[0]);
    expect(idOf(two.sent[0])).toBe(collect);
    // Worker 2 answers first: the first worker's value is still worker 1's.
    const metrics = await partOf(workerMetrics(4, 10));
    collector.onMessage(two.ref, { orchardMetrics: 'part', id: collect, metrics });
    const mine = await partOf(workerMetrics(3, 11));
    collector.onMessage(one.ref, { orchardMetrics: 'part', id: collect, metrics: mine });
    const text = await answerOf(one);
    expect(text).toContain(
      'orchard_http_requests_total{route="/healthz",method="GET",status="200"} 7',
    );
    expect(text).toContain('orchard_http_request_duration_seconds_count{route="/healthz"} 7');
    expect(text).toContain('orchard_enrollments{state="enrolled"} 11');
    expect(text).toMatch(/orchard_build_info\{[^}]*\} 1\n/);
    expect(text).toContain('orchard_cluster_metrics_workers{state="answered"} 2');
    expect(text).toContain('orchard_cluster_metrics_missed_total{worker="2"} 0');
    expect(
      two.sent.filter((m) => (m as { orchardMetrics: string }).orchardMetrics === 'answer'),
    ).toEqual([]);
  });

  test('fail/a worker that does not answer in time is left out and counted; its late part is dropped', async () => {
    const [one, two, gone] = [standIn(1), standIn(2), standIn(3, false)];
    const collector = clusterMetricsCollector({
      workers: () => [one.ref, two.ref, gone.ref],
      logger: silentLogger,
      timeoutMs: 50,
    });
    collector.onMessage(two.ref, { orchardMetrics: 'request', id: 1 });
    const collect = idOf(two.sent[0]);
    expect(gone.sent).toEqual([]);
    const metrics = await partOf(workerMetrics(5, 2));
    collector.onMessage(two.ref, { orchardMetrics: 'part', id: collect, metrics });
    // Worker 1 never answers: worker 2 is answered with its own counts and the miss.
    const text = await answerOf(two);
    expect(text).toContain(
      'orchard_http_requests_total{route="/healthz",method="GET",status="200"} 5',
    );
    expect(text).toContain('orchard_cluster_metrics_missed_total{worker="1"} 1');
    expect(text).toContain('orchard_cluster_metrics_workers{state="missing"} 1');
    expect(text).toContain('orchard_cluster_metrics_workers{state="answered"} 1');
    const late = await partOf(workerMetrics(100, 2));
    expect(
      collector.onMessage(one.ref, { orchardMetrics: 'part', id: collect, metrics: late }),
    ).toBe(true);
    expect(
      one.sent.filter((m) => (m as { orchardMetrics: string }).orchardMetrics === 'answer'),
    ).toEqual([]);
    const text2 = await collector.registry.metrics();
    expect(text2).toContain('orchard_cluster_metrics_missed_total{worker="1"} 1');
  });
});

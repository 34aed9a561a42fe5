/**
 * The daemon's push statistics: the sliding window `/healthz` reports (clock injected) and the
 * `orchard_push_results_total` counter, whose label sets are capped.
 */
import { describe, expect, test } from '@jest/globals';
import type { EnrollmentPushResult } from '../../src/index.js';
import { createMetrics } from '../../src/daemon/metrics.js';
import { createPushStats } from '../../src/daemon/push.js';

const result = (
  outcome: EnrollmentPushResult['outcome'],
  reason?: string,
): EnrollmentPushResult => ({
  enrollmentId: 'e',
  outcome,
  at: new Date(0),
  ...(reason === undefined ? {} : { reason }),
});

describe('push stats', () => {
  test('ok/counts outcomes and failure reasons within the window, then forgets them', () => {
    let now = Date.UTC(2026, 0, 1);
    const stats = createPushStats(() => now, 60_000);
    stats.record([
      result('accepted'),
      result('failed', 'ECONNREFUSED'),
      result('no-token', 'NoPushToken'),
    ]);
    now += 30_000;
    stats.record([result('deferred', 'CircuitOpen'), result('failed', 'ECONNREFUSED')]);
    expect(stats.snapshot()).toEqual({
      windowSeconds: 60,
      accepted: 1,
      failed: 2,
      deferred: 1,
      noToken: 1,
      byReason: { ECONNREFUSED: 2, CircuitOpen: 1 },
      lastFailure: { outcome: 'failed', reason: 'ECONNREFUSED', at: new Date(now).toISOString() },
    });
    now += 40_000;
    expect(stats.snapshot()).toMatchObject({ accepted: 0, failed: 1, deferred: 1, noToken: 0 });
    now += 60_000;
    const quiet = stats.snapshot();
    expect(quiet).toMatchObject({ accepted: 0, failed: 0, deferred: 0, byReason: {} });
    expect(quiet.lastFailure?.reason).toBe('ECONNREFUSED');
  });

  test('ok/memory stays bounded: buckets are dropped as the window moves', () => {
    let now = 0;
    const stats = createPushStats(() => now, 60_000);
    for (let i = 0; i < 10_000; i++) {
      now += 10_000;
      stats.record([result('failed', 'Timeout')]);
    }
    expect(stats.snapshot().failed).toBeLessThanOrEqual(6);
  });
});

describe('push result metrics', () => {
  test('ok/outcome and reason labels; accepted has no reason', async () => {
    const m = createMetrics();
    m.pushResult('accepted');
    m.pushResult('failed', 'Unregistered');
    m.pushResult('failed', 'Unregistered');
    const text = await m.render();
    expect(text).toContain('# TYPE orchard_push_results_total counter');
    expect(text).toContain('orchard_push_results_total{outcome="accepted"} 1');
    expect(text).toContain('orchard_push_results_total{outcome="failed",reason="Unregistered"} 2');
  });

  test('ok/label sets are capped: later reasons count as Other', async () => {
    const m = createMetrics();
    for (let i = 0; i < 250; i++) m.pushResult('failed', `R${i}`);
    const text = await m.render();
    const lines = text.split('\n').filter((l) => l.startsWith('orchard_push_results_total{'));
    expect(lines).toHaveLength(201);
    expect(text).toContain('orchard_push_results_total{outcome="failed",reason="Other"} 50');
  });
});

describe('metrics registry', () => {
  test('ok/each daemon has its own registry: the same names twice do not clash', async () => {
    const a = createMetrics({ version: '1.2.3' });
    const b = createMetrics({ version: '1.2.3' });
    a.pushed('accepted', 2);
    b.gauge('orchard_push_queue_depth', 'Pushes queued or in flight.', '', () => ({ '': 4 }));
    a.gauge('orchard_push_queue_depth', 'Pushes queued or in flight.', '', () => ({ '': 1 }));
    const [ta, tb] = await Promise.all([a.render(), b.render()]);
    expect(ta).toContain('orchard_pushes_total{outcome="accepted"} 2');
    expect(tb).not.toContain('orchard_pushes_total{outcome="accepted"}');
    expect([ta, tb].map((t) => /^orchard_push_queue_depth (\d+)$/m.exec(t)?.[1])).toEqual([
      '1',
      '4',
    ]);
    expect(a.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  test('ok/build info and default process metrics are there from the start', async () => {
    const text = await createMetrics({ version: '9.8.7' }).render();
    expect(text).toContain(`orchard_build_info{version="9.8.7",node="${process.version}"} 1`);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  test('ok/a labelled gauge shows only the values read at this scrape', async () => {
    const m = createMetrics({ version: '0' });
    let states: Record<string, number> = { enrolled: 2, pending: 1 };
    m.gauge('orchard_enrollments', 'Enrollments by state.', 'state', () => states);
    expect(await m.render()).toContain('orchard_enrollments{state="pending"} 1');
    states = { enrolled: 3 };
    const text = await m.render();
    expect(text).toContain('orchard_enrollments{state="enrolled"} 3');
    expect(text).not.toContain('state="pending"');
  });
});

/**
 * The Prometheus metrics of `orchard-mdm/metrics`: the `orchard_push_results_total` counter,
 * whose label sets are capped, a registry per instance, build info and the default process
 * metrics, and gauges read at scrape time.
 */
import { describe, expect, test } from '@jest/globals';
import { createMetrics } from '../../src/http/metrics.js';

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

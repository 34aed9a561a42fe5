/**
 * Recent push outcomes for `/healthz`: the sliding window (clock injected) by outcome and
 * reason, with bounded memory.
 */
import { describe, expect, test } from '@jest/globals';
import { createPushStats, type EnrollmentPushResult } from '../../src/index.js';

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

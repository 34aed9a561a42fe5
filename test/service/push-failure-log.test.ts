/**
 * The aggregated push failure log: a fleet-wide outage makes one line per reason per interval,
 * with the count of pushes it stands for. The clock is injected; the trailing line is driven by
 * `flush()` or by the next failure after the interval, never by waiting.
 */
import { describe, expect, test } from '@jest/globals';
import { createPushFailureLog, type LoggedPushResult } from '../../src/service/push-failure-log.js';
import type { Logger } from '../../src/service/ports.js';

function setup(intervalMs = 10_000) {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  let now = 1_000_000;
  const log = createPushFailureLog(logger, { intervalMs, now: () => now });
  return {
    lines,
    log,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const failed = (n: number, reason: string, prefix = 'e'): LoggedPushResult[] =>
  Array.from({ length: n }, (_, i) => ({
    enrollmentId: `${prefix}${i}`,
    outcome: 'failed',
    reason,
  }));

describe('push failure log', () => {
  test('ok/the first failure is logged at once, at warn, with its reason and count', () => {
    const { lines, log } = setup();
    log.record(failed(1, 'ECONNREFUSED'));
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'push failed',
        obj: {
          outcome: 'failed',
          reason: 'ECONNREFUSED',
          count: 1,
          enrollmentIds: ['e0'],
          intervalMs: 10_000,
        },
      },
    ]);
    log.flush();
  });

  test('ok/a batch of 10,000 failures with one reason is one line', () => {
    const { lines, log } = setup();
    log.record(failed(10_000, 'ECONNREFUSED'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.obj).toMatchObject({ count: 10_000, enrollmentIds: ['e0', 'e1', 'e2'] });
    log.flush();
  });

  test('ok/repeats within the interval are held, then logged once with their count', () => {
    const { lines, log, advance } = setup();
    log.record(failed(1, 'Timeout'));
    for (let i = 0; i < 500; i++) {
      advance(10);
      log.record(failed(1, 'Timeout', `r${i}-`));
    }
    expect(lines).toHaveLength(1);
    advance(10_000);
    log.record(failed(1, 'Timeout', 'late'));
    expect(lines).toHaveLength(2);
    expect(lines[1]?.obj).toMatchObject({ reason: 'Timeout', count: 501 });
    log.flush();
    expect(lines).toHaveLength(2);
  });

  test('ok/flush logs what is held (on shutdown)', () => {
    const { lines, log, advance } = setup();
    log.record(failed(1, 'Unregistered'));
    advance(1);
    log.record(failed(7, 'Unregistered'));
    log.flush();
    expect(lines.map((l) => l.obj.count)).toEqual([1, 7]);
  });

  test('ok/one line per distinct outcome and reason; accepted and no-token are not failures', () => {
    const { lines, log } = setup();
    log.record([
      ...failed(3, 'ECONNREFUSED'),
      ...failed(2, 'BadDeviceToken', 'b'),
      { enrollmentId: 'd', outcome: 'deferred', reason: 'CircuitOpen' },
      { enrollmentId: 'a', outcome: 'accepted' },
      { enrollmentId: 'n', outcome: 'no-token', reason: 'NoPushToken' },
    ]);
    expect(lines.map((l) => [l.msg, l.obj.reason, l.obj.count])).toEqual([
      ['push failed', 'ECONNREFUSED', 3],
      ['push failed', 'BadDeviceToken', 2],
      ['push deferred', 'CircuitOpen', 1],
    ]);
    log.flush();
  });

  test('ok/reasons beyond 100 distinct ones share one Other line', () => {
    const { lines, log } = setup();
    for (let i = 0; i < 150; i++) log.record(failed(1, `Reason${i}`));
    expect(lines).toHaveLength(101);
    expect(lines.at(-1)?.obj.reason).toBe('Other');
    log.flush();
  });

  test('fail/a negative interval is a TypeError', () => {
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    expect(() => createPushFailureLog(logger, { intervalMs: -1 })).toThrow(TypeError);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { PushEvent } from '../../src/push/ports.js';
import type { ApnsMock } from '../support/apns-mock.js';
import { createPushHarness, targets, type PushHarness } from './harness.js';

let h: PushHarness;
beforeAll(async () => {
  h = await createPushHarness();
});
afterEach(async () => {
  await h.cleanup();
});
afterAll(async () => {
  await h.cleanup();
});

/** Tokens the mock processed more than once, and tokens it never processed. */
function audit(mock: ApnsMock, tokens: string[]): { duplicates: string[]; missing: string[] } {
  const seen = new Map<string, number>();
  for (const p of mock.pushes) seen.set(p.token, (seen.get(p.token) ?? 0) + 1);
  return {
    duplicates: [...seen].filter(([, n]) => n > 1).map(([t]) => t),
    missing: tokens.filter((t) => !seen.has(t)),
  };
}

describe('APNs provider: connection trouble', () => {
  test('ok/GOAWAY (NO_ERROR) mid-burst: nothing lost, nothing sent twice', async () => {
    const mock = await h.mock();
    mock.onPush = (_p, i) => {
      if (i === 400) mock.goaway(0);
    };
    const provider = h.provider(mock, { poolSize: 1 });
    const list = targets(h.topic, 1200);
    const results = await provider.push(list);
    expect(results.filter((r) => r.outcome !== 'sent')).toEqual([]);
    expect(mock.connections).toBe(2);
    expect(
      audit(
        mock,
        list.map((t) => t.token),
      ),
    ).toEqual({ duplicates: [], missing: [] });
  });

  test('ok/GOAWAY (INTERNAL_ERROR) and a dropped connection: nothing lost, only in-flight pushes resent', async () => {
    const mock = await h.mock();
    let line = 0;
    mock.onPush = (p, i) => {
      if (i !== 400) return;
      line = mock.goaway(2).get(p.session) ?? 0;
    };
    mock.rule = () => ({ delayMs: 2 });
    const provider = h.provider(mock, { poolSize: 1 });
    const list = targets(h.topic, 1200);
    const results = await provider.push(list);
    expect(results.filter((r) => r.outcome !== 'sent')).toEqual([]);
    const { duplicates, missing } = audit(
      mock,
      list.map((t) => t.token),
    );
    expect(missing).toEqual([]);
    // A push sent twice was in flight below the GOAWAY line on the first connection: ambiguous, so resent.
    const firsts = duplicates.map((t) => mock.pushes.find((p) => p.token === t)!);
    expect(firsts.filter((p) => p.session !== 0 || p.streamId > line)).toEqual([]);
    expect(provider.health().circuit).toBe('closed');
  });

  test('ok/lowering SETTINGS_MAX_CONCURRENT_STREAMS to 1 mid-burst loses and doubles nothing', async () => {
    const mock = await h.mock({ maxConcurrentStreams: 100 });
    mock.onPush = (_p, i) => {
      if (i === 150) mock.setMaxConcurrentStreams(1);
    };
    mock.rule = () => ({ delayMs: 1 });
    const provider = h.provider(mock, { poolSize: 1 });
    const list = targets(h.topic, 600);
    const results = await provider.push(list);
    expect(results.filter((r) => r.outcome !== 'sent')).toEqual([]);
    expect(
      audit(
        mock,
        list.map((t) => t.token),
      ),
    ).toEqual({ duplicates: [], missing: [] });
    expect(mock.connections).toBe(1);
  });

  test('ok/a connection reset mid-burst: every push still sent (retried)', async () => {
    const mock = await h.mock();
    let reset = false;
    mock.onPush = (_p, i) => {
      if (i === 300 && !reset) {
        reset = true;
        setImmediate(() => {
          mock.resetConnections();
        });
      }
    };
    mock.rule = () => ({ delayMs: 5 });
    const provider = h.provider(mock, { poolSize: 1 });
    const list = targets(h.topic, 1000);
    const results = await provider.push(list);
    expect(results.filter((r) => r.outcome !== 'sent')).toEqual([]);
    expect(
      audit(
        mock,
        list.map((t) => t.token),
      ).missing,
    ).toEqual([]);
    expect(mock.connections).toBeGreaterThanOrEqual(2);
  });

  test('ok/more pushes than one connection takes open a second connection', async () => {
    const mock = await h.mock({ maxConcurrentStreams: 50 });
    mock.rule = () => ({ delayMs: 20 });
    const provider = h.provider(mock, { poolSize: 3 });
    const results = await provider.push(targets(h.topic, 400));
    expect(results.every((r) => r.outcome === 'sent')).toBe(true);
    expect(mock.connections).toBeGreaterThanOrEqual(2);
    expect(mock.connections).toBeLessThanOrEqual(3);
  });

  test('ok/maxPending bounds the pushes in flight', async () => {
    const mock = await h.mock();
    let open = 0;
    let peak = 0;
    mock.onPush = () => {
      open++;
      peak = Math.max(peak, open);
    };
    mock.rule = () => {
      setTimeout(() => open--, 4);
      return { delayMs: 5 };
    };
    const provider = h.provider(mock, { maxPending: 25 });
    const results = await Promise.all([
      provider.push(targets(h.topic, 100)),
      provider.push(targets(h.topic, 100, 'f')),
    ]);
    expect(results.flat().every((r) => r.outcome === 'sent')).toBe(true);
    expect(peak).toBeLessThanOrEqual(25);
    expect(peak).toBeGreaterThan(1);
  });

  test('fail/an unreachable APNs fails fast with ConnectionError', async () => {
    const mock = await h.mock();
    const url = mock.url;
    await mock.close();
    const { createApnsPushProvider } = await import('../../src/push/apns/provider.js');
    // "Fast" by counts, not by the clock: one backoff sleep between the two attempts, no longer
    // than backoff.maxMs, and no waiting on a timeout (an hour here: waiting on it would run into
    // the test's own timeout instead of passing slowly).
    const slept: number[] = [];
    const provider = createApnsPushProvider(
      {
        certificate: h.certificate,
        sleep: (ms) => {
          slept.push(ms);
          return Promise.resolve();
        },
      },
      {
        url,
        ca: h.pki.ca.certPem,
        maxAttempts: 2,
        backoff: { baseMs: 1, maxMs: 2 },
        requestTimeoutMs: 3_600_000,
        expiryCheckIntervalMs: 0,
      },
    );
    const [r] = await provider.push(targets(h.topic, 1));
    await provider.close();
    expect(r).toMatchObject({ outcome: 'failed', reason: 'ConnectionError' });
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeLessThanOrEqual(2);
  });

  test('ok/the circuit opens after repeated failures, fails fast, then closes after the cooldown', async () => {
    const mock = await h.mock();
    let failing = true;
    mock.rule = () => (failing ? { status: 500 } : undefined);
    let clock = 1_700_000_000_000;
    const events: PushEvent[] = [];
    const provider = h.provider(
      mock,
      { maxAttempts: 1, breaker: { threshold: 3, cooldownMs: 10_000 }, coalesceWindowMs: 0 },
      { now: () => clock, onEvent: (e) => events.push(e) },
    );
    for (let i = 0; i < 3; i++) await provider.push(targets(h.topic, 1, i % 2 ? 'e' : 'f'));
    expect(provider.health().circuit).toBe('open');
    const [blocked] = await provider.push(targets(h.topic, 1));
    expect(blocked).toMatchObject({ outcome: 'failed', reason: 'CircuitOpen' });
    expect(mock.count).toBe(3);
    failing = false;
    clock += 10_000;
    expect(provider.health().circuit).toBe('half-open');
    expect((await provider.push(targets(h.topic, 1)))[0]!.outcome).toBe('sent');
    expect(provider.health().circuit).toBe('closed');
    expect(events.map((e) => e.type)).toEqual(['circuit-open', 'circuit-closed']);
  });
});

/**
 * An APNs that cannot be reached at all: the result names the transport error, and the circuit
 * opens within one push's retries instead of after ten failed attempts, so `/healthz` and the
 * next pushes say what is going on.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createCircuitBreaker } from '../../src/push/apns/circuit-breaker.js';
import { resolveProviderOptions } from '../../src/push/apns/options.js';
import { createApnsPushProvider } from '../../src/push/apns/provider.js';
import type { PushEvent } from '../../src/push/ports.js';
import { createPushHarness, targets, type PushHarness } from './harness.js';

let h: PushHarness;
let closedUrl: string;

beforeAll(async () => {
  h = await createPushHarness();
  const mock = await h.mock();
  closedUrl = mock.url;
  await mock.close();
});

afterAll(async () => {
  await h.cleanup();
});

function unreachable(events: PushEvent[] = []) {
  return createApnsPushProvider(
    { certificate: h.certificate, sleep: () => Promise.resolve(), onEvent: (e) => events.push(e) },
    // The default breaker (10 failures, 3 failed connects) and an hour of timeout: nothing here
    // may wait on a timer.
    { url: closedUrl, ca: h.pki.ca.certPem, requestTimeoutMs: 3_600_000, expiryCheckIntervalMs: 0 },
  );
}

describe('APNs unreachable', () => {
  test('ok/one push opens the circuit and its result names ECONNREFUSED', async () => {
    const events: PushEvent[] = [];
    const provider = unreachable(events);
    try {
      const [r] = await provider.push(targets(h.topic, 1));
      expect(r).toMatchObject({
        outcome: 'failed',
        reason: 'ConnectionError',
        errorCode: 'ECONNREFUSED',
      });
      expect(provider.health().circuit).toBe('open');
      expect(events.map((e) => e.type)).toEqual(['circuit-open']);
      const [next] = await provider.push(targets(h.topic, 1, 'f'));
      expect(next).toMatchObject({ outcome: 'failed', reason: 'CircuitOpen' });
    } finally {
      await provider.close();
    }
  });

  test('ok/a push spread over many targets still opens it (a lost connection counts once)', async () => {
    const provider = unreachable();
    try {
      const results = await provider.push(targets(h.topic, 50));
      expect(results.every((r) => r.outcome === 'failed')).toBe(true);
      expect(provider.health().circuit).toBe('open');
    } finally {
      await provider.close();
    }
  });
});

describe('circuit breaker: failed connects', () => {
  test('ok/opens at connectThreshold failed connects, before the general threshold', () => {
    const b = createCircuitBreaker({
      threshold: 10,
      connectThreshold: 2,
      cooldownMs: 100,
      now: () => 0,
    });
    b.failure('connect');
    expect(b.state).toBe('closed');
    b.failure('connect');
    expect(b.state).toBe('open');
  });

  test('ok/a success resets the count of failed connects', () => {
    const b = createCircuitBreaker({
      threshold: 10,
      connectThreshold: 2,
      cooldownMs: 1,
      now: () => 0,
    });
    b.failure('connect');
    b.success();
    b.failure('connect');
    expect(b.state).toBe('closed');
  });

  test('ok/other failures do not count as failed connects', () => {
    const b = createCircuitBreaker({
      threshold: 10,
      connectThreshold: 2,
      cooldownMs: 1,
      now: () => 0,
    });
    b.failure();
    b.failure();
    b.failure('connect');
    expect(b.state).toBe('closed');
  });

  test.each([
    ['fail/connectThreshold 0', { threshold: 1, cooldownMs: 1, connectThreshold: 0 }],
    ['fail/connectThreshold NaN', { threshold: 1, cooldownMs: 1, connectThreshold: Number.NaN }],
  ])('%s is a TypeError naming it', (_name, breaker) => {
    expect(() => resolveProviderOptions({ breaker })).toThrow(/breaker\.connectThreshold/);
  });

  test('ok/connectThreshold defaults to 3', () => {
    expect(resolveProviderOptions({}).breaker).toEqual({
      threshold: 10,
      cooldownMs: 30_000,
      connectThreshold: 3,
    });
  });
});

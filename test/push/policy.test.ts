import { describe, expect, test } from '@jest/globals';
import { backoffDelay } from '../../src/push/apns/backoff.js';
import { createCircuitBreaker, type CircuitState } from '../../src/push/apns/circuit-breaker.js';
import { createCoalescer, type Coalescer } from '../../src/push/apns/coalescer.js';
import { createLimiter } from '../../src/push/apns/limiter.js';
import { resolveProviderOptions } from '../../src/push/apns/options.js';
import { createMultiTopicPushProvider, type TopicPushProvider } from '../../src/push/multi.js';
import type { PushTarget } from '../../src/push/ports.js';

describe('backoff', () => {
  test.each([
    ['ok/first retry, random 0: half the base', 1, 0, 50],
    ['ok/first retry, random ~1: the whole base', 1, 0.999999, 99.99995],
    ['ok/third retry doubles twice', 3, 0.5, 300],
    ['ok/capped at maxMs', 20, 0, 500],
  ])('%s', (_name, attempt, random, expected) => {
    expect(backoffDelay(attempt, { baseMs: 100, maxMs: 1000 }, () => random)).toBeCloseTo(
      expected,
      3,
    );
  });

  test.each([0, -1, 1.5])('fail/attempt %p is a TypeError', (attempt) => {
    expect(() => backoffDelay(attempt, { baseMs: 1, maxMs: 1 }, Math.random)).toThrow(TypeError);
  });
});

describe('circuit breaker', () => {
  test('ok/opens at the threshold, half-opens after the cooldown, one probe at a time', () => {
    let clock = 0;
    const changes: CircuitState[] = [];
    const b = createCircuitBreaker({
      threshold: 2,
      cooldownMs: 100,
      now: () => clock,
      onChange: (s) => changes.push(s),
    });
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    clock = 100;
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    clock = 200;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  test('ok/a success resets the count of consecutive failures', () => {
    const b = createCircuitBreaker({ threshold: 2, cooldownMs: 1, now: () => 0 });
    b.failure();
    b.success();
    b.failure();
    expect(b.state).toBe('closed');
  });

  test('ok/cancel frees the probe without a verdict', () => {
    let clock = 0;
    const b = createCircuitBreaker({ threshold: 1, cooldownMs: 10, now: () => clock });
    b.failure();
    clock = 10;
    expect(b.allow()).toBe(true);
    b.cancel();
    expect(b.allow()).toBe(true);
  });

  test('fail/threshold below 1 is a TypeError', () => {
    expect(() => createCircuitBreaker({ threshold: 0, cooldownMs: 1, now: () => 0 })).toThrow(
      TypeError,
    );
  });
});

/** The provider's use of a coalescer: find, else start and finish (remembering when asked). */
async function run(
  c: Coalescer<string>,
  key: string,
  send: () => Promise<string>,
  remember = true,
): Promise<{ result: string; coalesced: boolean }> {
  const hit = c.find(key);
  if (hit !== undefined) return { result: await hit, coalesced: true };
  const running = send();
  c.start(key, running);
  const result = await running;
  c.finish(key, result, remember);
  return { result, coalesced: false };
}

describe('coalescer', () => {
  test('ok/shares in-flight work and remembers successes for the window only', async () => {
    let clock = 0;
    let calls = 0;
    const c = createCoalescer<string>({
      windowMs: 100,
      maxEntries: 10,
      now: () => clock,
      isSent: (r) => r === 'ok',
    });
    const send = async (): Promise<string> => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return 'ok';
    };
    const [a, b] = await Promise.all([run(c, 'k', send), run(c, 'k', send)]);
    expect([a.coalesced, b.coalesced]).toEqual([false, true]);
    clock = 99;
    expect((await run(c, 'k', send)).coalesced).toBe(true);
    clock = 100;
    expect((await run(c, 'k', send)).coalesced).toBe(false);
    expect(calls).toBe(2);
  });

  test('ok/a push finished without remember is shared in flight but opens no window', async () => {
    let calls = 0;
    const c = createCoalescer<string>({
      windowMs: 1000,
      maxEntries: 10,
      now: () => 0,
      isSent: (r) => r === 'ok',
    });
    const send = async (): Promise<string> => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return 'ok';
    };
    const [a, b] = await Promise.all([run(c, 'k', send, false), run(c, 'k', send, false)]);
    expect([a.coalesced, b.coalesced]).toEqual([false, true]);
    expect((await run(c, 'k', send, false)).coalesced).toBe(false);
    expect(calls).toBe(2);
    expect(c.size).toBe(0);
  });

  test('ok/failures do not open a window, and memory stays within maxEntries', async () => {
    const c = createCoalescer<string>({
      windowMs: 1000,
      maxEntries: 3,
      now: () => 0,
      isSent: (r) => r === 'ok',
    });
    expect((await run(c, 'x', () => Promise.resolve('failed'))).coalesced).toBe(false);
    expect((await run(c, 'x', () => Promise.resolve('failed'))).coalesced).toBe(false);
    for (const key of ['a', 'b', 'c', 'd', 'e']) await run(c, key, () => Promise.resolve('ok'));
    expect(c.size).toBe(3);
    expect((await run(c, 'a', () => Promise.resolve('ok'))).coalesced).toBe(false);
  });

  test('ok/a key sent again keeps its newest window; forgetting and long runs stay bounded', () => {
    let clock = 0;
    const c = createCoalescer<string, string>({
      windowMs: 1000,
      maxEntries: 3,
      now: () => clock,
      isSent: (r) => r === 'ok',
    });
    const send = (key: string): void => {
      c.start(key, `running ${key}`);
      expect(c.find(key)).toBe(`running ${key}`);
      c.finish(key, 'ok', true);
    };
    for (const key of ['a', 'b', 'c']) send(key);
    clock = 10;
    send('a'); // a's window is now the newest; its first one is passed over when pruning
    clock = 20;
    send('d'); // four windows for three places: the oldest live one (b) goes
    expect(c.find('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => c.find(k))).toEqual(['ok', 'ok', 'ok']);
    c.forget('c');
    c.forget('c');
    expect(c.find('c')).toBeUndefined();
    expect(c.size).toBe(2);
    for (let i = 0; i < 5000; i++) send(`k${String(i)}`);
    expect(c.size).toBe(3);
    expect(c.find('k4999')).toBe('ok');
    expect(c.find('k4996')).toBeUndefined();
    clock += 1000;
    expect(c.find('k4999')).toBeUndefined(); // the window has passed
    send('late');
    expect(c.size).toBe(1); // expired windows pruned
  });
});

describe('provider options', () => {
  test.each([
    ['fail/poolSize 0', { poolSize: 0 }, /poolSize/],
    ['fail/negative timeout', { requestTimeoutMs: -5 }, /requestTimeoutMs/],
    ['fail/plain http URL', { url: 'http://api.push.apple.com' }, /https/],
    ['fail/NaN maxPending', { maxPending: Number.NaN }, /maxPending/],
  ])('%s', (_name, options, message) => {
    expect(() => resolveProviderOptions(options)).toThrow(message);
  });

  test.each([
    ['ok/production by default', {}, 'https://api.push.apple.com'],
    ['ok/sandbox when asked', { sandbox: true }, 'https://api.sandbox.push.apple.com'],
  ])('%s', (_name, options, url) => {
    expect(resolveProviderOptions(options).url).toBe(url);
  });
});

describe('several topics', () => {
  const fake = (topic: string, seen: PushTarget[]): TopicPushProvider => ({
    topic,
    push: (ts) => {
      seen.push(...ts);
      return Promise.resolve(
        ts.map((t) => ({ enrollmentId: t.enrollmentId, outcome: 'sent' as const })),
      );
    },
  });
  test('ok/routes by topic, keeps order, rejects unknown topics', async () => {
    const a: PushTarget[] = [];
    const b: PushTarget[] = [];
    const multi = createMultiTopicPushProvider([fake('t.a', a), fake('t.b', b)]);
    const t = (id: string, topic: string): PushTarget => ({
      enrollmentId: id,
      token: '00',
      pushMagic: 'm',
      topic,
    });
    const results = await multi.push([t('1', 't.b'), t('2', 't.x'), t('3', 't.a'), t('4', 't.b')]);
    expect(results).toEqual([
      { enrollmentId: '1', outcome: 'sent' },
      { enrollmentId: '2', outcome: 'rejected', reason: 'UnknownTopic' },
      { enrollmentId: '3', outcome: 'sent' },
      { enrollmentId: '4', outcome: 'sent' },
    ]);
    expect(a.map((x) => x.enrollmentId)).toEqual(['3']);
    expect(b.map((x) => x.enrollmentId)).toEqual(['1', '4']);
  });
});

describe('limiter', () => {
  test('ok/hands slots to waiters in order and never exceeds max', async () => {
    const limiter = createLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const job = async (i: number): Promise<void> => {
      const wait = limiter.acquire();
      if (wait) await wait;
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 2));
      order.push(i);
      active--;
      limiter.release();
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(job));
    expect(peak).toBe(2);
    expect(order).toHaveLength(6);
    expect(limiter.acquire()).toBeUndefined();
  });

  test('fail/max below 1 is a TypeError', () => {
    expect(() => createLimiter(0)).toThrow(TypeError);
  });
});

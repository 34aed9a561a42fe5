/**
 * Rate limits (SECURITY.md, resource exhaustion): token buckets per client address on
 * enrollment links, SCEP PKIOperation and failed admin logins answer 429 `ERR_RATE_LIMITED`
 * with `Retry-After`; device MDM routes and successful admin calls are never limited.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createRateLimiter } from '../../src/daemon/rate-limit.js';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';

describe('createRateLimiter', () => {
  test('ok/a bucket of N refills at N per minute, per key', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 3, now: () => t });
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([undefined, undefined, undefined]);
    expect(limiter.take('a')).toBe(20);
    expect(limiter.blocked('a')).toBe(20);
    expect(limiter.take('b')).toBeUndefined();
    t = 19_000;
    expect(limiter.take('a')).toBe(1);
    t = 20_000;
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toBe(20);
    t = 10 * 60_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([
      undefined,
      undefined,
      undefined,
      20,
    ]);
  });

  test('ok/memory stays bounded by maxKeys', () => {
    const limiter = createRateLimiter({ perMinute: 1, now: () => 0, maxKeys: 2 });
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('b')).toBeUndefined();
    expect(limiter.take('c')).toBeUndefined();
    // 'a' was dropped, so it starts with a full bucket again.
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('c')).toBe(60);
  });

  test.each([0, -1, 1.5, Number.NaN])('fail/perMinute %p is a TypeError', (perMinute) => {
    expect(() => createRateLimiter({ perMinute })).toThrow(TypeError);
  });
});

describe('rate limits in the daemon', () => {
  let h: Harness;
  let device: DeviceEmulator;
  beforeAll(async () => {
    h = await startHarness({ rateLimit: '3/min' });
    device = await h.device();
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  function expect429(res: { status: number; body: string; headers: Record<string, unknown> }) {
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }

  test('fail/the fourth enrollment link fetch in a minute is 429', async () => {
    for (let i = 0; i < 3; i++) expect((await h.raw('GET', `/enroll/nope${i}`)).status).toBe(404);
    expect429(await h.raw('GET', '/enroll/nope'));
  });

  test('fail/the fourth SCEP PKIOperation is 429; GetCACaps is not limited', async () => {
    const post = () =>
      h.raw(
        'POST',
        '/scep?operation=PKIOperation',
        { 'content-type': 'application/x-pki-message' },
        Buffer.from('not cms'),
      );
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(400);
    expect429(await post());
    for (let i = 0; i < 5; i++)
      expect((await h.raw('GET', '/scep?operation=GetCACaps')).status).toBe(200);
  });

  test('fail/after three failed logins the address gets 429, even with a valid key', async () => {
    for (let i = 0; i < 5; i++)
      expect((await h.api('GET', '/api/v1/enrollments')).status).toBe(200);
    for (const key of [null, 'wrong-key-1', 'wrong-key-2'])
      expect((await h.api('GET', '/api/v1/enrollments', undefined, key)).status).toBe(403);
    expect429(await h.raw('GET', '/api/v1/enrollments', { authorization: 'Bearer wrong-3' }));
    expect((await h.api('GET', '/api/v1/enrollments')).status).toBe(429);
  });

  test('ok/device MDM routes are never rate limited', async () => {
    for (let i = 0; i < 8; i++) expect((await device.idle()).status).toBe(200);
  });
});

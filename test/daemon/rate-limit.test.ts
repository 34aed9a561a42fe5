/**
 * Rate limits (docs/security.md, resource exhaustion; security review issue 12 item 8): token
 * buckets per client address on enrollment links, SCEP PKIOperation and failed admin logins
 * answer 429 `ERR_RATE_LIMITED` with `Retry-After`; failed logins also have a global ceiling.
 * A request with a valid API key is never refused because others failed, and device MDM routes
 * are never limited.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  addressBucket,
  createFailedLoginLimiter,
  createRateLimiter,
} from '../../src/daemon/rate-limit.js';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';
import { requestFrom } from './peer.js';

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
    expect(limiter.size).toBe(2);
    // 'a' was dropped, so it starts with a full bucket again.
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('c')).toBe(60);
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(2);
  });

  test('ok/a refilled bucket is evicted before an emptied one', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 1, now: () => t, maxKeys: 2 });
    limiter.take('old'); // empty until t = 60 s
    t = 30_000;
    limiter.take('guesser'); // empty until t = 90 s
    limiter.take('old'); // still empty: 'old' is now the most recently used
    t = 61_000; // 'old' has refilled, 'guesser' has not
    expect(limiter.take('new')).toBeUndefined();
    expect(limiter.take('guesser')).toBe(29);
  });

  test('ok/blocked does not track a key it has not seen', () => {
    const limiter = createRateLimiter({ perMinute: 1, now: () => 0 });
    expect(limiter.blocked('a')).toBeUndefined();
    expect(limiter.size).toBe(0);
  });

  test.each([0, -1, 1.5, Number.NaN])('fail/perMinute %p is a TypeError', (perMinute) => {
    expect(() => createRateLimiter({ perMinute })).toThrow(TypeError);
  });
});

describe('addressBucket', () => {
  test.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::ffff', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['unknown', 'unknown'],
  ])('ok/%s counts as %s', (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });
});

describe('createFailedLoginLimiter', () => {
  test('ok/failures from rotating addresses trip the global ceiling', () => {
    const limiter = createFailedLoginLimiter({ perMinute: 2, globalPerMinute: 5, now: () => 0 });
    for (let i = 0; i < 5; i++) {
      expect(limiter.blocked(`192.0.2.${i}`)).toBeUndefined();
      limiter.failed(`192.0.2.${i}`);
    }
    expect(limiter.blocked('198.51.100.1')).toBe(12);
  });

  test('ok/one IPv6 /64 is one bucket', () => {
    const limiter = createFailedLoginLimiter({ perMinute: 2, now: () => 0 });
    limiter.failed('2001:db8:1:2::1');
    limiter.failed('2001:db8:1:2::2');
    expect(limiter.blocked('2001:db8:1:2:ffff::3')).toBe(30);
    expect(limiter.blocked('2001:db8:1:3::1')).toBeUndefined();
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

  test('ok/after three failed logins from the address, a valid key from it still works', async () => {
    for (let i = 0; i < 5; i++)
      expect((await h.api('GET', '/api/v1/enrollments')).status).toBe(200);
    for (const key of [null, 'wrong-key-1', 'wrong-key-2'])
      expect((await h.api('GET', '/api/v1/enrollments', undefined, key)).status).toBe(403);
    for (let i = 0; i < 5; i++)
      expect((await h.api('GET', '/api/v1/enrollments')).status).toBe(200);
  });

  test('fail/after three failed logins from the address, an invalid or missing key gets 429', async () => {
    expect429(await h.raw('GET', '/api/v1/enrollments', { authorization: 'Bearer wrong-3' }));
    expect429(await h.raw('GET', '/api/v1/enrollments'));
  });

  test('ok/a valid read key refused for a write is no failed login', async () => {
    const created = await h.api('POST', '/api/v1/api-keys', { name: 'reader', scope: 'read' });
    expect(created.status).toBe(201);
    const reader = (created.body as { key: string }).key;
    // From an address of its own, so earlier failures do not count.
    const from = (headers: Record<string, string>, method = 'POST') =>
      requestFrom(h.daemon.url, '127.0.0.3', method, '/api/v1/enrollments/x/push', headers);
    for (let i = 0; i < 4; i++)
      expect((await from({ authorization: `Bearer ${reader}` })).status).toBe(403);
    expect((await from({}, 'GET')).status).not.toBe(429);
  });

  test('ok/device MDM routes are never rate limited', async () => {
    for (let i = 0; i < 8; i++) expect((await device.idle()).status).toBe(200);
  });
});

describe('rate limits behind a trusted proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rateLimit: '3/min', trustedProxy: '127.0.0.2' });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  const fromProxy = (client: string, key?: string) =>
    requestFrom(h.daemon.url, '127.0.0.2', 'GET', '/api/v1/enrollments', {
      'x-forwarded-for': client,
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    });

  test('fail/the global ceiling trips with rotating X-Forwarded-For from a trusted proxy', async () => {
    // 3/min per address, 30/min in total: thirty addresses fail once each.
    for (let i = 1; i <= 30; i++)
      expect((await fromProxy(`198.51.100.${i}`, 'wrong')).status).toBe(403);
    const refused = await fromProxy('198.51.100.200', 'wrong');
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect((await fromProxy('198.51.100.201')).status).toBe(429);
    expect((await fromProxy('198.51.100.202', h.apiKey)).status).toBe(200);
    expect((await fromProxy('198.51.100.1', h.apiKey)).status).toBe(200);
  });
});

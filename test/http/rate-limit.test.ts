/**
 * The token buckets of the edge's rate limits (docs/security.md, resource exhaustion): per key
 * with bounded memory, per client address (IPv6 per /64), and for failed logins a global ceiling
 * that rotating addresses cannot escape. Clocks are injected.
 */
import { describe, expect, test } from '@jest/globals';
import { addressBucket, createFailedLoginLimiter, createRateLimiter } from '../../src/http/node.js';

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

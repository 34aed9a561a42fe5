import { describe, expect, test } from '@jest/globals';
import { randomPoolBytes } from '../../src/crypto/random.js';

describe('randomPoolBytes', () => {
  test('ok/sizes are honoured, across pool refills and above the pooled limit', () => {
    for (const n of [0, 1, 16, 32, 1024, 1025, 5000]) expect(randomPoolBytes(n).length).toBe(n);
  });

  test('ok/no value repeats over many refills, and the returned buffers are independent', () => {
    const seen = new Set<string>();
    const all: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const b = randomPoolBytes(16);
      all.push(b);
      seen.add(b.toString('hex'));
    }
    expect(seen.size).toBe(5000);
    const copy = Buffer.from(all[0] as Buffer);
    for (let i = 0; i < 1000; i++) randomPoolBytes(32); // refills must not alias earlier values
    expect((all[0] as Buffer).equals(copy)).toBe(true);
  });

  test('ok/bytes look uniform (each bit set about half the time)', () => {
    const b = randomPoolBytes(1024);
    let ones = 0;
    for (let i = 0; i < 64; i++) {
      const chunk = randomPoolBytes(1024);
      for (const byte of chunk) for (let bit = 0; bit < 8; bit++) ones += (byte >> bit) & 1;
    }
    const total = 64 * 1024 * 8;
    expect(Math.abs(ones / total - 0.5)).toBeLessThan(0.01);
    expect(b.length).toBe(1024);
  });

  test.each([-1, 1.5, Number.NaN])('fail/size %p is a RangeError', (n) => {
    expect(() => randomPoolBytes(n)).toThrow(RangeError);
  });
});

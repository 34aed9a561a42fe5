/**
 * The minimal CBOR codec of device-attest-01: round trips of what it supports, and a typed
 * refusal (CborDecodeError) for everything it does not: tags, floats, indefinite lengths,
 * duplicate keys, trailing bytes, invalid UTF-8, nesting and item counts past the limits.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { CborDecodeError, decodeCbor, encodeCbor } from '../../src/acme/attestation-cbor.js';

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

describe('decodeCbor', () => {
  test('ok/RFC 8949 appendix A examples of the supported types', () => {
    expect(decodeCbor(hex('00'))).toBe(0);
    expect(decodeCbor(hex('17'))).toBe(23);
    expect(decodeCbor(hex('1818'))).toBe(24);
    expect(decodeCbor(hex('1903e8'))).toBe(1000);
    expect(decodeCbor(hex('1a000f4240'))).toBe(1000000);
    expect(decodeCbor(hex('1b000000e8d4a51000'))).toBe(1000000000000);
    expect(decodeCbor(hex('1bffffffffffffffff'))).toBe(18446744073709551615n);
    expect(decodeCbor(hex('20'))).toBe(-1);
    expect(decodeCbor(hex('3863'))).toBe(-100);
    expect(decodeCbor(hex('3bffffffffffffffff'))).toBe(-18446744073709551616n);
    expect(decodeCbor(hex('f4'))).toBe(false);
    expect(decodeCbor(hex('f5'))).toBe(true);
    expect(decodeCbor(hex('f6'))).toBe(null);
    expect(decodeCbor(hex('40'))).toEqual(new Uint8Array(0));
    expect(decodeCbor(hex('4401020304'))).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(decodeCbor(hex('6449455446'))).toBe('IETF');
    expect(decodeCbor(hex('62c3bc'))).toBe('\u00fc');
    expect(decodeCbor(hex('8301820203820405'))).toEqual([1, [2, 3], [4, 5]]);
    expect(decodeCbor(hex('a201020304'))).toEqual(
      new Map([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(decodeCbor(hex('a26161016162820203'))).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', [2, 3]],
      ]),
    );
  });

  test.each([
    ['a tag', 'c11a514b67b0'],
    ['a half float', 'f93c00'],
    ['a double', 'fb3ff199999999999a'],
    ['undefined', 'f7'],
    ['an indefinite byte string', '5f42010243030405ff'],
    ['an indefinite array', '9f018202039f0405ffff'],
    ['an indefinite map', 'bf61610161629f0203ffff'],
    ['a reserved additional info', '1c'],
    ['a duplicate key', 'a2616101616102'],
    ['an array as a key', 'a1800102'],
    ['trailing bytes', '0000'],
    ['a truncated string', '6449455446'.slice(0, 8)],
    ['a truncated length', '19 03'],
    ['a length past the end', '5a ffffffff 00'],
    ['a 64-bit length', '5b 0000000100000000'],
    ['invalid UTF-8', '62c328'],
    ['nothing', ''],
  ])('fail/%s: CborDecodeError', (_name, h) => {
    expect(() => decodeCbor(hex(h))).toThrow(CborDecodeError);
  });

  test('fail/nesting and item counts past the limits', () => {
    expect(() => decodeCbor(Buffer.alloc(20, 0x81))).toThrow(/nesting too deep/);
    expect(decodeCbor(Buffer.concat([Buffer.alloc(3, 0x81), hex('00')]), { maxDepth: 3 })).toEqual([
      [[0]],
    ]);
    const many = Buffer.concat([hex('990100'), Buffer.alloc(256, 0)]);
    expect(() => decodeCbor(many, { maxItems: 255 })).toThrow(/too many items/);
    expect((decodeCbor(many) as unknown[]).length).toBe(256);
    // An array claiming more items than the input has bytes fails fast, allocating nothing big.
    expect(() => decodeCbor(hex('9a 7fffffff'))).toThrow(CborDecodeError);
  });

  test('ok/map keys cannot reach Object.prototype', () => {
    const v = decodeCbor(encodeCbor({ __proto__x: 1, constructor: 2 }));
    expect(v).toBeInstanceOf(Map);
    const polluted = decodeCbor(hex('a1695f5f70726f746f5f5fa0'));
    expect(polluted).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  test('ok/the integer range ends exactly: -2^32 and 2^32 - 1 round-trip, beyond is refused', () => {
    for (const n of [-(2 ** 32), -(2 ** 32) + 1, -1, 0, 2 ** 32 - 1])
      expect(decodeCbor(encodeCbor(n))).toBe(n);
    expect(() => encodeCbor(-(2 ** 32) - 1)).toThrow(TypeError);
    expect(() => encodeCbor(2 ** 32)).toThrow(TypeError);
  });

  test('ok/encode then decode round-trips supported values; random bytes only throw CborDecodeError', () => {
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }),
        fc.string(),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc
          .uniqueArray(fc.tuple(fc.string(), tie('v')), { maxLength: 4, selector: (t) => t[0] })
          .map((entries) => new Map(entries)),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        expect(decodeCbor(encodeCbor(v), { maxDepth: 16 })).toEqual(v);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCbor(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(CborDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('fail/encodeCbor refuses what it cannot write', () => {
    expect(() => encodeCbor(1.5)).toThrow(TypeError);
    expect(() => encodeCbor(undefined)).toThrow(TypeError);
    expect(() => encodeCbor(2 ** 40)).toThrow(TypeError);
  });
});

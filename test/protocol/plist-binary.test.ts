import { describe, expect, test } from '@jest/globals';
import * as plist from 'plist';
import { PlistError } from '../../src/errors.js';
import { type PlistValue, PlistReal, decodePlist, encodePlist } from '../../src/protocol/plist.js';
import { bplist, codeOf } from './plist-support.js';

const bin = (v: PlistValue): Buffer => encodePlist(v, { format: 'binary' });

describe('binary round trip', () => {
  test.each<[string, PlistValue]>([
    ['ok/small ints', [0, 1, 255, 256, 65535, 65536, 4294967295, 4294967296]],
    ['ok/negative ints', [-1, -128, -4294967296, Number.MIN_SAFE_INTEGER]],
    [
      'ok/bigint edges',
      [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n],
    ],
    ['ok/reals', [new PlistReal(64), new PlistReal(-0), new PlistReal(NaN), new PlistReal(1e-300)]],
    ['ok/strings', ['', 'a', 'x'.repeat(14), 'y'.repeat(15), 'é', '🍏 emoji', 'z'.repeat(70000)]],
    ['ok/lone surrogate survives in binary', 'a\ud800b'],
    [
      'ok/dates',
      [new Date(0), new Date(Date.UTC(2001, 0, 1)), new Date(1729500000123), new Date(-1e12)],
    ],
    ['ok/data', [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7)]],
    ['ok/booleans shared', [true, false, true, false]],
    ['ok/nested', { a: [{ b: { c: [] } }], d: {}, e: [[[1]]] }],
    ['ok/NUL is fine in binary', 'a\u0000b'],
  ])('%s', (_name, value) => {
    const bytes = bin(value);
    const back = decodePlist(bytes, { preserveReals: true });
    expect(back).toEqual(value);
    expect(bin(back).equals(bytes)).toBe(true);
  });

  test('ok/many objects use wider references', () => {
    const value = Array.from({ length: 70_000 }, (_, i) => `s${i}`);
    const bytes = bin(value);
    expect(bytes[bytes.length - 32 + 7]).toBe(4);
    expect(decodePlist(bytes)).toEqual(value);
  });

  test('ok/strings are stored once', () => {
    const many = bin(Array.from({ length: 100 }, () => ({ Identifier: 'com.example.same' })));
    expect(many.toString('latin1').split('com.example.same')).toHaveLength(2);
  });

  test('ok/float32 reals and fractional dates from other writers', () => {
    const f32 = bplist([[0x22, 0x3f, 0xc0, 0x00, 0x00]]);
    expect(decodePlist(f32)).toEqual(new PlistReal(1.5));
    expect(decodePlist(f32, { preserveReals: false })).toBe(1.5);
    const date = bplist([[0x33, ...doubleBE(0.25)]]);
    expect(decodePlist(date)).toEqual(new Date(Date.UTC(2001, 0, 1, 0, 0, 0, 250)));
  });

  test('ok/16-byte unsigned integer as written by CoreFoundation', () => {
    const hi = [0, 0, 0, 0, 0, 0, 0, 0];
    const lo = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    expect(decodePlist(bplist([[0x14, ...hi, ...lo]]))).toBe(2n ** 64n - 1n);
  });

  test('ok/agrees with the plist package where both are exact', () => {
    const value = {
      MessageType: 'TokenUpdate',
      n: 42,
      neg: -5,
      r: 1.25,
      t: true,
      s: 'é🍏',
      d: new Date(1729500000000),
      a: [1, 'x', {}],
    };
    expect(plist.parseBinary(bin(value))).toEqual(value);
    expect(decodePlist(Buffer.from(plist.buildBinary(value)), { preserveReals: false })).toEqual(
      value,
    );
  });
});

function doubleBE(n: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return [...b];
}

describe('binary malformed', () => {
  test.each<[string, Buffer, string]>([
    ['fail/too short', Buffer.from('bplist00'), 'ERR_PLIST_BINARY'],
    [
      'fail/other version',
      Buffer.from(
        bplist([[0x09]])
          .toString('latin1')
          .replace('bplist00', 'bplist15'),
        'latin1',
      ),
      'ERR_PLIST_BINARY',
    ],
    ['fail/null singleton', bplist([[0x00]]), 'ERR_PLIST_TYPE'],
    ['fail/fill singleton', bplist([[0x0f]]), 'ERR_PLIST_BINARY'],
    ['fail/UID', bplist([[0x80, 0x01]]), 'ERR_PLIST_TYPE'],
    ['fail/set', bplist([[0xc0]]), 'ERR_PLIST_TYPE'],
    ['fail/unknown type', bplist([[0x70]]), 'ERR_PLIST_BINARY'],
    [
      'fail/int size 32 bytes',
      bplist([[0x15, ...new Array<number>(32).fill(0)]]),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/16-byte int beyond 64 bits',
      bplist([[0x14, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]]),
      'ERR_PLIST_TYPE',
    ],
    ['fail/real of 2 bytes', bplist([[0x21, 0, 0]]), 'ERR_PLIST_BINARY'],
    ['fail/date of 4 bytes', bplist([[0x32, 0, 0, 0, 0]]), 'ERR_PLIST_BINARY'],
    ['fail/date out of range', bplist([[0x33, ...doubleBE(1e300)]]), 'ERR_PLIST_BINARY'],
    ['fail/non-ASCII in ASCII string', bplist([[0x52, 0x41, 0xe9]]), 'ERR_PLIST_ENCODING'],
    ['fail/string runs past the objects', bplist([[0x5e, 0x41]]), 'ERR_PLIST_BINARY'],
    [
      'fail/malformed extended length',
      bplist([[0x4f, 0x23, 0, 0, 0, 0, 0, 0, 0, 0]]),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/dict key not a string',
      bplist([
        [0xd1, 1, 1],
        [0x10, 0x05],
      ]),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/duplicate dict key',
      bplist([[0xd2, 1, 1, 2, 2], [0x51, 0x61], [0x09]]),
      'ERR_PLIST_BINARY',
    ],
  ])('%s', (_name, bytes, code) => {
    expect(codeOf(() => decodePlist(bytes))).toBe(code);
  });

  test('fail/errors are PlistError with status 400', () => {
    let caught: unknown;
    try {
      decodePlist(bplist([[0x00]]));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PlistError);
    expect((caught as PlistError).status).toBe(400);
  });
});

import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { CryptoError } from '../../src/errors.js';
import {
  children,
  contentOf,
  integerValue,
  octetStringValue,
  smallIntegerValue,
  readDer,
  timeValue,
} from '../../src/crypto/der.js';
import {
  integer,
  octetString,
  oid,
  sequence,
  setOf,
  time,
  tlv,
} from '../../src/crypto/der-write.js';
import { decodeOid, encodeOid } from '../../src/crypto/oids.js';
import { parseSignedData, verifyCms } from '../../src/crypto/index.js';
import { cpuTime } from '../support/cpu.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('DER reader', () => {
  test('ok/definite and indefinite forms read the same children', () => {
    const definite = sequence(integer(5), octetString(Buffer.from('abc')));
    const indefinite = Buffer.concat([
      Buffer.from([0x30, 0x80]),
      integer(5),
      octetString(Buffer.from('abc')),
      Buffer.from([0, 0]),
    ]);
    const a = children(readDer(definite)).map((c) => contentOf(c).toString('hex'));
    const b = children(readDer(indefinite)).map((c) => contentOf(c).toString('hex'));
    expect(b).toEqual(a);
    expect(readDer(indefinite).indefinite).toBe(true);
  });

  test('ok/constructed BER octet string is joined', () => {
    const ber = Buffer.concat([
      Buffer.from([0x24, 0x80]),
      octetString(Buffer.from('ab')),
      octetString(Buffer.from('cd')),
      Buffer.from([0, 0]),
    ]);
    expect(octetStringValue(readDer(ber)).toString()).toBe('abcd');
  });

  test.each([
    ['ok/integer 0', 0n],
    ['ok/integer 127', 127n],
    ['ok/integer 128', 128n],
    ['ok/integer 2^64+1', (1n << 64n) + 1n],
  ])('%s round trips', (_n, v) => {
    expect(integerValue(readDer(integer(v)))).toBe(v);
  });

  test('ok/time round trips (UTCTime and GeneralizedTime)', () => {
    for (const d of [
      new Date('2030-05-06T07:08:09Z'),
      new Date('2051-01-01T00:00:00Z'),
      new Date('1999-12-31T23:59:59Z'),
    ]) {
      expect(timeValue(readDer(time(d))).toISOString()).toBe(d.toISOString());
    }
  });

  test.each([
    '00',
    '01',
    '7f',
    '80',
    'ff',
    '0080',
    'ff7f',
    '8000',
    '123456',
    'ffffff',
    '800000',
    '00ffffff',
    'ff000001',
    '01000000',
    '',
  ])('ok/smallIntegerValue of %s agrees with integerValue (or both refuse)', (hex) => {
    const t = readDer(tlv(0x02, Buffer.from(hex, 'hex')));
    const expected = ((): number | string => {
      try {
        const v = integerValue(t);
        return v > 0xffffffn || v < -0xffffffn ? 'ERR_DER' : Number(v);
      } catch (error) {
        return (error as CryptoError).code;
      }
    })();
    expect(codeOf(() => smallIntegerValue(t)) ?? smallIntegerValue(t)).toBe(expected);
  });

  test('ok/property: timeValue reads exactly what the regular-expression reader read', () => {
    // The reader before the byte-level one, kept as the reference for shapes and results.
    const reference = (tag: number, text: string): number | 'ERR' => {
      const m =
        tag === 0x17
          ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
          : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text);
      if (!m) return 'ERR';
      let year = Number(m[1]);
      if (tag === 0x17) year += year < 50 ? 2000 : 1900;
      const [mo = 0, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
      return new Date(Date.UTC(year, mo - 1, d, h, mi, se)).getTime();
    };
    const read = (tag: number, text: string): number | 'ERR' => {
      try {
        return timeValue(readDer(tlv(tag, Buffer.from(text, 'latin1')))).getTime();
      } catch {
        return 'ERR';
      }
    };
    const shapes = ['300506070809Z', '3005060708Z', '20300506070809Z', '20300506070809.123Z'];
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789Z.+-: '.split('')), maxLength: 22 }),
      fc
        .tuple(fc.constantFrom(...shapes), fc.nat(20), fc.constantFrom(...'0Z./a '.split('')))
        .map(([s, at, ch]) => s.slice(0, at) + ch + s.slice(at + 1)),
      fc.constantFrom(...shapes).map((s) => s.slice(0, -2) + 'Z'),
    );
    fc.assert(
      fc.property(text, fc.constantFrom(0x17, 0x18), (t, tag) => {
        expect(read(tag, t)).toBe(reference(tag, t));
      }),
      { numRuns: 3000 },
    );
    for (const s of shapes) expect(read(s.length > 13 ? 0x18 : 0x17, s)).not.toBe('ERR');
  });

  test('ok/property: time() writes what an ISO-based reference writes, for any date', () => {
    const reference = (d: Date): string => {
      const digits = d.toISOString().slice(0, 19).replace(/[-T:]/g, '');
      const y = d.getUTCFullYear();
      return y >= 1950 && y < 2050 ? `17 0d ${digits.slice(2)}Z` : `18 0f ${digits}Z`;
    };
    const written = (d: Date): string => {
      const b = time(d);
      return `${b
        .subarray(0, 2)
        .toString('hex')
        .replace(/(..)(..)/, '$1 $2')} ${b.subarray(2).toString('latin1')}`;
    };
    const edges = [
      '1949-12-31T23:59:59Z',
      '1950-01-01T00:00:00Z',
      '2049-12-31T23:59:59Z',
      '2050-01-01T00:00:00Z',
      '0999-01-02T03:04:05Z',
      '9999-12-31T23:59:59Z',
    ];
    for (const e of edges) expect(written(new Date(e))).toBe(reference(new Date(e)));
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0001-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (d) => written(d) === reference(d),
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 500) },
    );
    expect(() => time(new Date(Number.NaN))).toThrow(RangeError);
  });

  test.each([0, 1, 127, 128, 255, 256, 65_535, 65_536, 70_000])(
    'ok/tlv of %i content bytes uses the minimal length form and reads back',
    (n) => {
      const content = Buffer.alloc(n, 0x5a);
      const b = tlv(0x04, content.subarray(0, n >> 1), content.subarray(n >> 1));
      const lengthBytes = n < 0x80 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : 3;
      expect(b.length).toBe(2 + lengthBytes + n);
      expect(b[1]).toBe(n < 0x80 ? n : 0x80 | lengthBytes);
      expect(contentOf(readDer(b)).equals(content)).toBe(true);
    },
  );

  test('ok/long lengths', () => {
    const big = Buffer.alloc(70_000, 7);
    expect(contentOf(readDer(octetString(big))).length).toBe(70_000);
  });

  test('ok/setOf sorts', () => {
    const s = setOf(integer(3), integer(1), integer(2));
    expect(children(readDer(s)).map((c) => integerValue(c))).toEqual([1n, 2n, 3n]);
  });

  const deepDefinite = (() => {
    let inner: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 1000; i++) inner = sequence(inner);
    return inner;
  })();
  const deepIndefinite = Buffer.concat([
    Buffer.from('3080'.repeat(1000), 'hex'),
    Buffer.from('0000'.repeat(1000), 'hex'),
  ]);

  test.each([
    ['fail/empty', Buffer.alloc(0)],
    ['fail/truncated header', Buffer.from([0x30])],
    ['fail/length past end', Buffer.from([0x30, 0x05, 0x02, 0x01])],
    [
      'fail/huge length field',
      Buffer.from([0x04, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ],
    ['fail/4-byte length past end', Buffer.from([0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00])],
    ['fail/indefinite primitive', Buffer.from([0x04, 0x80, 0x00, 0x00])],
    ['fail/indefinite without end', Buffer.from([0x30, 0x80, 0x05, 0x00])],
    ['fail/trailing bytes', Buffer.from([0x05, 0x00, 0x00])],
    ['fail/1000-deep indefinite nesting', deepIndefinite],
  ])('%s throws ERR_DER', (_n, bytes) => {
    expect(codeOf(() => readDer(bytes))).toBe('ERR_DER');
  });

  // Bounds are CPU time (process.cpuUsage), never wall-clock time: a busy machine cannot fail them.
  test('fail/1000-deep definite nesting is refused with little work when walked', () => {
    const { ms, result: code } = cpuTime(() => {
      let node = readDer(deepDefinite);
      return codeOf(() => {
        for (;;) node = children(node)[0]!;
      });
    });
    expect(code).toBe('ERR_DER');
    expect(ms).toBeLessThan(200);
  });

  test('fail/hostile CMS bodies give typed errors with little work', () => {
    const { ms, result: codes } = cpuTime(() =>
      [deepIndefinite, deepDefinite, Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])].map(
        (bytes) => codeOf(() => verifyCms(bytes, { content: Buffer.alloc(0) })),
      ),
    );
    for (const code of codes) expect(code).toMatch(/^ERR_(DER|CMS_FORMAT)$/);
    expect(ms).toBeLessThan(200);
  });

  test('ok/property: random bytes only ever give CryptoError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const code = codeOf(() => parseSignedData(bytes));
        return code === 'ERR_DER' || code === 'ERR_CMS_FORMAT';
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 500) },
    );
  });
});

describe('OID codec', () => {
  test.each([
    '1.2.840.113549.1.7.2',
    '2.5.29.14',
    '0.9.2342.19200300.100.1.1',
    '2.999.1',
    '1.3.6.1.4.1.311.21.7',
  ])('ok/%s round trips', (dotted) => {
    const enc = encodeOid(dotted);
    expect(decodeOid(contentOf(readDer(enc)))).toBe(dotted);
    expect(oid(dotted).equals(enc)).toBe(true);
  });
  test('fail/truncated OID content', () => {
    expect(codeOf(() => decodeOid(Buffer.from([0x2a, 0x86])))).toBe('ERR_DER');
  });
  test('fail/bad dotted text is API misuse', () => {
    expect(() => encodeOid('1.two')).toThrow(TypeError);
  });
  test('ok/tlv helper encodes tag and length', () => {
    expect(tlv(0x04, Buffer.from('hi')).toString('hex')).toBe('04026869');
  });
});

/**
 * The typed JSON form of property lists: every form read and written, refusals with the path at
 * fault, and (property) a round trip plist value → JSON text → plist value that loses nothing.
 */
import { describe, expect } from '@jest/globals';
import { fc, test } from '@fast-check/jest';
import { PlistJsonError } from '../../src/errors.js';
import {
  PlistReal,
  decodePlist,
  encodePlist,
  fromTypedJson,
  toTypedJson,
  type PlistValue,
} from '../../src/protocol/plist.js';

const numRuns = Number(process.env.FC_NUM_RUNS ?? '150');

/** fromTypedJson of JSON text, as a server reads a body. */
const read = (text: string): PlistValue => fromTypedJson(JSON.parse(text));

/** The PlistJsonError path of reading `text`, or what happened instead. */
function refusal(text: string): string {
  try {
    read(text);
  } catch (error) {
    if (error instanceof PlistJsonError) {
      expect(error.code).toBe('ERR_PLIST_JSON');
      expect(error.status).toBe(400);
      return `path:${error.path}`;
    }
    return `not a PlistJsonError: ${String(error)}`;
  }
  return 'accepted';
}

describe('fromTypedJson', () => {
  test.each<[string, string, PlistValue]>([
    [
      'ok/plain JSON is what it says',
      '{"s":"x","t":true,"a":[1,"b"]}',
      { s: 'x', t: true, a: [1, 'b'] },
    ],
    ['ok/a whole number is an integer', '{"n":64}', { n: 64 }],
    ['ok/a fractional number is a real', '{"r":1.5}', { r: new PlistReal(1.5) }],
    ['ok/$data', '{"d":{"$data":"AQID"}}', { d: new Uint8Array([1, 2, 3]) }],
    ['ok/$data empty', '{"$data":""}', new Uint8Array(0)],
    ['ok/$data wrapped at 76 columns', '{"$data":"AQID\\nBA=="}', new Uint8Array([1, 2, 3, 4])],
    ['ok/$date UTC', '{"$date":"2024-05-01T10:00:00Z"}', new Date('2024-05-01T10:00:00Z')],
    [
      'ok/$date with milliseconds',
      '{"$date":"2024-05-01T10:00:00.25Z"}',
      new Date('2024-05-01T10:00:00.250Z'),
    ],
    [
      'ok/$date with an offset',
      '{"$date":"2024-05-01T12:30:00+02:30"}',
      new Date('2024-05-01T10:00:00Z'),
    ],
    [
      'ok/$date extended year',
      '{"$date":"+010000-01-01T00:00:00Z"}',
      new Date('+010000-01-01T00:00:00Z'),
    ],
    ['ok/$real whole', '{"$real":64}', new PlistReal(64)],
    ['ok/$real negative zero as text', '{"$real":"-0"}', new PlistReal(-0)],
    ['ok/$real nan', '{"$real":"nan"}', new PlistReal(NaN)],
    ['ok/$real -infinity', '{"$real":"-infinity"}', new PlistReal(-Infinity)],
    ['ok/$integer beyond 2^53', '{"$integer":"12345678901234567890"}', 12345678901234567890n],
    ['ok/$integer unsigned 64 max', '{"$integer":"18446744073709551615"}', 18446744073709551615n],
    ['ok/$integer signed 64 min', '{"$integer":"-9223372036854775808"}', -9223372036854775808n],
    ['ok/$integer small is a number', '{"$integer":"42"}', 42],
    ['ok/$integer as a safe number', '{"$integer":42}', 42],
    [
      'ok/$dict makes $ keys literal',
      '{"$dict":{"$data":{"$data":"AQ=="},"x":1}}',
      { $data: new Uint8Array([1]), x: 1 },
    ],
    ['ok/$dict empty', '{"$dict":{}}', {}],
    [
      'ok/__proto__ stays an own key',
      '{"__proto__":{"a":1}}',
      JSON.parse('{"__proto__":{"a":1}}') as never,
    ],
  ])('%s', (_name, text, expected) => {
    expect(read(text)).toEqual(expected);
  });

  test('ok/__proto__ is a key of the dictionary, not its prototype', () => {
    const v = read('{"__proto__":{"polluted":true}}') as Record<string, PlistValue>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test.each<[string, string, string]>([
    ['fail/null', '{"a":null}', 'path:a'],
    ['fail/null at the root', 'null', 'path:'],
    ['fail/a whole number beyond 2^53', '{"n":9007199254740993}', 'path:n'],
    ['fail/a number beyond the double range', '{"n":1e400}', 'path:n'],
    ['fail/unknown $ form', '{"Settings":[{"x":{"$foo":1}}]}', 'path:Settings[0].x'],
    ['fail/a $ key beside others', '{"d":{"$data":"AQ==","x":1}}', 'path:d'],
    ['fail/a $ key in an ordinary dict', '{"a":1,"$b":2}', 'path:'],
    ['fail/$data not base64', '{"Payload":{"$data":"!!!"}}', 'path:Payload'],
    ['fail/$data unpadded', '{"Payload":{"$data":"AQI"}}', 'path:Payload'],
    ['fail/$data a number', '{"Payload":{"$data":5}}', 'path:Payload'],
    ['fail/$date without a zone', '{"$date":"2024-05-01T10:00:00"}', 'path:'],
    ['fail/$date day 31 of April', '{"$date":"2024-04-31T10:00:00Z"}', 'path:'],
    ['fail/$date hour 24', '{"$date":"2024-04-01T24:00:00Z"}', 'path:'],
    ['fail/$date more than milliseconds', '{"$date":"2024-04-01T10:00:00.1234Z"}', 'path:'],
    ['fail/$real text', '{"$real":"lots"}', 'path:'],
    ['fail/$real an array', '{"$real":[1]}', 'path:'],
    ['fail/$integer fractional', '{"$integer":"1.5"}', 'path:'],
    ['fail/$integer beyond 64 bits', '{"$integer":"18446744073709551616"}', 'path:'],
    ['fail/$integer of 21 digits', '{"$integer":"123456789012345678901"}', 'path:'],
    ['fail/$integer an unsafe number', '{"$integer":9007199254740993}', 'path:'],
    ['fail/$dict an array', '{"$dict":[]}', 'path:'],
    ['fail/deeper than 64', '['.repeat(65) + ']'.repeat(65), `path:${'[0]'.repeat(64)}`],
  ])('%s', (_name, text, expected) => {
    expect(refusal(text)).toBe(expected);
  });

  test('ok/64 levels are accepted and 20,000 refused without a stack overflow', () => {
    expect(() => read('['.repeat(64) + ']'.repeat(64))).not.toThrow();
    expect(refusal('['.repeat(20_000) + ']'.repeat(20_000))).toMatch(/^path:/);
    expect(() => fromTypedJson([[[]]], { maxDepth: 2 })).toThrow(PlistJsonError);
    expect(() => fromTypedJson([], { maxDepth: 0 })).toThrow(TypeError);
  });
});

describe('toTypedJson', () => {
  test.each<[string, PlistValue, unknown]>([
    [
      'ok/integers and fractional reals stay plain',
      { n: 64, r: new PlistReal(1.5), f: 0.25 },
      { n: 64, r: 1.5, f: 0.25 },
    ],
    ['ok/a whole real is $real', new PlistReal(64), { $real: 64 }],
    [
      'ok/-0, nan and infinities are $real text',
      [new PlistReal(-0), new PlistReal(NaN), new PlistReal(Infinity)],
      [{ $real: '-0' }, { $real: 'nan' }, { $real: '+infinity' }],
    ],
    ['ok/a bigint is $integer', 2n ** 63n, { $integer: '9223372036854775808' }],
    ['ok/a safe bigint is a number', 5n, 5],
    [
      'ok/a date without milliseconds',
      new Date('2024-05-01T10:00:00Z'),
      { $date: '2024-05-01T10:00:00Z' },
    ],
    [
      'ok/a date with milliseconds',
      new Date('2024-05-01T10:00:00.250Z'),
      { $date: '2024-05-01T10:00:00.250Z' },
    ],
    ['ok/data', new Uint8Array([1, 2, 3]), { $data: 'AQID' }],
    [
      'ok/a dict with a $ key is wrapped',
      { $x: 1, y: { $z: true } },
      { $dict: { $x: 1, y: { $dict: { $z: true } } } },
    ],
  ])('%s', (_name, value, expected) => {
    expect(toTypedJson(value)).toEqual(expected);
  });

  test('ok/a decoded plist with every kind reads back equal', () => {
    const xml = encodePlist({
      When: new Date('2024-05-01T10:00:00Z'),
      Ratio: new PlistReal(64),
      Half: new PlistReal(0.5),
      Big: 2n ** 60n,
      Blob: new Uint8Array([0, 255]),
      $odd: [1, 'x'],
    });
    const decoded = decodePlist(xml);
    const back = fromTypedJson(JSON.parse(JSON.stringify(toTypedJson(decoded))));
    expect(back).toEqual(decoded);
    expect(encodePlist(back).equals(xml)).toBe(true);
  });
});

/** Plist values as the exact decoder gives them (every real a PlistReal, bigint beyond 2^53). */
const { value } = fc.letrec<{
  value: PlistValue;
  array: PlistValue[];
  dict: Record<string, PlistValue>;
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.maxSafeInteger(),
      fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })
        .filter((n) => n < -(2n ** 53n) + 1n || n > 2n ** 53n - 1n),
      fc.double().map((d) => new PlistReal(d)),
      fc.boolean(),
      fc.date({ noInvalidDate: true }),
      fc.uint8Array({ maxLength: 24 }),
    ),
    tie('array'),
    tie('dict'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  dict: fc.dictionary(
    fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('$data', '$', '$dict', '__proto__')),
    tie('value'),
    { maxKeys: 5 },
  ),
}));

describe('round trip (property)', () => {
  test.prop([value], { numRuns })('ok/fromTypedJson(JSON text of toTypedJson(x)) equals x', (x) => {
    const text = JSON.stringify(toTypedJson(x));
    expect(fromTypedJson(JSON.parse(text))).toEqual(x);
  });
});

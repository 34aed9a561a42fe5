/**
 * Property tests of the plist codec (fast-check): round trips, byte stability, only typed
 * errors on random and mutated input, and agreement with the `plist` package.
 * Raise the run count with FC_NUM_RUNS (e.g. FC_NUM_RUNS=20000 for a long run).
 */
import { describe, expect } from '@jest/globals';
import { fc, test } from '@fast-check/jest';
import { readFileSync, readdirSync } from 'node:fs';
import * as plist from 'plist';
import { PlistError } from '../../src/errors.js';
import { type PlistValue, PlistReal, decodePlist, encodePlist } from '../../src/protocol/plist.js';
import { cpuTime } from '../support/cpu.js';

const numRuns = Number(process.env.FC_NUM_RUNS ?? '150');
/** CPU milliseconds one decode may take (process.cpuUsage, not wall-clock time): a few at most. */
const PER_INPUT_CPU_MS = 500;
const keep = { preserveReals: true };
/** The `plist` package decodes reals as plain numbers: compare with the opt-out. */
const plain = { preserveReals: false };

// eslint-disable-next-line no-control-regex -- these control characters are what XML 1.0 forbids
const NOT_XML10 = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/u;
/** Strings XML 1.0 can carry as characters (what the `plist` package's parser accepts). */
const xml10 = fc.string({ unit: 'binary', maxLength: 16 }).filter((s) => !NOT_XML10.test(s));

interface Shape {
  string: fc.Arbitrary<string>;
  date: fc.Arbitrary<Date>;
  exact: boolean;
}

const wholeSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
const xmlDates = fc
  .date({
    min: new Date('0001-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59Z'),
    noInvalidDate: true,
  })
  .map(wholeSeconds);

/** Generated plist values; `exact` adds the kinds the `plist` package cannot keep exactly. */
function values({ string, date, exact }: Shape): fc.Arbitrary<PlistValue> {
  const scalars: fc.Arbitrary<PlistValue>[] = [
    string,
    fc.maxSafeInteger(),
    fc.boolean(),
    date,
    fc.uint8Array({ maxLength: 48 }),
  ];
  // A plain number that is not whole becomes a <real>, but preserveReals decodes every real as
  // a PlistReal (and a number -0 is written as integer 0), so exact mode generates PlistReal.
  if (!exact) {
    scalars.push(
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    );
  }
  if (exact) {
    scalars.push(
      fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })
        .map((n) => (n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n ? Number(n) : n)),
      fc.double().map((d) => new PlistReal(d)),
    );
  }
  const { value } = fc.letrec<{
    value: PlistValue;
    array: PlistValue[];
    dict: Record<string, PlistValue>;
  }>((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.oneof(...scalars), tie('array'), tie('dict')),
    array: fc.array(tie('value'), { maxLength: 6 }),
    dict: fc.dictionary(exact ? string : string.filter((k) => k !== '__proto__'), tie('value'), {
      maxKeys: 6,
      noNullPrototype: !exact,
    }),
  }));
  return value;
}

/** XML carries every string except those holding U+0000 (lone surrogates are not generated). */
const xmlValues = values({
  string: fc.string({ unit: 'binary', maxLength: 16 }).filter((s) => !s.includes('\u0000')),
  date: xmlDates,
  exact: true,
});
const binaryValues = values({
  string: fc.string({ unit: 'binary', maxLength: 16 }),
  date: fc.date({ noInvalidDate: true }),
  exact: true,
});

/** Edge values and anything fast-check once found, kept as regression cases. */
const REGRESSIONS: [string, PlistValue, readonly ('xml' | 'binary')[]][] = [
  ['empty key', { '': [] }, ['xml', 'binary']],
  ['negative zero real', { r: new PlistReal(-0) }, ['xml', 'binary']],
  ['earliest Date', new Date(-8.64e15), ['binary']],
  ['latest Date', new Date(8.64e15), ['binary']],
  [
    'Date where secs*1000 is off by one ulp',
    new Date(Date.parse('-137396-04-29T12:32:12.697Z')),
    ['binary'],
  ],
  [
    'smallest subnormal and safe edge',
    [new PlistReal(5e-324), -9007199254740991],
    ['xml', 'binary'],
  ],
];

describe('round trip', () => {
  test.prop([xmlValues], { numRuns })(
    'ok/XML decode(encode(x)) equals x and re-encodes byte-identically',
    (x) => {
      const bytes = encodePlist(x);
      const back = decodePlist(bytes, keep);
      expect(back).toEqual(x);
      expect(encodePlist(back).equals(bytes)).toBe(true);
    },
  );

  test.prop([binaryValues], { numRuns })(
    'ok/binary decode(encode(x)) equals x and re-encodes byte-identically',
    (x) => {
      const bytes = encodePlist(x, { format: 'binary' });
      const back = decodePlist(bytes, keep);
      expect(back).toEqual(x);
      expect(encodePlist(back, { format: 'binary' }).equals(bytes)).toBe(true);
    },
  );

  test.each(REGRESSIONS)('ok/regression: %s', (_name, x, formats) => {
    for (const format of formats) {
      const bytes = encodePlist(x, { format });
      expect(decodePlist(bytes, keep)).toEqual(x);
      expect(encodePlist(decodePlist(bytes, keep), { format }).equals(bytes)).toBe(true);
    }
  });
});

/** Decodes `input`; anything thrown must be a PlistError, and each input costs little CPU. */
function onlyTypedErrors(input: Uint8Array | string): void {
  const { ms } = cpuTime(() => {
    try {
      decodePlist(input);
    } catch (err) {
      if (!(err instanceof PlistError)) throw err;
    }
  });
  expect(ms).toBeLessThan(PER_INPUT_CPU_MS);
}

const fixtureDir = new URL('../../fixtures/messages/', import.meta.url);
const fixtures = readdirSync(fixtureDir)
  .filter((f) => /\.(b?plist)$/.test(f) && !f.startsWith('report-installedapplicationlist'))
  .map((f) => readFileSync(new URL(f, fixtureDir)));

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
);

function mutate(
  source: Buffer,
  steps: { kind: 'flip' | 'cut' | 'insert'; at: number; byte: number }[],
): Buffer {
  let b = Buffer.from(source);
  for (const { kind, at, byte } of steps) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (kind === 'flip') b[i] = byte;
    else if (kind === 'cut') b = b.subarray(0, i);
    else b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
  }
  return b;
}

describe('hostile input', () => {
  test.prop([fc.uint8Array({ maxLength: 512 })], { numRuns })(
    'fail/random bytes give only PlistError',
    (bytes) => {
      onlyTypedErrors(bytes);
      onlyTypedErrors(Buffer.concat([Buffer.from('bplist00'), bytes]));
      onlyTypedErrors(Buffer.concat([Buffer.from('<plist>'), bytes]));
    },
  );

  test.prop([fc.string({ unit: 'binary', maxLength: 256 })], { numRuns })(
    'fail/random text gives only PlistError',
    (text) => {
      onlyTypedErrors(text);
      onlyTypedErrors(`<?xml version="1.0"?><plist>${text}</plist>`);
    },
  );

  test.prop(
    [fc.nat({ max: fixtures.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 8 })],
    { numRuns: numRuns * 2 },
  )('fail/mutated fixtures give only PlistError', (index, steps) => {
    onlyTypedErrors(mutate(fixtures[index]!, steps));
  });
});

/** The kinds both codecs keep exactly: no bigint, no whole reals, XML 1.0 characters. */
const common = values({ string: xml10, date: xmlDates, exact: false });

describe('agreement with the plist package', () => {
  test.prop([common], { numRuns })('ok/our XML decodes the same in both parsers', (x) => {
    const bytes = encodePlist(x);
    expect(plist.parse(bytes.toString('utf8'))).toEqual(decodePlist(bytes, plain));
  });

  test.prop([common], { numRuns })('ok/the package XML decodes the same in both parsers', (x) => {
    const text = plist.build(x as Parameters<typeof plist.build>[0]);
    expect(decodePlist(text, plain)).toEqual(plist.parse(text));
  });

  test.prop([common], { numRuns })('ok/binary agrees in both directions', (x) => {
    const ours = encodePlist(x, { format: 'binary' });
    expect(plist.parseBinary(ours)).toEqual(decodePlist(ours, plain));
    const theirs = Buffer.from(plist.buildBinary(x as Parameters<typeof plist.buildBinary>[0]));
    expect(decodePlist(theirs, plain)).toEqual(plist.parseBinary(theirs));
  });
});

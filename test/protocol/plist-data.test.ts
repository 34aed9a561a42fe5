/**
 * `<data>` decoding: Node's base64 decoder reads the text with its whitespace, and the quartet
 * count is derived rather than counted, so these tests aim at the cases that derivation must
 * tell apart (a dangling symbol after whole quartets, uniform tails, padding with whitespace).
 */
import { describe, expect } from '@jest/globals';
import { fc, test } from '@fast-check/jest';
import { PlistError } from '../../src/errors.js';
import { decodePlist } from '../../src/protocol/plist.js';

const numRuns = Number(process.env.FC_NUM_RUNS ?? '300');

function data(text: string): unknown {
  return decodePlist(`<plist version="1.0"><data>${text}</data></plist>`);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlistError);
    return (err as PlistError).code;
  }
  return undefined;
}

/** Inserts XML whitespace before the characters picked by `spots`. */
function spaced(b64: string, spots: readonly number[]): string {
  const ws = ['\n\t', ' ', '\r\n', '\t', '\n'];
  let out = '';
  for (let i = 0; i < b64.length; i++) {
    const spot = spots[i % Math.max(spots.length, 1)] ?? 0;
    out += (spot % 3 === 0 ? (ws[spot % ws.length] ?? '') : '') + b64.charAt(i);
  }
  return `${out}\n`;
}

describe('<data> base64', () => {
  test.each([
    ['ok/uniform tail, whole quartets', 'AAAA AAAA', '000000000000'],
    ['ok/uniform tail wrapped', '\n\tAAAAAAAA\n\tAAAA\n', '000000000000000000'],
    ['ok/padding split by whitespace', 'AQ=\n=', '01'],
    ['ok/one pad after spaced quartet', 'AQ I=', '0102'],
    ['ok/whitespace only', ' \n\t\r\n ', ''],
    ['ok/slash and plus', '+/+/', 'fbffbf'],
  ])('%s', (_name, text, hex) => {
    expect(Buffer.from(data(text) as Uint8Array).toString('hex')).toBe(hex);
  });

  test.each([
    ['fail/dangling uniform symbol', 'AAAA A'],
    ['fail/dangling uniform symbol after wrapped lines', '\n\tAAAAAAAA\n\tAAAAA\n'],
    ['fail/dangling symbol after quartets', 'AQID\nB'],
    ['fail/lone symbol', 'A'],
    ['fail/lone padding', '='],
    ['fail/padding without symbols', ' == '],
    ['fail/two pads on three symbols', 'AQI=='],
    ['fail/one pad on two symbols', 'AQ='],
    ['fail/one pad after a whole quartet', 'AQID='],
    ['fail/url-safe alphabet', 'AQ-_'],
    ['fail/form feed is not XML whitespace', 'AQ\fID'],
    ['fail/non-breaking space', 'AQ\u00a0ID'],
    ['fail/symbol after padding', 'AQ==\nA'],
  ])('%s', (_name, text) => {
    expect(codeOf(() => data(text))).toBe('ERR_PLIST_SYNTAX');
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(20), { maxLength: 16 })], {
    numRuns,
  })('ok/any bytes, any whitespace layout, decode to the same bytes', (bytes, spots) => {
    const out = data(spaced(Buffer.from(bytes).toString('base64'), spots)) as Uint8Array;
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    expect(out.byteLength).toBe(out.buffer.byteLength);
  });

  test.prop(
    [
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.array(fc.nat(20), { maxLength: 16 }),
      fc.constantFrom('A', 'Q', '/', '+', 'z'),
    ],
    { numRuns },
  )('fail/one extra symbol after any encoding is refused', (bytes, spots, extra) => {
    const b64 = Buffer.from(bytes).toString('base64').replace(/=+$/, '');
    expect(codeOf(() => data(spaced(b64 + extra, spots)))).toBe(
      (b64.length + 1) % 4 === 0 ? undefined : 'ERR_PLIST_SYNTAX',
    );
  });
});

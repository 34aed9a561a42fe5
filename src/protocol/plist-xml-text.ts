/**
 * Scalar conversions of the XML plist decoder: entities, integers, reals, dates and base64.
 * Every function takes the raw element text and throws a `PlistError` on malformed text.
 */
import { PlistReal, fail, fromBigInt } from './plist-types.js';

/** Replaces the five predefined entities and numeric character references; nothing else. */
export function decodeEntities(text: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const amp = text.indexOf('&', from);
    if (amp < 0) return from === 0 ? text : out + text.slice(from);
    const semi = text.indexOf(';', amp);
    if (semi < 0 || semi - amp > 10) fail('ERR_PLIST_SYNTAX', 'unterminated character reference');
    out += text.slice(from, amp) + entity(text.slice(amp + 1, semi));
    from = semi + 1;
  }
}

function entity(name: string): string {
  switch (name) {
    case 'amp':
      return '&';
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'quot':
      return '"';
    case 'apos':
      return "'";
    default:
      return charRef(name);
  }
}

const DEC_REF = /^#[0-9]{1,7}$/;
const HEX_REF = /^#x[0-9A-Fa-f]{1,6}$/;

function charRef(name: string): string {
  let cp = -1;
  if (DEC_REF.test(name)) cp = Number(name.slice(1));
  else if (HEX_REF.test(name)) cp = parseInt(name.slice(2), 16);
  else fail('ERR_PLIST_SYNTAX', 'only the predefined XML entities are allowed', name);
  if (cp < 1 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    fail('ERR_PLIST_SYNTAX', 'character reference to an invalid code point', name);
  }
  return String.fromCodePoint(cp);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Strips XML whitespace from both ends, without allocating when there is none. */
export function trimXml(text: string): string {
  let a = 0;
  let b = text.length;
  while (a < b && isSpace(text.charCodeAt(a))) a++;
  while (b > a && isSpace(text.charCodeAt(b - 1))) b--;
  return a === 0 && b === text.length ? text : text.slice(a, b);
}

const INT_TEXT = /^[+-]?(?:[0-9]+|0[xX][0-9A-Fa-f]+)$/;

/** Parses `<integer>` text (decimal or `0x` hex, optional sign) into a number or a bigint. */
export function parseInteger(raw: string): number | bigint {
  const text = trimXml(raw);
  const len = text.length;
  if (len > 0 && len < 16) {
    let i = text.charCodeAt(0) === 0x2d ? 1 : 0;
    let n = 0;
    for (; i < len; i++) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === len && len > (text.charCodeAt(0) === 0x2d ? 1 : 0)) {
      return text.charCodeAt(0) === 0x2d && n !== 0 ? -n : n;
    }
  }
  if (len > 100 || !INT_TEXT.test(text)) fail('ERR_PLIST_SYNTAX', 'malformed <integer>', raw);
  const negative = text.startsWith('-');
  const digits = negative || text.startsWith('+') ? text.slice(1) : text;
  const n = BigInt(digits);
  return fromBigInt(negative ? -n : n);
}

const REAL_TEXT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const SPECIAL_REALS: Readonly<Record<string, number>> = {
  nan: NaN,
  '+nan': NaN,
  '-nan': NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

/** Parses `<real>` text: decimal notation or `nan` / `[+-]inf[inity]`. */
export function parseReal(raw: string, preserve: boolean): number | PlistReal {
  const text = trimXml(raw);
  let n: number | undefined;
  if (text.length <= 400 && REAL_TEXT.test(text)) n = Number(text);
  else if (Object.hasOwn(SPECIAL_REALS, text.toLowerCase())) n = SPECIAL_REALS[text.toLowerCase()];
  if (n === undefined) fail('ERR_PLIST_SYNTAX', 'malformed <real>', raw);
  return preserve ? new PlistReal(n) : n;
}

const DATE_TEXT =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?Z$/;

/** Parses `<date>` text in ISO 8601 UTC (`2024-05-01T10:00:00Z`, fractional seconds allowed). */
export function parseDate(raw: string): Date {
  const m = DATE_TEXT.exec(trimXml(raw));
  if (m === null) fail('ERR_PLIST_SYNTAX', 'malformed <date>', raw);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  const frac = m[7] === undefined ? 0 : Math.round(Number(`0${m[7]}`) * 1000);
  date.setUTCHours(h, mi, s, frac);
  const valid = date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60;
  if (!valid || s > 59) fail('ERR_PLIST_SYNTAX', 'invalid <date>', raw);
  return date;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const XML_SPACE = /[\t\n\r ]+/g;

/** Decodes `<data>` base64 (XML whitespace allowed anywhere, otherwise strict) into a fresh Uint8Array. */
export function parseData(raw: string): Uint8Array {
  // Apple wraps base64 in lines; one replace pass is cheaper than a whitespace-aware pattern.
  const text =
    raw.includes('\n') || raw.includes(' ') || raw.includes('\t') || raw.includes('\r')
      ? raw.replace(XML_SPACE, '')
      : raw;
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    fail('ERR_PLIST_SYNTAX', 'malformed base64 in <data>', raw);
  }
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  Buffer.from(out.buffer, out.byteOffset, out.length).write(text, 'base64');
  return out;
}

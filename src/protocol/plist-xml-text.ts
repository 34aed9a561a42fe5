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

/** Base64 alphabet and XML whitespace anywhere, then at most two `=` (whitespace between). */
const BASE64_SPACED = /^[A-Za-z0-9+/\t\n\r ]*(?:=[\t\n\r ]*){0,2}$/;
const XML_SPACE = /[\t\n\r ]+/g;

function malformed(raw: string): never {
  return fail('ERR_PLIST_SYNTAX', 'malformed base64 in <data>', raw);
}

/**
 * Decodes `<data>` base64 (XML whitespace allowed anywhere, otherwise strict) into a fresh
 * Uint8Array. Node's decoder skips whitespace itself, so the text is never copied: the
 * pattern checks the alphabet, and the quartet count follows from the decoded length, the
 * padding and the last significant characters (see {@link quartetsComplete}).
 */
export function parseData(raw: string): Uint8Array {
  if (!BASE64_SPACED.test(raw)) malformed(raw);
  const decoded = Buffer.from(raw, 'base64');
  const tail = significantTail(raw);
  if (!quartetsComplete(raw, decoded, tail)) malformed(raw);
  const out = new Uint8Array(decoded.length);
  out.set(decoded);
  return out;
}

/** The last (up to) six non-whitespace characters of `raw`, in order. */
function significantTail(raw: string): string {
  let tail = '';
  for (let i = raw.length - 1; i >= 0 && tail.length < 6; i--) {
    const c = raw.charCodeAt(i);
    if (!isSpace(c)) tail = raw.charAt(i) + tail;
  }
  return tail;
}

/**
 * Whether the significant characters of `raw` (alphabet already checked) form whole quartets.
 * With `p` padding characters the decoded length must be ≡ 0, 2, 1 (mod 3) for p = 0, 1, 2;
 * that leaves one ambiguity, a dangling symbol after whole quartets (which Node ignores). Then
 * the last four symbols differ from the re-encoded last three bytes unless the last five
 * symbols are all equal, the one case counted exactly.
 */
function quartetsComplete(raw: string, decoded: Buffer, tail: string): boolean {
  const len = decoded.length;
  if (len === 0) return tail.length === 0;
  const pad = tail.endsWith('==') ? 2 : tail.endsWith('=') ? 1 : 0;
  if (len % 3 !== (3 - pad) % 3) return false;
  if (pad !== 0) return true;
  if (tail.slice(-4) !== decoded.toString('base64', len - 3, len)) return false;
  const c = tail.charAt(tail.length - 1);
  const uniform = tail.length >= 5 && tail.slice(-5) === c.repeat(5);
  return !uniform || raw.replace(XML_SPACE, '').length % 4 === 0;
}

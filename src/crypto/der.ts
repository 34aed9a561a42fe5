/**
 * A minimal DER/BER reader and DER writer for the hot paths (CMS sign and verify).
 * No object mapping: the reader returns offsets into the input, so nothing is copied
 * until a caller asks for bytes. Hostile input (truncation, lengths past the end,
 * deep nesting, huge length fields) throws {@link CryptoError} `ERR_DER`.
 */
import { CryptoError } from '../errors.js';

/** One tag-length-value element, as offsets into `buf`. */
export interface Tlv {
  /** The whole input the element was read from. */
  readonly buf: Uint8Array;
  /** First identifier octet: class (bits 8-7), constructed (bit 6), low tag number (bits 5-1). */
  readonly tag: number;
  /** Tag number (also for multi-octet tags). */
  readonly tagNumber: number;
  /** Whether the constructed bit is set. */
  readonly constructed: boolean;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet (before the end-of-contents octets if indefinite). */
  readonly contentEnd: number;
  /** Offset just past the element (including end-of-contents octets). */
  readonly end: number;
  /** Whether the element used the BER indefinite-length form. */
  readonly indefinite: boolean;
  /** Nesting depth (0 for a top-level element). */
  readonly depth: number;
}

/** Limits applied while reading. */
export interface DerLimits {
  /** Maximum nesting depth; deeper input throws `ERR_DER`. Default 48. */
  maxDepth?: number;
}

/** Universal tags used by Orchard. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const DEFAULT_MAX_DEPTH = 48;

function derError(message: string, offset: number): CryptoError {
  return new CryptoError('ERR_DER', `${message} at offset ${offset}`, { detail: { offset } });
}

/**
 * Reads one element starting at `offset`, which must end at or before `limit`.
 * Indefinite lengths are resolved by walking the children up to the end-of-contents octets.
 * Throws `ERR_DER` on malformed input.
 */
export function readTlv(
  buf: Uint8Array,
  offset = 0,
  limit = buf.length,
  depth = 0,
  limits: DerLimits = {},
): Tlv {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (depth > maxDepth) throw derError('nesting too deep', offset);
  if (offset >= limit) throw derError('truncated element', offset);
  let pos = offset;
  const tag = buf[pos++] as number;
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let n = 0; ; n++) {
      if (pos >= limit || n >= 4) throw derError('bad tag number', pos);
      const b = buf[pos++] as number;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  const constructed = (tag & 0x20) !== 0;
  if (pos >= limit) throw derError('truncated length', pos);
  const first = buf[pos++] as number;
  if (first === 0x80) {
    if (!constructed) throw derError('indefinite length on a primitive element', offset);
    return readIndefinite(buf, offset, pos, limit, depth, limits, tag, tagNumber);
  }
  let length = first;
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw derError('length field too large', pos);
    if (pos + count > limit) throw derError('truncated length', pos);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[pos++] as number);
  } else if (first === 0xff) {
    throw derError('reserved length octet', pos);
  }
  const contentEnd = pos + length;
  if (contentEnd > limit) throw derError('length past the end', offset);
  return {
    buf,
    tag,
    tagNumber,
    constructed,
    start: offset,
    contentStart: pos,
    contentEnd,
    end: contentEnd,
    indefinite: false,
    depth,
  };
}

function readIndefinite(
  buf: Uint8Array,
  offset: number,
  contentStart: number,
  limit: number,
  depth: number,
  limits: DerLimits,
  tag: number,
  tagNumber: number,
): Tlv {
  let pos = contentStart;
  for (;;) {
    if (pos + 2 > limit) throw derError('missing end-of-contents', pos);
    if (buf[pos] === 0 && buf[pos + 1] === 0) break;
    pos = readTlv(buf, pos, limit, depth + 1, limits).end;
  }
  return {
    buf,
    tag,
    tagNumber,
    constructed: true,
    start: offset,
    contentStart,
    contentEnd: pos,
    end: pos + 2,
    indefinite: true,
    depth,
  };
}

/**
 * Reads a whole buffer as exactly one element (trailing bytes throw `ERR_DER`).
 */
export function readDer(buf: Uint8Array, limits: DerLimits = {}): Tlv {
  const tlv = readTlv(buf, 0, buf.length, 0, limits);
  if (tlv.end !== buf.length) throw derError('trailing bytes', tlv.end);
  return tlv;
}

/** The children of a constructed element, in order. Throws `ERR_DER` on a primitive or malformed element. */
export function children(tlv: Tlv, limits: DerLimits = {}): Tlv[] {
  if (!tlv.constructed) throw derError('expected a constructed element', tlv.start);
  const out: Tlv[] = [];
  let pos = tlv.contentStart;
  while (pos < tlv.contentEnd) {
    const child = readTlv(tlv.buf, pos, tlv.contentEnd, tlv.depth + 1, limits);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** The content octets of an element (a view, not a copy). */
export function contentOf(tlv: Tlv): Buffer {
  return Buffer.from(
    tlv.buf.buffer,
    tlv.buf.byteOffset + tlv.contentStart,
    tlv.contentEnd - tlv.contentStart,
  );
}

/** The whole encoding of an element, header included (a view, not a copy). */
export function bytesOf(tlv: Tlv): Buffer {
  return Buffer.from(tlv.buf.buffer, tlv.buf.byteOffset + tlv.start, tlv.end - tlv.start);
}

/** Throws `ERR_DER` unless the element has the expected first identifier octet. */
export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv?.tag !== tag) {
    throw new CryptoError('ERR_DER', `expected ${what}`, { detail: { tag: tlv?.tag } });
  }
  return tlv;
}

/**
 * The octets of an OCTET STRING, joining the segments of a BER constructed string
 * (as streamed CMS uses). Throws `ERR_DER` on anything else.
 */
export function octetStringValue(tlv: Tlv, limits: DerLimits = {}): Buffer {
  if (!tlv.constructed) return contentOf(tlv);
  const parts: Buffer[] = [];
  for (const child of children(tlv, limits)) {
    if ((child.tag & 0xdf) !== Tag.OCTET_STRING)
      throw derError('bad octet string segment', child.start);
    parts.push(octetStringValue(child, limits));
  }
  return Buffer.concat(parts);
}

/** A non-negative INTEGER as bigint (negative values are read in two's complement). */
export function integerValue(tlv: Tlv): bigint {
  const bytes = contentOf(tlv);
  if (bytes.length === 0) throw derError('empty integer', tlv.start);
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  if ((bytes[0] as number) & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** A small INTEGER as number (throws `ERR_DER` when it does not fit). */
export function smallIntegerValue(tlv: Tlv): number {
  const length = tlv.contentEnd - tlv.contentStart;
  if (length > 0 && length <= 3) {
    // Up to three octets always fit: read them without BigInt (versions, on every message).
    let v = 0;
    for (let i = tlv.contentStart; i < tlv.contentEnd; i++) v = v * 256 + (tlv.buf[i] as number);
    return ((tlv.buf[tlv.contentStart] as number) & 0x80) !== 0 ? v - 2 ** (8 * length) : v;
  }
  const v = integerValue(tlv);
  if (v > 0xffffffn || v < -0xffffffn) throw derError('integer too large', tlv.start);
  return Number(v);
}

/** Decodes a character string or time element's content as text (UTF-8, Latin-1 or UCS-2). */
export function stringValue(tlv: Tlv): string {
  const bytes = contentOf(tlv);
  if (tlv.tag === Tag.BMP_STRING) {
    const swapped = Buffer.from(bytes);
    if (swapped.length % 2 !== 0) throw derError('odd BMPString', tlv.start);
    return swapped.swap16().toString('utf16le');
  }
  if (tlv.tag === Tag.T61_STRING) return bytes.toString('latin1');
  return bytes.toString('utf8');
}

/** The decimal value of `count` ASCII digits at `pos`, or -1 when one is not a digit. */
function digitsAt(bytes: Uint8Array, pos: number, count: number): number {
  let v = 0;
  for (let i = pos; i < pos + count; i++) {
    const d = (bytes[i] as number) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The fields of a UTCTime (`YYMMDDHHMM[SS]Z`) or GeneralizedTime (`YYYYMMDDHHMMSS[.f+]Z`)
 * content, year as written; `undefined` when it has another shape. Read byte by byte: it runs
 * for every certificate and signed message, where a regular expression cost more than the rest.
 */
function timeFields(bytes: Uint8Array, start: number, end: number, utc: boolean) {
  const n = end - start;
  if (n === 0 || bytes[end - 1] !== 0x5a) return undefined; // 'Z'
  const y = utc ? 2 : 4;
  if (utc ? n !== 11 && n !== 13 : n < 15 || n === 16) return undefined;
  if (!utc && n > 15) {
    if (bytes[start + 14] !== 0x2e || digitsAt(bytes, start + 15, n - 16) < 0) return undefined;
  }
  const fields = [digitsAt(bytes, start, y)];
  const last = utc ? end - 1 : start + 14;
  for (let pos = start + y; pos + 2 <= last; pos += 2) fields.push(digitsAt(bytes, pos, 2));
  return fields.includes(-1) ? undefined : fields;
}

/** Reads a UTCTime or GeneralizedTime (UTC, "Z" form). Throws `ERR_DER` otherwise. */
export function timeValue(tlv: Tlv): Date {
  const utc = tlv.tag === Tag.UTC_TIME;
  const f = timeFields(tlv.buf, tlv.contentStart, tlv.contentEnd, utc);
  if (f === undefined) throw derError('bad time', tlv.start);
  let year = f[0] as number;
  if (utc) year += year < 50 ? 2000 : 1900;
  const [, mo, d, h, mi, se = 0] = f as [number, number, number, number, number, number?];
  return new Date(Date.UTC(year, mo - 1, d, h, mi, se));
}

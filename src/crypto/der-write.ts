/**
 * DER writer helpers: each returns the complete encoding of one element as a Buffer.
 * Concatenation-based and allocation-light, for the CMS signing hot path.
 */
import { Tag } from './der.js';
import { encodeOid } from './oids.js';

/** Bytes of identifier plus length octets for `length` content bytes. */
function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  return length < 0x1000000 ? 5 : 6;
}

/** Writes the length octets of `length` at `pos`; returns the position after them. */
function writeLength(out: Buffer, pos: number, length: number): number {
  if (length < 0x80) {
    out[pos] = length;
    return pos + 1;
  }
  const n = headerLength(length) - 2;
  out[pos] = 0x80 | n;
  for (let i = n; i > 0; i--) out[pos + i] = (length >>> (8 * (n - i))) & 0xff;
  return pos + n + 1;
}

/** Encodes one element with identifier octet `tag` around the given content parts. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let length = 0;
  for (const c of content) length += c.length;
  const out = Buffer.allocUnsafe(headerLength(length) + length);
  out[0] = tag;
  let pos = writeLength(out, 1, length);
  for (const c of content) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(Tag.SEQUENCE, ...items);
}

/** SET OF already-encoded elements, sorted as DER requires. */
export function setOf(...items: Uint8Array[]): Buffer {
  if (items.length < 2) return tlv(Tag.SET, ...items);
  return tlv(Tag.SET, ...items.sort((a, b) => Buffer.compare(a, b)));
}

/** OBJECT IDENTIFIER from dotted text. */
export function oid(dotted: string): Buffer {
  return encodeOid(dotted);
}

/** NULL. */
export function nullValue(): Buffer {
  return Buffer.from([Tag.NULL, 0]);
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Buffer {
  return tlv(Tag.OCTET_STRING, bytes);
}

/** BIT STRING with no unused bits. */
export function bitString(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(headerLength(bytes.length + 1) + bytes.length + 1);
  out[0] = Tag.BIT_STRING;
  const pos = writeLength(out, 1, bytes.length + 1);
  out[pos] = 0;
  out.set(bytes, pos + 1);
  return out;
}

/** INTEGER from a number, a bigint, or big-endian unsigned magnitude bytes. */
export function integer(value: number | bigint | Uint8Array): Buffer {
  if (value instanceof Uint8Array) {
    let start = 0;
    while (
      start < value.length - 1 &&
      value[start] === 0 &&
      ((value[start + 1] as number) & 0x80) === 0
    )
      start++;
    const body = value.subarray(start);
    if (body.length === 0) return Buffer.from([Tag.INTEGER, 1, 0]);
    return ((body[0] as number) & 0x80) !== 0
      ? tlv(Tag.INTEGER, Buffer.from([0]), body)
      : tlv(Tag.INTEGER, body);
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 0x80)
    return Buffer.from([Tag.INTEGER, 1, value]);
  let v = BigInt(value);
  if (v < 0n) throw new TypeError('integer(): negative values are not supported');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(Tag.INTEGER, Buffer.from(bytes));
}

/** UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(Tag.UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** PrintableString (the caller keeps to its character set). */
export function printableString(text: string): Buffer {
  return tlv(Tag.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

/** UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 rule), whole seconds. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999)
    throw new RangeError('time(): the year must be between 0 and 9999');
  const utc = year >= 1950 && year < 2050;
  const out = Buffer.allocUnsafe(utc ? 15 : 17);
  out[0] = utc ? Tag.UTC_TIME : Tag.GENERALIZED_TIME;
  out[1] = utc ? 13 : 15;
  let pos = 2;
  const put = (value: number, digits: number): void => {
    for (let i = digits - 1; i >= 0; i--) {
      out[pos + i] = 0x30 + (value % 10);
      value = Math.floor(value / 10);
    }
    pos += digits;
  };
  if (utc) put(year % 100, 2);
  else put(year, 4);
  put(date.getUTCMonth() + 1, 2);
  put(date.getUTCDate(), 2);
  put(date.getUTCHours(), 2);
  put(date.getUTCMinutes(), 2);
  put(date.getUTCSeconds(), 2);
  out[pos] = 0x5a; // 'Z'
  return out;
}

/** Context-specific constructed `[n]` (EXPLICIT tagging, or IMPLICIT of a constructed type). */
export function contextConstructed(n: number, ...content: Uint8Array[]): Buffer {
  return tlv(0xa0 | n, ...content);
}

/** Context-specific primitive `[n]` IMPLICIT. */
export function contextPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}

/** AlgorithmIdentifier with optional already-encoded parameters. */
export function algorithm(dotted: string, parameters?: Uint8Array): Buffer {
  return parameters === undefined ? sequence(oid(dotted)) : sequence(oid(dotted), parameters);
}

/** An element encoded as a list of parts, so large content is copied once, by {@link flatten}. */
export interface Parts {
  parts: Uint8Array[];
  length: number;
}

/** Like {@link tlv} but without copying: returns the header and the content parts. */
export function tlvParts(tag: number, ...content: (Uint8Array | Parts)[]): Parts {
  let length = 0;
  const parts: Uint8Array[] = [];
  for (const c of content) {
    if (c instanceof Uint8Array) {
      parts.push(c);
      length += c.length;
    } else {
      parts.push(...c.parts);
      length += c.length;
    }
  }
  const head = Buffer.allocUnsafe(headerLength(length));
  head[0] = tag;
  writeLength(head, 1, length);
  return { parts: [head, ...parts], length: head.length + length };
}

/** Concatenates parts into one Buffer (the only copy). */
export function flatten(p: Parts): Buffer {
  return Buffer.concat(p.parts, p.length);
}

/**
 * DER writer helpers: each returns the complete encoding of one element as a Buffer.
 * Concatenation-based and allocation-light, for the CMS signing hot path.
 */
import { Tag } from './der.js';
import { encodeOid } from './oids.js';

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x82, length >> 8, length & 0xff]);
  if (length < 0x1000000) {
    return Buffer.from([0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
  }
  const b = Buffer.alloc(5);
  b[0] = 0x84;
  b.writeUInt32BE(length, 1);
  return b;
}

/** Encodes one element with identifier octet `tag` around the given content parts. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let length = 0;
  for (const c of content) length += c.length;
  const head = lengthOctets(length);
  const out = Buffer.allocUnsafe(1 + head.length + length);
  out[0] = tag;
  head.copy(out, 1);
  let pos = 1 + head.length;
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
  const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
  return tlv(Tag.SET, ...sorted);
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
  return tlv(Tag.BIT_STRING, Buffer.from([0]), bytes);
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
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050)
    return tlv(Tag.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
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
  const head = lengthOctets(length);
  return { parts: [Buffer.from([tag]), head, ...parts], length: 1 + head.length + length };
}

/** Concatenates parts into one Buffer (the only copy). */
export function flatten(p: Parts): Buffer {
  return Buffer.concat(p.parts, p.length);
}

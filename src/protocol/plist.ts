/**
 * Property lists, XML and binary: the codec every device message goes through.
 * See docs/plist.md for the type mapping, limits and the threats this code refuses.
 */
import { decodeBinary } from './plist-binary-decode.js';
import { encodeBinary } from './plist-binary-encode.js';
import { type DecodePlistOptions, type PlistValue, fail, resolveLimits } from './plist-types.js';
import { decodeXml } from './plist-xml-decode.js';
import { encodeXml } from './plist-xml-encode.js';

export { isPlistDict, PlistReal } from './plist-types.js';
export type { DecodePlistOptions, PlistDict, PlistValue } from './plist-types.js';
export { fromTypedJson, toTypedJson } from './plist-json.js';
export type { FromTypedJsonOptions, TypedJson } from './plist-json.js';

/** Options of {@link encodePlist}. */
export interface EncodePlistOptions {
  /** `xml` (default, Apple's layout) or `binary` (`bplist00`). */
  format?: 'xml' | 'binary';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isBinary(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 &&
    bytes[0] === 0x62 && // b
    bytes[1] === 0x70 && // p
    bytes[2] === 0x6c && // l
    bytes[3] === 0x69 && // i
    bytes[4] === 0x73 && // s
    bytes[5] === 0x74 // t
  );
}

function decodeUtf8(bytes: Uint8Array): string {
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    fail('ERR_PLIST_ENCODING', 'UTF-16 property lists are not accepted');
  }
  try {
    return utf8.decode(bytes);
  } catch (err) {
    return fail('ERR_PLIST_ENCODING', 'invalid UTF-8', err);
  }
}

/**
 * Decodes an XML or binary property list (sniffed by its `bplist` magic; a UTF-8 BOM is fine)
 * with exact types: integers beyond 2^53 become `bigint`, `<data>` a fresh `Uint8Array`, every
 * `<real>` a {@link PlistReal} (plain numbers with `preserveReals: false`). Throws `PlistError`
 * on malformed, hostile or oversized input and `TypeError` when `input` or `options` are not of
 * the documented types.
 */
export function decodePlist(input: Uint8Array | string, options?: DecodePlistOptions): PlistValue {
  const limits = resolveLimits(options);
  if (typeof input === 'string') {
    const tooLarge =
      input.length > limits.maxBytes ||
      (input.length * 3 > limits.maxBytes && Buffer.byteLength(input) > limits.maxBytes);
    if (tooLarge) {
      fail('ERR_PLIST_TOO_LARGE', `property list larger than ${limits.maxBytes} bytes`);
    }
    if (input.startsWith('bplist')) {
      fail('ERR_PLIST_BINARY', 'a binary property list must be passed as bytes');
    }
    return decodeXml(input, limits);
  }
  if (!(input instanceof Uint8Array)) {
    throw new TypeError('decodePlist: input must be a Uint8Array or a string');
  }
  if (input.length > limits.maxBytes) {
    fail('ERR_PLIST_TOO_LARGE', `property list larger than ${limits.maxBytes} bytes`);
  }
  if (isBinary(input)) return decodeBinary(input, limits);
  return decodeXml(decodeUtf8(input), limits);
}

/**
 * Encodes a value as an XML (default) or binary property list. Dictionary keys keep the
 * object's own order and `undefined` values are skipped. Throws `TypeError` for values a
 * plist cannot hold (`null`, functions, symbols, class instances, cycles) and `PlistError`
 * `ERR_PLIST_TYPE` for a bigint outside 64 bits or an invalid Date, `ERR_PLIST_ENCODING` for
 * a string XML cannot carry (U+0000, lone surrogates).
 */
export function encodePlist(value: PlistValue, options?: EncodePlistOptions): Buffer {
  const format: unknown = options?.format ?? 'xml';
  if (format === 'binary') return encodeBinary(value);
  if (format !== 'xml') throw new TypeError('encodePlist: format must be "xml" or "binary"');
  return Buffer.from(encodeXml(value), 'utf8');
}

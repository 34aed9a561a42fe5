/**
 * A minimal, strict CBOR (RFC 8949) codec for the one shape device-attest-01 carries: a WebAuthn
 * attestation object (`{fmt, attStmt: {x5c: [bstr...]}, authData?}`). Chosen over `cbor-x` and
 * `cborg` by measurement (bench/acme-cbor.bench.ts) and because it needs no install: it decodes
 * only definite-length items of major types 0-5 and the simple values false, true and null;
 * tags, floats, indefinite lengths, duplicate map keys and trailing bytes are refused, with
 * bounded depth and item counts. Maps decode to `Map` (no prototype to pollute).
 */

/** A decoded CBOR value. */
export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | boolean
  | null
  | CborValue[]
  | Map<string | number | bigint, CborValue>;

/** Limits of {@link decodeCbor}. */
export interface CborLimits {
  /** Deepest nesting of arrays and maps; default 8. */
  maxDepth?: number;
  /** Most items (array elements plus map entries) in the whole input; default 4096. */
  maxItems?: number;
}

/** Malformed or unsupported CBOR; `offset` is where decoding stopped. */
export class CborDecodeError extends Error {
  override readonly name = 'CborDecodeError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${String(offset)}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Reader {
  buf: Uint8Array;
  pos: number;
  items: number;
  maxItems: number;
  maxDepth: number;
  text: { decode(bytes: Uint8Array): string };
}

function need(r: Reader, n: number): void {
  if (n > r.buf.length - r.pos) throw new CborDecodeError('truncated item', r.pos);
}

/** The argument of an initial byte (additional info 0-27); 28-31 are refused. */
function argument(r: Reader, info: number): number | bigint {
  if (info < 24) return info;
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0) throw new CborDecodeError('indefinite length or reserved value', r.pos - 1);
  need(r, size);
  const { buf, pos } = r;
  r.pos += size;
  if (size === 1) return buf[pos] as number;
  if (size === 2) return ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
  const hi = (((buf[pos] as number) << 24) >>> 0) + ((buf[pos + 1] as number) << 16);
  const word = hi + ((buf[pos + 2] as number) << 8) + (buf[pos + 3] as number);
  if (size === 4) return word;
  const lo =
    (((buf[pos + 4] as number) << 24) >>> 0) +
    ((buf[pos + 5] as number) << 16) +
    ((buf[pos + 6] as number) << 8) +
    (buf[pos + 7] as number);
  const big = (BigInt(word) << 32n) | BigInt(lo);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function length(r: Reader, info: number): number {
  const n = argument(r, info);
  if (typeof n === 'bigint' || n > r.buf.length)
    throw new CborDecodeError('length too large', r.pos);
  return n;
}

function count(r: Reader, n: number): void {
  r.items += n;
  if (r.items > r.maxItems) throw new CborDecodeError('too many items', r.pos);
}

function item(r: Reader, depth: number): CborValue {
  need(r, 1);
  const initial = r.buf[r.pos++] as number;
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return argument(r, info);
    case 1: {
      const n = argument(r, info);
      return typeof n === 'bigint' ? -1n - n : -1 - n;
    }
    case 2:
    case 3: {
      const n = length(r, info);
      need(r, n);
      const bytes = r.buf.subarray(r.pos, r.pos + n);
      r.pos += n;
      return major === 2 ? bytes : r.text.decode(bytes);
    }
    case 4:
      return array(r, length(r, info), depth);
    case 5:
      return map(r, length(r, info), depth);
    case 7:
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new CborDecodeError('unsupported simple value or float', r.pos - 1);
    default:
      throw new CborDecodeError('tags are not supported', r.pos - 1);
  }
}

function array(r: Reader, n: number, depth: number): CborValue[] {
  if (depth >= r.maxDepth) throw new CborDecodeError('nesting too deep', r.pos);
  count(r, n);
  const out: CborValue[] = [];
  for (let i = 0; i < n; i++) out.push(item(r, depth + 1));
  return out;
}

function map(r: Reader, n: number, depth: number): Map<string | number | bigint, CborValue> {
  if (depth >= r.maxDepth) throw new CborDecodeError('nesting too deep', r.pos);
  count(r, n);
  const out = new Map<string | number | bigint, CborValue>();
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const key = item(r, depth + 1);
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint')
      throw new CborDecodeError('map keys must be text or integers', at);
    if (out.has(key)) throw new CborDecodeError('duplicate map key', at);
    out.set(key, item(r, depth + 1));
  }
  return out;
}

/**
 * Decodes exactly one CBOR item filling `bytes`. Byte strings are views into `bytes` (copy them
 * to keep them past its lifetime). Throws {@link CborDecodeError} on anything malformed,
 * unsupported or past the limits; text that is not UTF-8 throws it too.
 */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = {}): CborValue {
  const r: Reader = {
    buf: bytes,
    pos: 0,
    items: 0,
    maxItems: limits.maxItems ?? 4096,
    maxDepth: limits.maxDepth ?? 8,
    text: utf8,
  };
  let value: CborValue;
  try {
    value = item(r, 0);
  } catch (error) {
    if (error instanceof CborDecodeError) throw error;
    // TextDecoder's TypeError on invalid UTF-8.
    throw new CborDecodeError('text is not UTF-8', r.pos);
  }
  if (r.pos !== bytes.length) throw new CborDecodeError('trailing bytes', r.pos);
  return value;
}

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * Encodes a value in CBOR's preferred (shortest) form: non-negative and negative integers up to
 * 2^32, text, byte strings, arrays, maps (`Map` or plain objects, keys in insertion order),
 * booleans and null. Throws `TypeError` on anything else. Used by tests and the simulator to
 * build attestation objects.
 */
export function encodeCbor(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const put = (v: unknown): void => {
    if (v === null) parts.push(Buffer.from([0xf6]));
    else if (v === true || v === false) parts.push(Buffer.from([v ? 0xf5 : 0xf4]));
    else if (typeof v === 'number' && Number.isInteger(v) && v >= -0x100000000 && v <= 0xffffffff)
      // A negative integer n is encoded as -1 - n, so the range reaches -2^32.
      parts.push(v >= 0 ? head(0, v) : head(1, -1 - v));
    else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      parts.push(head(3, b.length), b);
    } else if (v instanceof Uint8Array) parts.push(head(2, v.length), Buffer.from(v));
    else if (Array.isArray(v)) {
      parts.push(head(4, v.length));
      v.forEach(put);
    } else if (v instanceof Map) {
      parts.push(head(5, v.size));
      for (const [k, x] of v) {
        put(k);
        put(x);
      }
    } else if (typeof v === 'object') {
      const entries = Object.entries(v);
      parts.push(head(5, entries.length));
      for (const [k, x] of entries) {
        put(k);
        put(x);
      }
    } else throw new TypeError(`encodeCbor(): cannot encode ${typeof v}`);
  };
  put(value);
  return Buffer.concat(parts);
}

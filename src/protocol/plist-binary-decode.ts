/**
 * Binary property-list (`bplist00`) decoder. Every offset, count and reference is checked
 * against the input before use; cycles are refused; values shared by reference count
 * against `maxItems` each time they appear, so a small file cannot expand without bound.
 */
import {
  APPLE_EPOCH_MS,
  type DecodeLimits,
  type PlistDict,
  type PlistValue,
  PlistReal,
  fail,
  fromBigInt,
  setKey,
} from './plist-types.js';

const TRAILER = 32;
const HEADER = 8;

/** Decodes a binary property list; `bytes` starts with `bplist00` and fits `maxBytes`. */
export function decodeBinary(bytes: Uint8Array, limits: DecodeLimits): PlistValue {
  const reader = new BinaryReader(bytes, limits);
  try {
    return reader.value(reader.top, 0);
  } catch (err) {
    // Only reachable when the caller raised maxDepth beyond what the call stack holds.
    if (err instanceof RangeError) return fail('ERR_PLIST_DEPTH', 'nesting too deep');
    throw err;
  }
}

class BinaryReader {
  /** Text decoding goes through Buffer; byte access and copies through a plain view. */
  private readonly buf: Buffer;
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private readonly offsetSize: number;
  private readonly refSize: number;
  private readonly count: number;
  private readonly table: number;
  readonly top: number;
  private readonly active: Uint8Array;
  private readonly strings: (string | undefined)[] = [];
  private items = 0;
  private dataBudget: number;

  constructor(
    bytes: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {
    const len = bytes.length;
    if (len < HEADER + 1 + TRAILER) fail('ERR_PLIST_BINARY', 'truncated binary plist');
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, len);
    this.u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, len);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, len);
    if (this.buf.toString('latin1', 0, HEADER) !== 'bplist00') {
      fail('ERR_PLIST_BINARY', 'unsupported binary plist version');
    }
    const t = len - TRAILER;
    this.offsetSize = this.u8[t + 6] ?? 0;
    this.refSize = this.u8[t + 7] ?? 0;
    if (this.offsetSize < 1 || this.offsetSize > 8 || this.refSize < 1 || this.refSize > 8) {
      fail('ERR_PLIST_BINARY', 'invalid offset or reference size in trailer');
    }
    this.count = this.uint(t + 8, 8);
    this.top = this.uint(t + 16, 8);
    this.table = this.uint(t + 24, 8);
    if (this.count < 1 || this.top >= this.count || this.table < HEADER + 1) {
      fail('ERR_PLIST_BINARY', 'invalid trailer');
    }
    if (this.count > (t - this.table) / this.offsetSize) {
      fail('ERR_PLIST_BINARY', 'offset table out of range');
    }
    if (this.count > limits.maxItems) fail('ERR_PLIST_TOO_LARGE', 'too many objects');
    this.active = new Uint8Array(this.count);
    this.dataBudget = limits.maxBytes;
  }

  /** Big-endian unsigned integer of 1-8 bytes; refuses values beyond 2^53. */
  private uint(at: number, size: number): number {
    const b = this.u8;
    if (size === 1) return b[at] ?? 0;
    if (size === 2) return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + (b[at + i] ?? 0);
    if (n > Number.MAX_SAFE_INTEGER) fail('ERR_PLIST_BINARY', 'integer field too large');
    return n;
  }

  private offsetOf(index: number): number {
    const off = this.uint(this.table + index * this.offsetSize, this.offsetSize);
    if (off < HEADER || off >= this.table) fail('ERR_PLIST_BINARY', 'object offset out of range');
    return off;
  }

  private ref(at: number): number {
    const r = this.uint(at, this.refSize);
    if (r >= this.count) fail('ERR_PLIST_BINARY', 'object reference out of range');
    return r;
  }

  /** Element count and first content byte of an object whose marker is at `off`. */
  private extent(off: number, unit: number): [count: number, start: number] {
    const info = (this.u8[off] ?? 0) & 0x0f;
    let count = info;
    let start = off + 1;
    if (info === 0x0f) {
      const m = this.u8[off + 1] ?? 0;
      if (m >> 4 !== 1 || (m & 0x0f) > 3) fail('ERR_PLIST_BINARY', 'malformed length');
      const size = 1 << (m & 0x0f);
      this.within(off + 2, size);
      count = this.uint(off + 2, size);
      start = off + 2 + size;
    }
    this.within(start, count * unit);
    return [count, start];
  }

  private within(start: number, length: number): void {
    if (start + length > this.table) fail('ERR_PLIST_BINARY', 'object runs past its bounds');
  }

  value(index: number, depth: number): PlistValue {
    if (++this.items > this.limits.maxItems) fail('ERR_PLIST_TOO_LARGE', 'too many values');
    const off = this.offsetOf(index);
    const marker = this.u8[off] ?? 0;
    switch (marker >> 4) {
      case 0x0:
        return singleton(marker);
      case 0x1:
        return this.integer(off, marker & 0x0f);
      case 0x2:
        return this.real(off, marker & 0x0f);
      case 0x3:
        return this.date(off, marker);
      case 0x4:
        return this.data(off);
      case 0x5:
      case 0x6:
        return this.string(index, off);
      case 0xa:
      case 0xd:
        return this.container(index, off, depth);
      case 0x8:
      case 0xb:
      case 0xc:
        return fail('ERR_PLIST_TYPE', 'UIDs and sets are not supported');
      default:
        return fail('ERR_PLIST_BINARY', 'unknown object type');
    }
  }

  private integer(off: number, info: number): number | bigint {
    if (info > 4) fail('ERR_PLIST_BINARY', 'invalid integer size');
    const size = 1 << info;
    this.within(off + 1, size);
    const v = this.view;
    if (size === 1) return v.getUint8(off + 1);
    if (size === 2) return v.getUint16(off + 1);
    if (size === 4) return v.getUint32(off + 1);
    if (size === 8) {
      const n = v.getInt32(off + 1) * 0x1_0000_0000 + v.getUint32(off + 5);
      return Number.isSafeInteger(n) ? n : v.getBigInt64(off + 1);
    }
    return fromBigInt((v.getBigInt64(off + 1) << 64n) + v.getBigUint64(off + 9));
  }

  private real(off: number, info: number): number | PlistReal {
    if (info !== 2 && info !== 3) fail('ERR_PLIST_BINARY', 'invalid real size');
    this.within(off + 1, 1 << info);
    const n = info === 2 ? this.view.getFloat32(off + 1) : this.view.getFloat64(off + 1);
    return this.limits.preserveReals ? new PlistReal(n) : n;
  }

  private date(off: number, marker: number): Date {
    if (marker !== 0x33) fail('ERR_PLIST_BINARY', 'invalid date');
    this.within(off + 1, 8);
    const date = new Date(secondsToMs(this.view.getFloat64(off + 1)));
    if (Number.isNaN(date.getTime())) fail('ERR_PLIST_BINARY', 'date out of range');
    return date;
  }

  private data(off: number): Uint8Array {
    const [count, start] = this.extent(off, 1);
    this.dataBudget -= count;
    if (this.dataBudget < 0) fail('ERR_PLIST_TOO_LARGE', 'shared data expands beyond maxBytes');
    return this.u8.slice(start, start + count);
  }

  private string(index: number, off: number): string {
    let s = this.strings[index];
    if (s !== undefined) return s;
    const utf16 = (this.u8[off] ?? 0) >> 4 === 6;
    const [count, start] = this.extent(off, utf16 ? 2 : 1);
    if (utf16) {
      const units = this.u8.slice(start, start + count * 2);
      s = Buffer.from(units.buffer).swap16().toString('utf16le');
    } else {
      s = this.ascii(start, start + count);
    }
    this.strings[index] = s;
    return s;
  }

  /** ASCII bytes as a string; short ones (most keys) are cheaper to build in place. */
  private ascii(start: number, end: number): string {
    const b = this.u8;
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i] ?? 0;
      if (c > 0x7f) fail('ERR_PLIST_ENCODING', 'non-ASCII byte in an ASCII string');
      if (end - start <= 32) s += String.fromCharCode(c);
    }
    return end - start <= 32 ? s : this.buf.toString('latin1', start, end);
  }

  private key(index: number): string {
    const off = this.offsetOf(index);
    const type = (this.u8[off] ?? 0) >> 4;
    if (type !== 5 && type !== 6) fail('ERR_PLIST_BINARY', 'dictionary key is not a string');
    return this.string(index, off);
  }

  private container(index: number, off: number, depth: number): PlistValue[] | PlistDict {
    if (depth >= this.limits.maxDepth)
      fail('ERR_PLIST_DEPTH', `nesting deeper than ${this.limits.maxDepth}`);
    if (this.active[index] === 1) fail('ERR_PLIST_BINARY', 'cyclic object reference');
    this.active[index] = 1;
    const isDict = (this.u8[off] ?? 0) >> 4 === 0xd;
    const [count, start] = this.extent(off, isDict ? 2 * this.refSize : this.refSize);
    const r = this.refSize;
    let out: PlistValue[] | PlistDict;
    if (isDict) {
      const dict: PlistDict = {};
      for (let i = 0; i < count; i++) {
        const key = this.key(this.ref(start + i * r));
        if (Object.hasOwn(dict, key)) fail('ERR_PLIST_BINARY', 'duplicate dictionary key', key);
        setKey(dict, key, this.value(this.ref(start + (count + i) * r), depth + 1));
      }
      out = dict;
    } else {
      const array: PlistValue[] = [];
      for (let i = 0; i < count; i++) array.push(this.value(this.ref(start + i * r), depth + 1));
      out = array;
    }
    this.active[index] = 0;
    return out;
  }
}

/**
 * Milliseconds since the Unix epoch of a binary date (seconds since 2001 as a double). Picks the
 * whole millisecond whose division by 1000 gives exactly `secs`, so our own dates survive a
 * round trip even where `secs * 1000` is off by one unit in the last place.
 */
function secondsToMs(secs: number): number {
  const approx = Math.round(secs * 1000);
  if (approx / 1000 !== secs) {
    if ((approx - 1) / 1000 === secs) return approx - 1 + APPLE_EPOCH_MS;
    if ((approx + 1) / 1000 === secs) return approx + 1 + APPLE_EPOCH_MS;
  }
  return approx + APPLE_EPOCH_MS;
}

function singleton(marker: number): boolean {
  if (marker === 0x08) return false;
  if (marker === 0x09) return true;
  return fail(marker === 0x00 ? 'ERR_PLIST_TYPE' : 'ERR_PLIST_BINARY', 'unsupported singleton');
}

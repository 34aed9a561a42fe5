/**
 * Binary property-list (`bplist00`) encoder. Objects are numbered depth-first (containers
 * before their children, dictionary keys before values); equal strings and booleans are
 * stored once. Integers keep full 64-bit precision (16-byte form above 2^63-1) and
 * {@link PlistReal}s stay reals, so decode-encode is byte-stable.
 */
import {
  APPLE_EPOCH_MS,
  type PlistDict,
  type PlistValue,
  checkBigInt,
  dateMs,
  enterContainer,
  kindOf,
} from './plist-types.js';

const TWO_63 = 2 ** 63;

/** True when every UTF-16 unit is below 0x80 (then UTF-8 length equals string length). */
function isAsciiString(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}

/** One object of the table: a scalar, or a container with the indexes it refers to. */
interface Entry {
  kind: number;
  value: PlistValue;
  refs: number[] | undefined;
}

const K_STRING = 0;
const K_INT = 1;
const K_REAL = 2;
const K_BOOL = 3;
const K_DATE = 4;
const K_DATA = 5;
const K_ARRAY = 6;
const K_DICT = 7;

class Flattener {
  readonly entries: Entry[] = [];
  private readonly strings = new Map<string, number>();
  private readonly bools: [number, number] = [-1, -1];
  private readonly stack: object[] = [];

  add(value: PlistValue): number {
    switch (kindOf(value)) {
      case 'string':
        return this.string(value as string);
      case 'integer':
        if (typeof value === 'bigint') checkBigInt(value);
        return this.push(K_INT, value);
      case 'real':
        return this.push(K_REAL, value);
      case 'true':
      case 'false':
        return this.bool(value as boolean);
      case 'date':
        dateMs(value as Date);
        return this.push(K_DATE, value);
      case 'data':
        return this.push(K_DATA, value);
      case 'array':
        return this.array(value as PlistValue[]);
      case 'dict':
        return this.dict(value as PlistDict);
    }
  }

  private push(kind: number, value: PlistValue, refs?: number[]): number {
    this.entries.push({ kind, value, refs });
    return this.entries.length - 1;
  }

  private string(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) {
      i = this.push(K_STRING, s);
      this.strings.set(s, i);
    }
    return i;
  }

  private bool(b: boolean): number {
    const slot = b ? 1 : 0;
    if (this.bools[slot] < 0) this.bools[slot] = this.push(K_BOOL, b);
    return this.bools[slot];
  }

  private array(array: PlistValue[]): number {
    enterContainer(this.stack, array);
    const refs: number[] = [];
    const index = this.push(K_ARRAY, array, refs);
    for (const item of array) refs.push(this.add(item));
    this.stack.pop();
    return index;
  }

  private dict(dict: PlistDict): number {
    enterContainer(this.stack, dict);
    const keys = Object.keys(dict).filter((k) => dict[k] !== undefined);
    const refs: number[] = [];
    const index = this.push(K_DICT, dict, refs);
    for (const k of keys) refs.push(this.string(k));
    for (const k of keys) refs.push(this.add(dict[k] as PlistValue));
    this.stack.pop();
    return index;
  }
}

function uintSize(n: number): number {
  return n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffff ? 4 : 8;
}

/** Bytes of a marker plus its count (inline below 15, else an integer object). */
function headerSize(count: number): number {
  return count < 15 ? 1 : 2 + uintSize(count);
}

function intSize(n: number | bigint): number {
  if (n < 0) return 8;
  if (typeof n === 'bigint') return n >= 2n ** 63n ? 16 : n > 0xffffffffn ? 8 : uintSize(Number(n));
  return n >= TWO_63 ? 16 : uintSize(n);
}

function entrySize(e: Entry, refSize: number): number {
  switch (e.kind) {
    case K_STRING: {
      const s = e.value as string;
      return headerSize(s.length) + (isAsciiString(s) ? s.length : 2 * s.length);
    }
    case K_INT:
      return 1 + intSize(e.value as number | bigint);
    case K_REAL:
    case K_DATE:
      return 9;
    case K_BOOL:
      return 1;
    case K_DATA:
      return headerSize((e.value as Uint8Array).length) + (e.value as Uint8Array).length;
    default: {
      const refs = e.refs as number[];
      const count = e.kind === K_DICT ? refs.length / 2 : refs.length;
      return headerSize(count) + refs.length * refSize;
    }
  }
}

/** Encodes a value as a binary property list. */
export function encodeBinary(value: PlistValue): Buffer {
  const flat = new Flattener();
  const top = flat.add(value);
  const entries = flat.entries;
  const refSize = uintSize(entries.length - 1);
  let size = 8;
  for (const e of entries) size += entrySize(e, refSize);
  const table = size;
  const offsetSize = uintSize(table);
  const buf = Buffer.alloc(table + entries.length * offsetSize + 32);
  buf.write('bplist00', 0, 'latin1');
  const w = new Writer(buf, 8);
  let t = table;
  for (const e of entries) {
    buf.writeUIntBE(w.pos, t, offsetSize);
    t += offsetSize;
    w.entry(e, refSize);
  }
  const trailer = t;
  buf[trailer + 6] = offsetSize;
  buf[trailer + 7] = refSize;
  buf.writeBigUInt64BE(BigInt(entries.length), trailer + 8);
  buf.writeBigUInt64BE(BigInt(top), trailer + 16);
  buf.writeBigUInt64BE(BigInt(table), trailer + 24);
  return buf;
}

class Writer {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}

  private header(type: number, count: number): void {
    if (count < 15) {
      this.buf[this.pos++] = (type << 4) | count;
      return;
    }
    this.buf[this.pos++] = (type << 4) | 0x0f;
    this.uint(count);
  }

  private uint(n: number): void {
    const size = uintSize(n);
    this.buf[this.pos++] = 0x10 | Math.log2(size);
    if (size === 8) this.buf.writeBigUInt64BE(BigInt(n), this.pos);
    else this.buf.writeUIntBE(n, this.pos, size);
    this.pos += size;
  }

  private int(n: number | bigint): void {
    const size = intSize(n);
    if (size <= 4) {
      this.uint(Number(n));
      return;
    }
    const b = this.buf;
    if (size === 8) {
      b[this.pos++] = 0x13;
      this.pos = b.writeBigInt64BE(BigInt(n), this.pos);
      return;
    }
    b[this.pos++] = 0x14;
    this.pos = b.writeBigUInt64BE(0n, this.pos);
    this.pos = b.writeBigUInt64BE(BigInt(n), this.pos);
  }

  entry(e: Entry, refSize: number): void {
    const b = this.buf;
    switch (e.kind) {
      case K_STRING:
        this.string(e.value as string);
        return;
      case K_INT:
        this.int(e.value as number | bigint);
        return;
      case K_REAL:
        b[this.pos++] = 0x23;
        this.pos = b.writeDoubleBE(Number(e.value), this.pos);
        return;
      case K_DATE:
        b[this.pos++] = 0x33;
        this.pos = b.writeDoubleBE((dateMs(e.value as Date) - APPLE_EPOCH_MS) / 1000, this.pos);
        return;
      case K_BOOL:
        b[this.pos++] = e.value === true ? 0x09 : 0x08;
        return;
      case K_DATA: {
        const d = e.value as Uint8Array;
        this.header(0x4, d.length);
        b.set(d, this.pos);
        this.pos += d.length;
        return;
      }
      default:
        this.refs(e, refSize);
        return;
    }
  }

  private string(s: string): void {
    if (isAsciiString(s)) {
      this.header(0x5, s.length);
      this.pos += this.buf.write(s, this.pos, 'latin1');
      return;
    }
    this.header(0x6, s.length);
    const start = this.pos;
    this.pos += this.buf.write(s, start, 'utf16le');
    this.buf.subarray(start, this.pos).swap16();
  }

  private refs(e: Entry, refSize: number): void {
    const refs = e.refs as number[];
    this.header(e.kind === K_DICT ? 0xd : 0xa, e.kind === K_DICT ? refs.length / 2 : refs.length);
    for (const r of refs) {
      this.buf.writeUIntBE(r, this.pos, refSize);
      this.pos += refSize;
    }
  }
}

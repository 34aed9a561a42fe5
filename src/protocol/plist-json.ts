/**
 * The typed JSON form of property lists: plain JSON wherever JSON says exactly what the plist
 * holds (strings, booleans, safe integers, fractional reals, arrays, dictionaries) and a one-key
 * `$` object for everything else (`$data`, `$date`, `$real`, `$integer`, `$dict`), so that
 * `fromTypedJson(toTypedJson(x))` equals `x`. The rules are in docs/plist.md ("Typed JSON").
 */
import { PlistError, PlistJsonError } from '../errors.js';
import {
  INT_MIN,
  UINT_MAX,
  type PlistDict,
  type PlistValue,
  PlistReal,
  dateMs,
  enterContainer,
  kindOf,
  setKey,
} from './plist-types.js';
import { formatReal } from './plist-xml-encode.js';
import { parseData, parseReal } from './plist-xml-text.js';

/** A JSON value as {@link toTypedJson} writes it and {@link fromTypedJson} reads it. */
export type TypedJson = string | number | boolean | TypedJson[] | { [key: string]: TypedJson };

/** Options of {@link fromTypedJson}. */
export interface FromTypedJsonOptions {
  /** Deepest accepted nesting of arrays and dictionaries; the root container is depth 1 (default 64). */
  maxDepth?: number;
}

const ESCAPE_HINT = 'a literal key starting with "$" is written inside {"$dict": {...}}';
const INTEGER_TEXT = /^-?[0-9]{1,20}$/;
const DATE_TEXT =
  /^([+-][0-9]{6}|[0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,3}))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/**
 * Reads a parsed JSON value in the typed form (docs/plist.md) into plist values, exactly as
 * `decodePlist` would give them: a whole number is an integer, any other a {@link PlistReal},
 * and the one-key `$data`, `$date`, `$real`, `$integer` and `$dict` objects the plist-only kinds.
 * Throws {@link PlistJsonError} (400, naming the `path`) on `null`, a whole number beyond 2^53,
 * any other object with a `$` key, or nesting past `maxDepth`; TypeError on invalid `options`.
 */
export function fromTypedJson(value: unknown, options: FromTypedJsonOptions = {}): PlistValue {
  const maxDepth = options.maxDepth ?? 64;
  if (!Number.isInteger(maxDepth) || maxDepth < 1)
    throw new TypeError('fromTypedJson: maxDepth must be a positive integer');
  return new JsonReader(maxDepth).value(value, 0);
}

class JsonReader {
  /** Keys and indexes from the root to the value being read, for error paths. */
  private readonly trail: (string | number)[] = [];

  constructor(private readonly maxDepth: number) {}

  value(v: unknown, depth: number): PlistValue {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return this.number(v);
      case 'object':
        if (v === null) return this.fail('null has no property-list form');
        if (Array.isArray(v)) return this.array(v, depth + 1);
        return this.object(v, depth);
      default:
        return this.fail(`a ${typeof v} has no property-list form`);
    }
  }

  /** A whole number is an integer, any other a real (a PlistReal, as `decodePlist` gives). */
  private number(n: number): number | PlistReal {
    if (!Number.isFinite(n)) this.fail('a number beyond the double range; write {"$real": ...}');
    if (!Number.isInteger(n)) return new PlistReal(n);
    if (!Number.isSafeInteger(n))
      this.fail(
        'a whole number beyond 2^53 is not exact in JSON: write {"$integer": "<digits>"} or {"$real": n}',
      );
    return n;
  }

  private array(items: unknown[], depth: number): PlistValue[] {
    this.checkDepth(depth);
    const out: PlistValue[] = [];
    for (let i = 0; i < items.length; i++) {
      this.trail.push(i);
      out.push(this.value(items[i], depth));
      this.trail.pop();
    }
    return out;
  }

  private object(o: object, depth: number): PlistValue {
    const proto: unknown = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) this.fail('not a JSON value');
    const record = o as Record<string, unknown>;
    const keys = Object.keys(record);
    const first = keys[0];
    if (keys.length === 1 && first?.startsWith('$') === true)
      return this.form(first, record[first], depth);
    const typed = keys.find((k) => k.startsWith('$'));
    if (typed !== undefined)
      this.fail(`"${typed}" beside other keys is no typed form; ${ESCAPE_HINT}`);
    return this.dict(record, keys, depth + 1);
  }

  private dict(record: Record<string, unknown>, keys: string[], depth: number): PlistDict {
    this.checkDepth(depth);
    const out: PlistDict = {};
    for (const key of keys) {
      this.trail.push(key);
      setKey(out, key, this.value(record[key], depth));
      this.trail.pop();
    }
    return out;
  }

  private form(name: string, arg: unknown, depth: number): PlistValue {
    switch (name) {
      case '$data':
        return this.data(arg);
      case '$date':
        return this.date(arg);
      case '$real':
        return this.real(arg);
      case '$integer':
        return this.integer(arg);
      case '$dict': {
        if (typeof arg !== 'object' || arg === null || Array.isArray(arg))
          return this.fail('"$dict" takes an object');
        const proto: unknown = Object.getPrototypeOf(arg);
        if (proto !== Object.prototype && proto !== null) return this.fail('not a JSON value');
        const record = arg as Record<string, unknown>;
        return this.dict(record, Object.keys(record), depth + 1);
      }
      default:
        return this.fail(
          `"${name}" is not one of $data, $date, $real, $integer, $dict; ${ESCAPE_HINT}`,
        );
    }
  }

  private data(arg: unknown): Uint8Array {
    if (typeof arg === 'string') {
      try {
        return parseData(arg);
      } catch (error) {
        if (!(error instanceof PlistError)) throw error;
      }
    }
    return this.fail('"$data" takes a base64 string (standard alphabet, padded)');
  }

  private date(arg: unknown): Date {
    const date = typeof arg === 'string' ? parseIsoDate(arg) : undefined;
    if (date === undefined)
      return this.fail('"$date" takes an ISO 8601 date-time such as 2024-05-01T10:00:00Z');
    return date;
  }

  private real(arg: unknown): PlistReal {
    if (typeof arg === 'number' && Number.isFinite(arg)) return new PlistReal(arg);
    if (typeof arg === 'string') {
      try {
        return parseReal(arg, true) as PlistReal;
      } catch (error) {
        if (!(error instanceof PlistError)) throw error;
      }
    }
    return this.fail('"$real" takes a number, or "nan", "+infinity", "-infinity" or "-0"');
  }

  private integer(arg: unknown): number | bigint {
    if (typeof arg === 'number' && Number.isSafeInteger(arg)) return arg;
    if (typeof arg === 'string' && INTEGER_TEXT.test(arg)) {
      const n = BigInt(arg);
      if (n >= INT_MIN && n <= UINT_MAX)
        return n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n ? Number(n) : n;
    }
    return this.fail(
      '"$integer" takes a decimal string within the signed/unsigned 64-bit range (or a safe integer)',
    );
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
  }

  private fail(message: string): never {
    throw new PlistJsonError(formatPath(this.trail), message);
  }
}

/** `Settings[0].DeviceName`: keys joined by dots, indexes in brackets, as validation issues name paths. */
function formatPath(trail: readonly (string | number)[]): string {
  let out = '';
  for (const part of trail) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** An ISO 8601 date-time with a `Z` or `±hh:mm` offset, to the millisecond; undefined if invalid. */
function parseIsoDate(text: string): Date | undefined {
  const m = DATE_TEXT.exec(text);
  if (m === null || m[1] === '-000000') return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  const valid = date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  if (!valid || h > 23 || mi > 59 || s > 59) return undefined;
  const zone = m[8] ?? 'Z';
  if (zone === 'Z') return date;
  const zh = Number(zone.slice(1, 3));
  const zm = Number(zone.slice(4, 6));
  if (zh > 23 || zm > 59) return undefined;
  const shifted = new Date(
    date.getTime() - (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm) * 60_000,
  );
  return Number.isNaN(shifted.getTime()) ? undefined : shifted;
}

/**
 * Writes a plist value in the typed JSON form (the inverse of {@link fromTypedJson}): data as
 * `{"$data"}`, dates as `{"$date"}` (UTC, milliseconds only when present), whole, negative-zero
 * and non-finite reals as `{"$real"}`, integers beyond 2^53 as `{"$integer"}`, and a dictionary
 * with a key starting with `$` inside `{"$dict"}`. Throws TypeError for values a plist cannot
 * hold (as `encodePlist` does) and `PlistError` for an invalid `Date`.
 */
export function toTypedJson(value: PlistValue): TypedJson {
  return writeJson(value, []);
}

function writeJson(value: PlistValue, stack: object[]): TypedJson {
  switch (kindOf(value)) {
    case 'string':
    case 'true':
    case 'false':
      return value as string | boolean;
    case 'integer':
      return integerJson(value as number | bigint);
    case 'real':
      return realJson(+(value as number | PlistReal));
    case 'date':
      return { $date: formatIsoDate(value as Date) };
    case 'data': {
      const bytes = value as Uint8Array;
      return {
        $data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      };
    }
    case 'array': {
      const array = value as PlistValue[];
      enterContainer(stack, array);
      const out = array.map((item) => writeJson(item, stack));
      stack.pop();
      return out;
    }
    case 'dict':
      return dictJson(value as PlistDict, stack);
  }
}

function integerJson(n: number | bigint): TypedJson {
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  const big = BigInt(n);
  return big >= -(2n ** 53n) + 1n && big <= 2n ** 53n - 1n
    ? Number(big)
    : { $integer: String(big) };
}

function realJson(n: number): TypedJson {
  if (Number.isFinite(n) && !Number.isInteger(n)) return n;
  if (Number.isFinite(n) && !Object.is(n, -0)) return { $real: n };
  return { $real: formatReal(n) };
}

function dictJson(dict: PlistDict, stack: object[]): TypedJson {
  enterContainer(stack, dict);
  const out: Record<string, TypedJson> = {};
  let escape = false;
  for (const key of Object.keys(dict)) {
    const item = dict[key];
    if (item === undefined) continue;
    if (key.startsWith('$')) escape = true;
    // defineProperty, so that a `__proto__` key stays an own data property.
    Object.defineProperty(out, key, {
      value: writeJson(item, stack),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  stack.pop();
  return escape ? { $dict: out } : out;
}

/** `2024-05-01T10:00:00Z`, with `.123` only when the milliseconds are not zero. */
function formatIsoDate(d: Date): string {
  dateMs(d);
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

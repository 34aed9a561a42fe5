/**
 * Value model of Orchard's property-list codec and the helpers every variant (XML, binary,
 * decode, encode) shares.
 */
import { PlistError, type PlistErrorCode } from '../errors.js';

/**
 * A `<real>` kept as a real, so that a whole value such as `64.0` is written back as `<real>`
 * and not as `<integer>`. Decoding yields one for every `<real>` unless `preserveReals: false`.
 */
export class PlistReal {
  constructor(readonly value: number) {}

  /** The number, so that `+real` and arithmetic work. */
  valueOf(): number {
    return this.value;
  }

  /** The number, so that `JSON.stringify` writes a plain number. */
  toJSON(): number {
    return this.value;
  }
}

/**
 * Any value a property list can hold: integers beyond 2^53 are `bigint`, `<data>` is a
 * `Uint8Array`, `<date>` a `Date`, a `<real>` a `number` or (when kept as real) a {@link PlistReal}.
 */
export type PlistValue =
  string | number | bigint | boolean | Date | Uint8Array | PlistReal | PlistValue[] | PlistDict;

/** A `<dict>`: an ordinary object whose own enumerable string keys are the plist keys. */
export interface PlistDict {
  [key: string]: PlistValue;
}

/** Whether a plist value is a dictionary (not an array, data, date or real). */
export function isPlistDict(value: PlistValue | undefined): value is PlistDict {
  return (
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date) &&
    !(value instanceof PlistReal)
  );
}

/** Limits and options of `decodePlist`; every limit has a safe default. */
export interface DecodePlistOptions {
  /** Largest accepted input in bytes (default 16 MiB). */
  maxBytes?: number;
  /** Deepest accepted nesting of arrays and dictionaries; the root container is depth 1 (default 64). */
  maxDepth?: number;
  /** Most values (scalars and containers) one document may produce (default 1,000,000). */
  maxItems?: number;
  /**
   * Decode every `<real>` as a {@link PlistReal} (default true, so a whole real re-encodes as
   * `<real>`); `false` gives plain numbers, and a whole real then re-encodes as `<integer>`.
   */
  preserveReals?: boolean;
}

/** Options of `decodePlist` after defaults are applied and checked. */
export interface DecodeLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxItems: number;
  readonly preserveReals: boolean;
}

/** Default limits: Apple's messages are small and shallow. */
export const DEFAULT_LIMITS: DecodeLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxItems: 1_000_000,
  preserveReals: true,
};

/** Deepest nesting the encoders accept before suspecting a cycle. */
export const MAX_ENCODE_DEPTH = 1000;

/** Largest and smallest integers a property list can carry (signed and unsigned 64-bit). */
export const INT_MIN = -(2n ** 63n);
export const UINT_MAX = 2n ** 64n - 1n;

/** Milliseconds between the Unix epoch and Apple's reference date, 2001-01-01T00:00:00Z. */
export const APPLE_EPOCH_MS = 978_307_200_000;

/** Throws a {@link PlistError}; a function so that call sites stay one line. */
export function fail(code: PlistErrorCode, message: string, detail?: unknown): never {
  throw new PlistError(code, message, detail === undefined ? {} : { detail });
}

/**
 * Stores `value` under `key` as an own data property. Only `__proto__` needs the slow path:
 * assigning it on an ordinary object would replace the prototype instead.
 */
export function setKey(dict: PlistDict, key: string, value: PlistValue): void {
  if (key === '__proto__') {
    Object.defineProperty(dict, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    dict[key] = value;
  }
}

/** Turns an integer into the decoded representation: `number` when safe, else `bigint`. */
export function fromBigInt(n: bigint): number | bigint {
  if (n < INT_MIN || n > UINT_MAX) fail('ERR_PLIST_TYPE', 'integer outside the 64-bit range');
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
}

function checkLimit(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`decodePlist: ${name} must be a positive integer`);
  }
  return value;
}

/** Applies defaults to decode options; throws `TypeError` on an invalid option. */
export function resolveLimits(options: DecodePlistOptions | undefined): DecodeLimits {
  if (options === undefined) return DEFAULT_LIMITS;
  if (typeof options !== 'object') throw new TypeError('decodePlist: options must be an object');
  return {
    maxBytes: checkLimit('maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes),
    maxDepth: checkLimit('maxDepth', options.maxDepth, DEFAULT_LIMITS.maxDepth),
    maxItems: checkLimit('maxItems', options.maxItems, DEFAULT_LIMITS.maxItems),
    preserveReals: options.preserveReals !== false,
  };
}

/** What an encoder sees in a value: the tag it becomes. */
export type EncodeKind =
  'string' | 'integer' | 'real' | 'true' | 'false' | 'date' | 'data' | 'array' | 'dict';

/**
 * Classifies a value for the encoders; `undefined` only where a dictionary skips it.
 * Throws `TypeError` for values a plist cannot hold (null, functions, symbols, class instances).
 */
export function kindOf(value: unknown): EncodeKind {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      // Integer-valued numbers outside the 64-bit range can only be written as reals.
      return Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 64 ? 'integer' : 'real';
    case 'bigint':
      return 'integer';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return objectKind(value);
    default:
      throw new TypeError(`encodePlist: a ${typeof value} cannot be encoded`);
  }
}

function objectKind(value: object | null): EncodeKind {
  if (value === null) throw new TypeError('encodePlist: null cannot be encoded');
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'data';
  if (value instanceof Date) return 'date';
  if (value instanceof PlistReal) return 'real';
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return 'dict';
  throw new TypeError('encodePlist: only plain objects, arrays, Date, Uint8Array and PlistReal');
}

/** Checks a bigint fits a plist integer; throws `ERR_PLIST_TYPE` otherwise. */
export function checkBigInt(n: bigint): void {
  if (n < INT_MIN || n > UINT_MAX) {
    fail('ERR_PLIST_TYPE', 'bigint outside the signed/unsigned 64-bit range');
  }
}

/** Milliseconds of a valid Date; throws `ERR_PLIST_TYPE` for an invalid one. */
export function dateMs(d: Date): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) fail('ERR_PLIST_TYPE', 'invalid Date cannot be encoded');
  return ms;
}

/**
 * Tracks the containers an encoder is inside, so that a cycle becomes a `TypeError` and
 * excessive nesting a `PlistError` instead of a stack overflow.
 */
export function enterContainer(stack: object[], value: object): void {
  if (stack.length >= MAX_ENCODE_DEPTH) {
    if (stack.includes(value)) throw new TypeError('encodePlist: the value is cyclic');
    fail('ERR_PLIST_DEPTH', `nesting deeper than ${MAX_ENCODE_DEPTH} cannot be encoded`);
  }
  stack.push(value);
}

/** Scalar checks of the schema validator: type, rangelist, range, format. */
import { PlistReal } from '../protocol/plist.js';
import type { PlistDict, PlistValue } from '../protocol/plist.js';
import type { FactValue, KeyFacts, SchemaType } from './facts.js';

/** Whether `v` is a plist dictionary (not an array, data, date or real). */
export function isDict(v: unknown): v is PlistDict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Date) &&
    !(v instanceof PlistReal)
  );
}

/** The plist type of a value, as used in messages: `integer`, `real`, `string`, ... */
export function typeName(v: PlistValue): SchemaType | 'unknown' {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'bigint') return 'integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'real';
  if (v instanceof PlistReal) return 'real';
  if (v instanceof Uint8Array) return 'data';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  if (isDict(v)) return 'dictionary';
  return 'unknown';
}

/** Whether `v` has schema type `type`. A whole JS number counts as a real (decoders may not keep reals apart); a {@link PlistReal} never counts as an integer. */
export function typeMatches(v: PlistValue, type: SchemaType): boolean {
  switch (type) {
    case 'any':
      return true;
    case 'real':
      return typeof v === 'number' || v instanceof PlistReal;
    default:
      return typeName(v) === type;
  }
}

function numeric(v: PlistValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof PlistReal) return v.value;
  return undefined;
}

function same(a: PlistValue, b: FactValue): boolean {
  const n = numeric(a);
  return n !== undefined ? n === b : a === b;
}

const regexCache = new Map<string, RegExp | null>();

function compiled(format: string): RegExp | null {
  let re = regexCache.get(format);
  if (re === undefined) {
    try {
      re = new RegExp(format);
    } catch {
      // Apple's patterns are meant for other regex engines; one we cannot compile is not checked.
      re = null;
    }
    regexCache.set(format, re);
  }
  return re;
}

/** Problems of a scalar against `rangelist`, `range` and `format`, as `[code, message]` pairs. */
export function checkScalar(v: PlistValue, n: KeyFacts): [string, string][] {
  const out: [string, string][] = [];
  if (n.rangelist && !n.rangelist.some((r) => same(v, r))) {
    const shown =
      n.rangelist.length > 8
        ? `${n.rangelist
            .slice(0, 8)
            .map((r) => JSON.stringify(r))
            .join(', ')}, ...`
        : n.rangelist.map((r) => JSON.stringify(r)).join(', ');
    out.push(['not-in-rangelist', `${show(v)} is not one of ${shown}`]);
  }
  const x = numeric(v);
  if (n.range && x !== undefined) {
    const { min, max } = n.range;
    if ((min !== undefined && x < min) || (max !== undefined && x > max)) {
      out.push(['out-of-range', `${x} is outside ${min ?? '-∞'}..${max ?? '∞'}`]);
    }
  }
  if (n.format !== undefined && typeof v === 'string') {
    const re = compiled(n.format);
    if (re && !re.test(v)) out.push(['format-mismatch', `${show(v)} does not match ${n.format}`]);
  }
  return out;
}

function show(v: PlistValue): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  const x = numeric(v);
  return x !== undefined ? String(x) : typeName(v);
}

/**
 * Turns Apple's key specs into the flat tables of a {@link SchemaArea}: one node per
 * distinct spec object (so YAML anchors stay shared and recursion becomes a reference
 * by index) and one entry per distinct `supportedOS` table.
 */
import type { FactValue, KeyFacts, OsFacts, OsTable } from '../facts.js';
import { PLATFORMS } from '../facts.js';
import type { RawKey } from './load.js';

const TYPES = new Set([
  'string',
  'integer',
  'real',
  'boolean',
  'data',
  'date',
  'array',
  'dictionary',
  'any',
]);
const BOOL_FIELDS = [
  'multiple',
  'devicechannel',
  'userchannel',
  'supervised',
  'requiresdep',
  'userapprovedmdm',
  'allowmanualinstall',
] as const;
const VERSION_FIELDS = ['introduced', 'deprecated', 'removed'] as const;

/** Mutable builder of one area's node and OS tables. */
export class Interner {
  readonly nodes: KeyFacts[] = [];
  /** Subkey type names by node index, for naming generated TypeScript types. */
  readonly names = new Map<number, string>();
  readonly osTables: OsTable[] = [];
  private readonly ids = new Map<RawKey, number>();
  private readonly osIds = new Map<string, number>();

  /** Index of `raw`'s node, creating it (and its subtree) on first sight. */
  node(raw: RawKey): number {
    const seen = this.ids.get(raw);
    if (seen !== undefined) return seen;
    const id = this.nodes.length;
    this.ids.set(raw, id);
    const placeholder: KeyFacts = { key: '', type: 'any' };
    this.nodes.push(placeholder);
    if (typeof raw.subkeytype === 'string') this.names.set(id, raw.subkeytype);
    this.nodes[id] = this.facts(raw);
    return id;
  }

  /** Index of an OS table equal to `raw` (normalised), or undefined when it says nothing. */
  os(raw: unknown): number | undefined {
    const table = normaliseOsTable(raw);
    if (Object.keys(table).length === 0) return undefined;
    const text = JSON.stringify(table);
    const seen = this.osIds.get(text);
    if (seen !== undefined) return seen;
    this.osTables.push(table);
    this.osIds.set(text, this.osTables.length - 1);
    return this.osTables.length - 1;
  }

  private facts(raw: RawKey): KeyFacts {
    const type = (typeof raw.type === 'string' ? raw.type : '<any>').replace(/[<>]/g, '');
    if (!TYPES.has(type)) throw new Error(`unknown type ${type} on key ${String(raw.key)}`);
    const out: Record<string, unknown> = { key: String(raw.key), type: type };
    if (raw.presence === 'required') out.required = true;
    if (raw.default !== undefined) out.default = factValue(raw.default);
    if (Array.isArray(raw.rangelist)) out.rangelist = raw.rangelist.map(factValue);
    const range = bounds(raw.range);
    if (range) out.range = range;
    if (typeof raw.format === 'string') out.format = raw.format;
    const repetition = bounds(raw.repetition);
    if (repetition) out.repetition = repetition;
    const os = this.os(raw.supportedOS);
    if (os !== undefined) out.os = os;
    if (Array.isArray(raw.subkeys)) out.subkeys = raw.subkeys.map((s) => this.node(s));
    return out as unknown as KeyFacts;
  }
}

function factValue(v: unknown): FactValue {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(factValue);
  throw new Error(`unsupported schema value ${JSON.stringify(v)}`);
}

function bounds(raw: unknown): { min?: number; max?: number } | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const out: { min?: number; max?: number } = {};
  if (typeof r.min === 'number') out.min = r.min;
  if (typeof r.max === 'number') out.max = r.max;
  return Object.keys(out).length > 0 ? out : undefined;
}

function version(v: unknown): string {
  const s = String(v);
  return s === 'all' ? '0' : s;
}

function normaliseOs(raw: Record<string, unknown>): OsFacts {
  const out: Record<string, unknown> = {};
  for (const f of VERSION_FIELDS) if (raw[f] !== undefined) out[f] = version(raw[f]);
  if (typeof raw.accessrights === 'string') out.accessrights = raw.accessrights;
  for (const f of BOOL_FIELDS) if (typeof raw[f] === 'boolean') out[f] = raw[f];
  const shared = raw.sharedipad as Record<string, unknown> | undefined;
  if (shared && typeof shared === 'object') {
    const s: Record<string, unknown> = {};
    if (typeof shared.mode === 'string') s.mode = shared.mode;
    if (typeof shared.devicechannel === 'boolean') s.devicechannel = shared.devicechannel;
    if (typeof shared.userchannel === 'boolean') s.userchannel = shared.userchannel;
    out.sharedipad = s;
  }
  const ue = raw.userenrollment as Record<string, unknown> | undefined;
  if (ue && typeof ue === 'object' && typeof ue.mode === 'string')
    out.userenrollment = { mode: ue.mode };
  return out;
}

/** Keeps the known fields of a raw `supportedOS`, in a fixed platform order. */
export function normaliseOsTable(raw: unknown): OsTable {
  const out: Partial<Record<(typeof PLATFORMS)[number], OsFacts>> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const p of PLATFORMS) {
    const facts = (raw as Record<string, unknown>)[p];
    if (typeof facts === 'object' && facts !== null) {
      out[p] = normaliseOs(facts as Record<string, unknown>);
    }
  }
  return out;
}

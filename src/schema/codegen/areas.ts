/**
 * Builds the three generated areas (profile payloads, commands, check-in messages)
 * from parsed schema files. Files that share a type are merged into the union of
 * their keys, as SCHEMA-GUIDE.md §1 prescribes.
 */
import type { EntryFacts, OsTable } from '../facts.js';
import { Interner, normaliseOsTable } from './intern.js';
import type { RawDoc, RawKey } from './load.js';

/** One area ready to be written: its interner and entries, in a stable order. */
export interface BuiltArea {
  interner: Interner;
  entries: Map<string, EntryFacts>;
}

/** Groups files by the value of `payload[field]`, in file-name order. */
function groupBy(docs: readonly RawDoc[], field: string): Map<string, RawDoc[]> {
  const groups = new Map<string, RawDoc[]>();
  for (const doc of docs) {
    const name = doc.payload[field];
    if (typeof name !== 'string') throw new Error(`${doc.file}: payload.${field} missing`);
    const list = groups.get(name) ?? [];
    list.push(doc);
    groups.set(name, list);
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The file named after the type wins; otherwise the first by name. */
function primaryOf(name: string, docs: readonly RawDoc[]): RawDoc {
  const primary = docs.find((d) => d.file === `${name}.yaml`) ?? docs[0];
  if (!primary) throw new Error(`${name}: no files`);
  return primary;
}

/** Unions key lists by name: a key seen again adds its dictionary subkeys to the first spec. */
function unionKeys(lists: readonly RawKey[][]): RawKey[] {
  const byName = new Map<unknown, RawKey>();
  for (const list of lists) {
    for (const key of list) {
      const first = byName.get(key.key);
      if (!first) {
        byName.set(key.key, key);
      } else if (Array.isArray(first.subkeys) && Array.isArray(key.subkeys)) {
        byName.set(key.key, { ...first, subkeys: unionKeys([first.subkeys, key.subkeys]) });
      }
    }
  }
  return [...byName.values()];
}

function entryOf(interner: Interner, name: string, docs: readonly RawDoc[]): EntryFacts {
  const primary = primaryOf(name, docs);
  const ordered = [primary, ...docs.filter((d) => d !== primary)];
  const os = interner.os(primary.payload.supportedOS);
  if (ordered.length === 1) {
    const keys = (primary.payloadkeys ?? []).map((k) => interner.node(k));
    const response = primary.responsekeys?.map((k) => interner.node(k));
    return {
      ...(os === undefined ? {} : { os }),
      keys,
      ...(response ? { responseKeys: response } : {}),
      files: [primary.file],
    };
  }
  // Keys from a secondary file carry that file's availability as their own override.
  const perFile = ordered.map((d) =>
    (d.payloadkeys ?? []).map((k) => ({ ...k, supportedOS: withFileOs(d, primary, k) })),
  );
  const keys = unionKeys(perFile).map((k) => interner.node(k));
  return { ...(os === undefined ? {} : { os }), keys, files: ordered.map((d) => d.file) };
}

function withFileOs(doc: RawDoc, primary: RawDoc, key: RawKey): unknown {
  if (doc === primary) return key.supportedOS;
  const fileOs: OsTable = normaliseOsTable(doc.payload.supportedOS);
  const own = normaliseOsTable(key.supportedOS);
  const out: Record<string, unknown> = {};
  for (const p of Object.keys({ ...fileOs, ...own }) as (keyof OsTable)[]) {
    out[p] = { ...fileOs[p], ...own[p] };
  }
  return out;
}

/** Builds an area from `docs`, keyed by `payload[field]`. */
export function buildArea(docs: readonly RawDoc[], field: string): BuiltArea {
  const interner = new Interner();
  const entries = new Map<string, EntryFacts>();
  for (const [name, group] of groupBy(docs, field)) {
    entries.set(name, entryOf(interner, name, group));
  }
  return { interner, entries };
}

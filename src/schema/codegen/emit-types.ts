/**
 * Writes TypeScript types for a built area: one object type per entry, named types for
 * structures shared by several parents (which is also how recursive structures get a
 * name to refer to), literal unions for `rangelist`s and enumerated values.
 */
import type { FactValue, KeyFacts } from '../facts.js';
import type { BuiltArea } from './areas.js';

/** How to name and shape the types of one area. */
export interface TypeNaming {
  /** Type name of an entry, e.g. `DeviceInformationCommand`. */
  entryName(entry: string): string;
  /** Prefix of named shared structures, e.g. `Command`. */
  prefix: string;
  /** Property added to every entry type, e.g. `RequestType`; undefined for none. */
  discriminator?: string;
  /** Whether `presence: required` makes a property required. */
  requiredKeys: boolean;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** PascalCase of the alphanumeric runs of `s`, keeping inner capitals. */
export function pascal(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
    .join('');
}

class TypeWriter {
  private readonly shared = new Map<number, string>();
  private readonly used = new Set<string>();
  readonly declarations: string[] = [];

  constructor(
    private readonly area: BuiltArea,
    private readonly naming: TypeNaming,
  ) {}

  /** Names every container referenced by more than one parent (call after naming the entries). */
  nameShared(): void {
    const { interner, entries } = this.area;
    const refs = new Map<number, number>();
    const count = (id: number): void => {
      refs.set(id, (refs.get(id) ?? 0) + 1);
    };
    for (const entry of entries.values())
      [...entry.keys, ...(entry.responseKeys ?? [])].forEach(count);
    for (const n of interner.nodes) n.subkeys?.forEach(count);
    interner.nodes.forEach((n, id) => {
      const container = n.type === 'dictionary' || n.type === 'array';
      if ((refs.get(id) ?? 0) > 1 && container && (n.subkeys?.length ?? 0) > 0) {
        const base = pascal(interner.names.get(id) ?? n.key);
        this.shared.set(id, this.unique(this.naming.prefix + base));
      }
    });
  }

  unique(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}${i}`;
    this.used.add(name);
    return name;
  }

  /** Emits the named shared structures (after all entries, so names are stable). */
  emitShared(): void {
    for (const [id, name] of [...this.shared].sort(([a], [b]) => a - b)) {
      this.declarations.push(`export type ${name} = ${this.valueType(this.node(id))};`);
    }
  }

  node(id: number): KeyFacts {
    const n = this.area.interner.nodes[id];
    if (!n) throw new Error(`node ${id} missing`);
    return n;
  }

  ref(id: number): string {
    return this.shared.get(id) ?? this.valueType(this.node(id));
  }

  valueType(n: KeyFacts): string {
    const subkeys = n.subkeys ?? [];
    switch (n.type) {
      case 'string':
      case 'integer':
      case 'boolean':
        if (n.rangelist) return literals(n.rangelist, n.type);
        if (subkeys.length > 0 && n.type === 'string') {
          return subkeys.map((id) => JSON.stringify(this.node(id).key)).join(' | ');
        }
        return n.type === 'integer' ? 'number' : n.type;
      case 'real':
        return 'number | PlistReal';
      case 'data':
        return 'Uint8Array';
      case 'date':
        return 'Date';
      case 'any':
        return 'PlistValue';
      case 'array':
        return subkeys.length === 0
          ? 'PlistValue[]'
          : `(${subkeys.map((id) => this.ref(id)).join(' | ')})[]`;
      case 'dictionary':
        return subkeys.length === 0 ? 'PlistDict' : this.objectType(subkeys, undefined);
    }
  }

  objectType(ids: readonly number[], head: string | undefined): string {
    const props: string[] = head === undefined ? [] : [head];
    for (const id of ids) {
      const n = this.node(id);
      if (n.key === 'ANY') {
        props.push('[key: string]: PlistValue | undefined');
        continue;
      }
      const name = IDENT.test(n.key) ? n.key : JSON.stringify(n.key);
      const required = this.naming.requiredKeys && n.required === true && n.os === undefined;
      props.push(`${name}${required ? '' : '?'}: ${this.ref(id)}`);
    }
    return `{ ${props.join('; ')} }`;
  }
}

function literals(list: readonly FactValue[], type: string): string {
  const jsType = type === 'integer' ? 'number' : type;
  if (!list.every((v) => typeof v === jsType)) return jsType;
  return list.map((v) => JSON.stringify(v)).join(' | ');
}

/** Renders the types module of `area`: entry types, shared structures and a map type named `mapName`. */
export function emitTypes(
  area: BuiltArea,
  naming: TypeNaming,
  mapName: string,
  responseMapName?: string,
): string {
  const w = new TypeWriter(area, naming);
  const map: string[] = [];
  const responses: string[] = [];
  const names = new Map([...area.entries.keys()].map((e) => [e, w.unique(naming.entryName(e))]));
  const responseNames = new Map(
    [...area.entries]
      .filter(([, f]) => responseMapName && f.responseKeys)
      .map(([e]) => [e, w.unique(`${pascal(e)}Response`)]),
  );
  w.nameShared();
  for (const [entry, facts] of area.entries) {
    const name = names.get(entry) ?? '';
    const head = naming.discriminator
      ? `${naming.discriminator}: ${JSON.stringify(entry)}`
      : undefined;
    w.declarations.push(`export type ${name} = ${w.objectType(facts.keys, head)};`);
    map.push(`  ${JSON.stringify(entry)}: ${name};`);
    const rname = responseNames.get(entry);
    if (rname && facts.responseKeys) {
      w.declarations.push(`export type ${rname} = ${w.objectType(facts.responseKeys, undefined)};`);
      responses.push(`  ${JSON.stringify(entry)}: ${rname};`);
    }
  }
  w.emitShared();
  const out = [...w.declarations, '', `export interface ${mapName} {`, ...map, '}'];
  if (responseMapName) out.push('', `export interface ${responseMapName} {`, ...responses, '}');
  return out.join('\n') + '\n';
}

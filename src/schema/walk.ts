/**
 * The schema validator core: walks a value (the data drives the walk, so shared and
 * recursive schema structures cost nothing) against generated key facts, collecting
 * structural issues and, for every place whose availability differs from its parent,
 * a {@link Usage} to judge later against a target.
 */
import type { ValidationIssue } from '../errors.js';
import type { PlistDict, PlistValue } from '../protocol/plist.js';
import type { KeyFacts, OsTable, SchemaArea } from './facts.js';
import { overlayOs } from './target.js';
import { checkScalar, isDict, typeMatches, typeName } from './values.js';

/** A place in the value whose effective availability is `table` (its parent's was `parent`). */
export interface Usage {
  readonly path: string;
  /** Subject of messages: the key name, payload type or request type. */
  readonly label: string;
  readonly table: OsTable | undefined;
  readonly parent?: OsTable | undefined;
  /** `missing`: a conditionally required key that is absent; reported where it applies. */
  readonly kind: 'present' | 'missing';
  /** Payload type of the enclosing profile payload, for messages and summaries. */
  readonly payloadType?: string;
}

/** Options of a {@link SchemaWalker}. */
export interface WalkOptions {
  /** Report unknown keys as warnings instead of errors (inbound messages). */
  readonly lenient?: boolean;
  /** Maximum nesting before the walk stops with a `too-deep` issue. */
  readonly maxDepth?: number;
}

/** Joins a dictionary key to a path (`A.B`, or `A["Key Type"]` for keys that are not identifiers). */
export function keyPath(path: string, key: string): string {
  if (!/^[A-Za-z0-9_$-]+$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Walks values against one area's facts, accumulating issues and usages. */
export class SchemaWalker {
  readonly issues: ValidationIssue[] = [];
  readonly usages: Usage[] = [];
  payloadType: string | undefined;
  private readonly maps = new WeakMap<readonly number[], Map<string, KeyFacts>>();
  private readonly maxDepth: number;

  constructor(
    readonly area: SchemaArea,
    private readonly options: WalkOptions = {},
  ) {
    this.maxDepth = options.maxDepth ?? 64;
  }

  /** Records an issue. */
  issue(
    path: string,
    code: string,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ): void {
    this.issues.push({ path, code, message, severity });
  }

  /** Records a usage at `path`. */
  use(
    path: string,
    label: string,
    table: OsTable | undefined,
    parent?: OsTable,
    kind: Usage['kind'] = 'present',
  ): void {
    const usage: Usage = {
      path,
      label,
      table,
      parent,
      kind,
      ...(this.payloadType ? { payloadType: this.payloadType } : {}),
    };
    this.usages.push(usage);
  }

  node(id: number): KeyFacts {
    const n = this.area.nodes[id];
    if (!n) throw new Error(`schema node ${id} missing`);
    return n;
  }

  private keyMap(ids: readonly number[]): Map<string, KeyFacts> {
    let map = this.maps.get(ids);
    if (!map) {
      map = new Map(ids.map((id) => [this.node(id).key, this.node(id)]));
      this.maps.set(ids, map);
    }
    return map;
  }

  private effective(
    n: KeyFacts,
    eff: OsTable | undefined,
    path: string,
    kind: Usage['kind'],
  ): OsTable | undefined {
    if (n.os === undefined) return eff;
    const own = this.area.osTables[n.os];
    if (!own) return eff;
    const table = overlayOs(eff, own);
    this.use(path, n.key, table, eff, kind);
    return table;
  }

  /**
   * Checks the keys of `dict` against `ids`; keys in `opaque` are type-checked but not
   * descended into (the caller handles them).
   */
  dict(
    dict: PlistDict,
    ids: readonly number[],
    path: string,
    eff: OsTable | undefined,
    depth = 0,
    opaque?: ReadonlySet<string>,
  ): void {
    const map = this.keyMap(ids);
    const any = map.get('ANY');
    for (const [key, value] of Object.entries(dict)) {
      // An undefined value is an absent key, as for the plist encoder.
      if ((value as PlistValue | undefined) === undefined) continue;
      const here = keyPath(path, key);
      const n = map.get(key) ?? any;
      if (!n) {
        const severity = this.options.lenient === true ? 'warning' : 'error';
        this.issue(here, 'unknown-key', `${key} is not a key of this dictionary`, severity);
        continue;
      }
      const keyEff = n === any ? eff : this.effective(n, eff, here, 'present');
      if (opaque?.has(key) === true) {
        if (!typeMatches(value, n.type)) this.wrongType(here, n, value);
        continue;
      }
      this.value(value, n, here, keyEff, depth + 1);
    }
    for (const n of map.values()) {
      if (n.required !== true || n.key === 'ANY' || dict[n.key] !== undefined) continue;
      const here = keyPath(path, n.key);
      if (n.os === undefined) this.issue(here, 'missing-key', `required key ${n.key} is missing`);
      else this.effective(n, eff, here, 'missing');
    }
  }

  private wrongType(path: string, n: KeyFacts, value: PlistValue): void {
    this.issue(
      path,
      'wrong-type',
      `expected ${n.type === 'integer' || n.type === 'array' ? 'an' : 'a'} ${n.type}, got ${typeName(value)}`,
    );
  }

  /** Checks one value against its key spec, descending into containers. */
  value(
    value: PlistValue,
    n: KeyFacts,
    path: string,
    eff: OsTable | undefined,
    depth: number,
  ): void {
    if (depth > this.maxDepth) {
      this.issue(path, 'too-deep', `nesting deeper than ${this.maxDepth} levels`);
      return;
    }
    if (!typeMatches(value, n.type)) {
      this.wrongType(path, n, value);
      return;
    }
    if (Array.isArray(value)) {
      this.array(value, n, path, eff, depth);
    } else if (n.type === 'dictionary' && isDict(value)) {
      if (n.subkeys && n.subkeys.length > 0) this.dict(value, n.subkeys, path, eff, depth);
    } else {
      for (const [code, message] of checkScalar(value, n)) this.issue(path, code, message);
      this.enumerated(value, n, path, eff);
    }
  }

  /** A scalar spec with subkeys enumerates its allowed values, each with its own availability. */
  private enumerated(value: PlistValue, n: KeyFacts, path: string, eff: OsTable | undefined): void {
    if (!n.subkeys || n.subkeys.length === 0 || typeof value !== 'string') return;
    const match = n.subkeys
      .map((id) => this.node(id))
      .find((s) => s.key === value || s.key === 'ANY');
    if (!match) {
      this.issue(
        path,
        'not-in-rangelist',
        `${JSON.stringify(value)} is not one of the allowed values`,
      );
      return;
    }
    this.effective(match, eff, path, 'present');
  }

  private array(
    value: PlistValue[],
    n: KeyFacts,
    path: string,
    eff: OsTable | undefined,
    depth: number,
  ): void {
    const items = (n.subkeys ?? []).map((id) => this.node(id));
    // Apple sometimes puts an array's element count on its scalar item spec (SCEP Subject pairs).
    const only = items.length === 1 ? items[0] : undefined;
    const { min, max } =
      n.repetition ?? (only && only.type !== 'array' ? only.repetition : undefined) ?? {};
    if (min !== undefined && value.length < min) {
      this.issue(path, 'repetition', `needs at least ${min} elements, has ${value.length}`);
    }
    if (max !== undefined && value.length > max) {
      this.issue(path, 'repetition', `allows at most ${max} elements, has ${value.length}`);
    }
    value.forEach((item, i) => {
      const spec = items.length > 1 ? this.variant(item, items) : items[0];
      const here = `${path}[${i}]`;
      if (spec === undefined && items.length > 1) {
        this.issue(here, 'unknown-variant', 'matches none of the allowed item shapes');
      } else if (spec !== undefined) {
        this.value(
          item,
          n.rangelist && !spec.rangelist ? { ...spec, rangelist: n.rangelist } : spec,
          here,
          eff,
          depth + 1,
        );
      }
    });
  }

  /** Polymorphic arrays (`Settings`): the dictionary variant whose discriminating rangelist holds the item's value. */
  private variant(item: PlistValue, items: readonly KeyFacts[]): KeyFacts | undefined {
    if (!isDict(item)) return undefined;
    return items.find((spec) =>
      (spec.subkeys ?? []).some((id) => {
        const k = this.node(id);
        const v = item[k.key];
        return k.rangelist !== undefined && v !== undefined && k.rangelist.some((r) => r === v);
      }),
    );
  }
}

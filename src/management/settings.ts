/**
 * Settings inheritance, the resolution half (rules A1-A3): which group a page's effective values
 * come from, in which mode, under which Child Permission, and whether a stored override is
 * dormant. Pure functions over a {@link GroupTree} and a per-page record index; the planners in
 * `settings-plan.ts` and `reparent.ts` build on them.
 */
import type { ChildPermission, SettingsRecord } from '../storage/ports.js';
import { completeValues, type SettingsPage } from './pages.js';
import type { GroupTree } from './tree.js';

/** Effective settings of one page at one group. */
export interface EffectiveSettings {
  groupId: string;
  page: string;
  /** Complete values: page defaults overlaid with the source's stored values. */
  values: Record<string, unknown>;
  /** Where the values come from (A3). */
  sourceGroupId: string;
  /** Effective mode (A2). */
  currentSetting: 'inherit' | 'override';
  /** Effective Child Permission, from the source (A3). */
  childPermission: ChildPermission;
  /** A stored override suppressed by an ancestor's Inherit-Only (A6). */
  dormant: boolean;
  /** The ancestor whose effective Child Permission forces the mode, when one does. */
  lockedBy?: string;
}

/** The stored overrides of one page, by group id. */
export type PageRecords = ReadonlyMap<string, SettingsRecord>;

/** Every stored override, by page id then group id. */
export type RecordIndex = ReadonlyMap<string, PageRecords>;

const NONE: PageRecords = new Map();

/** Indexes `records` by page and group; a later duplicate replaces an earlier one. */
export function indexSettings(records: readonly SettingsRecord[]): RecordIndex {
  const out = new Map<string, Map<string, SettingsRecord>>();
  for (const r of records) {
    let page = out.get(r.page);
    if (!page) out.set(r.page, (page = new Map<string, SettingsRecord>()));
    page.set(r.groupId, r);
  }
  return out;
}

/** The records of one page (empty when none is stored). */
export function pageRecords(index: RecordIndex, page: string): PageRecords {
  return index.get(page) ?? NONE;
}

/** Looks up the stored override of a group, or `undefined`. */
export type RecordLookup = (groupId: string) => SettingsRecord | undefined;

/**
 * The effective settings of a non-root group from its parent's and its own stored record (A2,
 * A3). A group forced to Override without a record (which planners never leave behind) resolves
 * as the copy A8 would have materialized: its parent's values, Inherit-or-Override.
 */
export function resolveChild(
  page: SettingsPage,
  groupId: string,
  parent: EffectiveSettings,
  record: SettingsRecord | undefined,
): EffectiveSettings {
  const cp = parent.childPermission;
  const override = cp === 'override-only' || (cp === 'inherit-or-override' && record !== undefined);
  // Plain literals, no spreads: this runs once per group on every write (see the bench).
  const eff: EffectiveSettings = override
    ? {
        groupId,
        page: page.id,
        values: record ? completeValues(page, record.values) : parent.values,
        sourceGroupId: groupId,
        currentSetting: 'override',
        childPermission: record?.childPermission ?? 'inherit-or-override',
        dormant: false,
      }
    : {
        groupId,
        page: page.id,
        values: parent.values,
        sourceGroupId: parent.sourceGroupId,
        currentSetting: 'inherit',
        childPermission: cp,
        dormant: record !== undefined,
      };
  if (cp !== 'inherit-or-override') eff.lockedBy = parent.sourceGroupId;
  return eff;
}

/** The root's effective settings (A1): always Override, defaults when it stores nothing. */
export function resolveRoot(
  page: SettingsPage,
  rootId: string,
  record: SettingsRecord | undefined,
): EffectiveSettings {
  return {
    groupId: rootId,
    page: page.id,
    values: completeValues(page, record?.values),
    sourceGroupId: rootId,
    currentSetting: 'override',
    childPermission: record?.childPermission ?? 'inherit-or-override',
    dormant: false,
  };
}

/** A memoizing resolver of one page over one snapshot. */
export interface SettingsResolver {
  /** The effective settings of `groupId`; throws TypeError when the group is unknown. */
  resolve(groupId: string): EffectiveSettings;
  /** `groupId` and every group below it, parents first, each resolved once (O(subtree)). */
  resolveSubtree(groupId: string): Map<string, EffectiveSettings>;
}

/**
 * Creates a resolver of `page` over `tree` and `lookup`: each group is resolved at most once,
 * from its memoized parent, so resolving a group costs its depth the first time and O(1) after.
 */
export function createResolver(
  tree: GroupTree,
  page: SettingsPage,
  lookup: RecordLookup,
): SettingsResolver {
  const memo = new Map<string, EffectiveSettings>();
  const one = (id: string, parent: EffectiveSettings | undefined): EffectiveSettings => {
    const eff =
      parent === undefined
        ? resolveRoot(page, id, lookup(id))
        : resolveChild(page, id, parent, lookup(id));
    memo.set(id, eff);
    return eff;
  };
  const resolve = (groupId: string): EffectiveSettings => {
    const hit = memo.get(groupId);
    if (hit) return hit;
    const chain = tree.chain(groupId);
    if (chain.length === 0) throw new TypeError(`unknown organization group ${groupId}`);
    // The nearest memoized ancestor, else the root; then down the chain from there.
    let i = 1;
    while (i < chain.length && !memo.has(chain[i] as string)) i++;
    let eff: EffectiveSettings;
    if (i < chain.length) eff = memo.get(chain[i] as string) as EffectiveSettings;
    else eff = one(chain[--i] as string, undefined);
    for (i--; i >= 0; i--) eff = one(chain[i] as string, eff);
    return eff;
  };
  return {
    resolve,
    resolveSubtree(groupId) {
      const out = new Map<string, EffectiveSettings>();
      for (const id of tree.subtree(groupId)) {
        const group = tree.get(id);
        const parent = group?.parentId === undefined ? undefined : out.get(group.parentId);
        const eff = memo.get(id) ?? (parent ? one(id, parent) : resolve(id));
        out.set(id, eff);
      }
      return out;
    },
  };
}

/**
 * The effective settings of `page` at `groupId` (A1-A3). Throws TypeError when the group is
 * unknown; a resolver ({@link createResolver}) is cheaper for many groups of one snapshot.
 */
export function resolveSettings(
  tree: GroupTree,
  records: PageRecords,
  groupId: string,
  page: SettingsPage,
): EffectiveSettings {
  return createResolver(tree, page, (id) => records.get(id)).resolve(groupId);
}

/** Whether two effective settings differ in what devices see: values or Child Permission. */
export function effectiveChanged(a: EffectiveSettings, b: EffectiveSettings): boolean {
  return a.childPermission !== b.childPermission || !sameValues(a.values, b.values);
}

/** Equal page values: the same keys (both complete) with equal JSON values. */
function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a === b) return true;
  for (const key in a) {
    const x = a[key];
    const y = b[key];
    // Values are JSON: primitives compare directly, arrays and objects by their JSON.
    if (x !== y && (typeof x !== 'object' || JSON.stringify(x) !== JSON.stringify(y))) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}

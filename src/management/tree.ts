/**
 * The organization-group tree as an index over group records: parent and children lookups,
 * ancestor chains and subtree walks, each linear in what it returns. Built once per snapshot;
 * the inheritance rules and the scope checks both read it.
 */
import { ROOT_GROUP_ID, type OrgGroupRecord } from '../storage/ports.js';

/** A read-only index of one snapshot of the group tree. */
export interface GroupTree {
  /** The root's id ({@link ROOT_GROUP_ID}). */
  readonly rootId: string;
  /** Number of groups. */
  readonly size: number;
  /** The group, or `undefined`. */
  get(id: string): OrgGroupRecord | undefined;
  /** The direct children of `id` (empty when it has none or is unknown). */
  children(id: string): readonly OrgGroupRecord[];
  /** `id` and its ancestors, nearest first, ending at the root; empty when `id` is unknown. */
  chain(id: string): string[];
  /** Whether `id` is `ancestor` or lies below it. */
  isWithin(id: string, ancestor: string): boolean;
  /** `id` and every group below it, parents before children; empty when unknown. */
  subtree(id: string): string[];
  /** Every group record, in no particular order. */
  groups(): readonly OrgGroupRecord[];
  /** The names from the root down to `id` (e.g. `['Global', 'Europe', 'Paris']`); empty when unknown. */
  path(id: string): string[];
}

/**
 * Indexes `groups`. Throws TypeError when the root is missing, a parent is unknown or the
 * parent links form a cycle: a store never holds such a tree.
 */
export function buildGroupTree(groups: readonly OrgGroupRecord[]): GroupTree {
  const byId = new Map<string, OrgGroupRecord>();
  const kids = new Map<string, OrgGroupRecord[]>();
  for (const g of groups) {
    byId.set(g.id, g);
    if (g.parentId === undefined) continue;
    const list = kids.get(g.parentId);
    if (list) list.push(g);
    else kids.set(g.parentId, [g]);
  }
  if (byId.get(ROOT_GROUP_ID)?.parentId !== undefined || !byId.has(ROOT_GROUP_ID))
    throw new TypeError('the group tree has no root');
  for (const g of groups)
    if (g.parentId !== undefined && !byId.has(g.parentId))
      throw new TypeError(`group ${g.id} has an unknown parent ${g.parentId}`);
  const tree: GroupTree = {
    rootId: ROOT_GROUP_ID,
    size: byId.size,
    get: (id) => byId.get(id),
    children: (id) => kids.get(id) ?? [],
    chain(id) {
      const out: string[] = [];
      for (
        let g = byId.get(id);
        g;
        g = g.parentId === undefined ? undefined : byId.get(g.parentId)
      ) {
        out.push(g.id);
        if (out.length > byId.size) throw new TypeError('the group tree has a cycle');
      }
      return out;
    },
    isWithin(id, ancestor) {
      for (let g = byId.get(id), n = 0; g && n <= byId.size; n++) {
        if (g.id === ancestor) return true;
        g = g.parentId === undefined ? undefined : byId.get(g.parentId);
      }
      return false;
    },
    subtree(id) {
      if (!byId.has(id)) return [];
      const out = [id];
      for (let i = 0; i < out.length; i++)
        for (const child of kids.get(out[i] as string) ?? []) out.push(child.id);
      return out;
    },
    groups: () => groups,
    path: (id) =>
      tree
        .chain(id)
        .map((g) => byId.get(g)?.name ?? g)
        .reverse(),
  };
  if (tree.subtree(ROOT_GROUP_ID).length !== byId.size)
    throw new TypeError('the group tree has a cycle');
  return tree;
}

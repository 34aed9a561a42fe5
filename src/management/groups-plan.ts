/**
 * Planners of changes to the group tree itself (rule A11): creating a group (A8 applies to a new
 * child of an Override-Only parent), moving one under another parent (its subtree recomputed
 * under the new parent's constraints, per page) and deleting an empty one. Pure: each returns a
 * change to apply plus a report, and throws ManagementError when a rule refuses.
 */
import { ManagementError } from '../errors.js';
import type { ManagementChange, OrgGroupRecord, SettingsRecord } from '../storage/ports.js';
import { SETTINGS_PAGES, type SettingsPage } from './pages.js';
import { createResolver, pageRecords, type RecordIndex } from './settings.js';
import { recomputeSubtree, type SettingsReport } from './settings-plan.js';
import { buildGroupTree, type GroupTree } from './tree.js';

/** A planned change to the tree with its settings report per page. */
export interface GroupPlan {
  change: ManagementChange;
  /** One report per page (only pages where something happens are worth showing). */
  reports: SettingsReport[];
  /** The tree after the change. */
  tree: GroupTree;
}

function notFound(groupId: string): ManagementError {
  return new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
    group: groupId,
  });
}

/**
 * Plans adding `group` under its `parentId`: a page whose effective Child Permission there is
 * Override-Only gets a stored copy of the parent's values (A8). Throws ManagementError 404
 * `ERR_GROUP_NOT_FOUND` (naming the parent) when the parent is unknown; TypeError when `group`
 * has no parent or its id is taken.
 */
export function planCreateGroup(
  tree: GroupTree,
  index: RecordIndex,
  group: OrgGroupRecord,
  now: Date,
  pages: readonly SettingsPage[] = SETTINGS_PAGES,
): GroupPlan {
  if (group.parentId === undefined) throw new TypeError('a new group needs a parent');
  if (tree.get(group.id) !== undefined) throw new TypeError(`group id ${group.id} is taken`);
  if (tree.get(group.parentId) === undefined) throw notFound(group.parentId);
  const after = buildGroupTree([...tree.groups(), group]);
  const puts: SettingsRecord[] = [];
  const reports = pages.map((page) => {
    const records = pageRecords(index, page.id);
    const parent = createResolver(tree, page, (id) => records.get(id)).resolve(
      group.parentId as string,
    );
    const result = recomputeSubtree({
      tree: after,
      page,
      top: group.id,
      parent,
      lookup: () => undefined,
      before: new Map(),
      now,
    });
    puts.push(...result.puts);
    return result.report;
  });
  return {
    change: { putGroups: [group], ...(puts.length > 0 ? { putSettings: puts } : {}) },
    reports,
    tree: after,
  };
}

/**
 * Plans moving `groupId` under `parentId` (A11): every page of its subtree is recomputed under
 * the new parent's constraints (A6 suppresses overrides below an Inherit-Only parent, A8
 * materializes copies below an Override-Only one) and reported. Throws ManagementError: 404
 * `ERR_GROUP_NOT_FOUND`, 409 `ERR_GROUP_ROOT` (the root cannot move), 409 `ERR_GROUP_CYCLE` (the
 * new parent lies in the moved subtree).
 */
export function planReparent(
  tree: GroupTree,
  index: RecordIndex,
  groupId: string,
  parentId: string,
  now: Date,
  pages: readonly SettingsPage[] = SETTINGS_PAGES,
): GroupPlan {
  const group = tree.get(groupId);
  if (group === undefined) throw notFound(groupId);
  if (tree.get(parentId) === undefined) throw notFound(parentId);
  if (group.parentId === undefined)
    throw new ManagementError('ERR_GROUP_ROOT', 'the root group cannot move', { group: groupId });
  if (tree.isWithin(parentId, groupId))
    throw new ManagementError(
      'ERR_GROUP_CYCLE',
      `${parentId} lies within ${groupId}: moving it there would make a cycle`,
      { group: parentId },
    );
  const moved: OrgGroupRecord = { ...group, parentId };
  const after = buildGroupTree(tree.groups().map((g) => (g.id === groupId ? moved : g)));
  const puts: SettingsRecord[] = [];
  const reports = pages.map((page) => {
    const records = pageRecords(index, page.id);
    const lookup = (id: string) => records.get(id);
    const result = recomputeSubtree({
      tree: after,
      page,
      top: groupId,
      parent: createResolver(after, page, lookup).resolve(parentId),
      lookup,
      before: createResolver(tree, page, lookup).resolveSubtree(groupId),
      now,
    });
    puts.push(...result.puts);
    return result.report;
  });
  return {
    change: { putGroups: [moved], ...(puts.length > 0 ? { putSettings: puts } : {}) },
    reports,
    tree: after,
  };
}

/** What still belongs to a group about to be deleted, besides its child groups. */
export interface GroupContents {
  /** Library profiles it owns. */
  profiles: number;
  /** Active administrators scoped at it. */
  administrators: number;
  /** Users it owns (any number above 0 refuses); default 0. */
  users?: number;
}

/**
 * Plans deleting `groupId` with its settings records (A11). Devices are not yet attached to
 * groups, so only children, owned library profiles and users, and administrators scoped at it
 * keep a group alive. Throws ManagementError: 404 `ERR_GROUP_NOT_FOUND`, 409 `ERR_GROUP_ROOT`, 409
 * `ERR_GROUP_NOT_EMPTY` (naming the group).
 */
export function planDeleteGroup(
  tree: GroupTree,
  groupId: string,
  contents: GroupContents,
): ManagementChange {
  const group = tree.get(groupId);
  if (group === undefined) throw notFound(groupId);
  if (group.parentId === undefined)
    throw new ManagementError('ERR_GROUP_ROOT', 'the root group cannot be deleted', {
      group: groupId,
    });
  const children = tree.children(groupId).length;
  const { profiles, administrators, users = 0 } = contents;
  if (children + profiles + administrators + users > 0)
    throw new ManagementError(
      'ERR_GROUP_NOT_EMPTY',
      `${groupId} still has ${children} child group(s), ${profiles} profile(s), ${administrators} administrator(s) and ${users > 0 ? 'users' : 'no users'}`,
      { group: groupId },
    );
  return { deleteGroups: [groupId] };
}

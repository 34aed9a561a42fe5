/**
 * Helpers of the settings-inheritance tests: a tree from a compact spec, an in-memory world that
 * applies plans to a record map, and a naive reference resolver written straight from A1-A3.
 */
import {
  PROFILE_OPTIONS_PAGE,
  completeValues,
  type SettingsPage,
} from '../../src/management/pages.js';
import {
  indexSettings,
  pageRecords,
  resolveSettings,
  type EffectiveSettings,
  type PageRecords,
} from '../../src/management/settings.js';
import {
  planSettingsWrite,
  type SettingsPlan,
  type SettingsWrite,
} from '../../src/management/settings-plan.js';
import { buildGroupTree, type GroupTree } from '../../src/management/tree.js';
import {
  ROOT_GROUP_ID,
  type ChildPermission,
  type ManagementChange,
  type OrgGroupRecord,
  type SettingsRecord,
} from '../../src/storage/ports.js';

/** A fixed instant for records. */
export const NOW = new Date('2026-12-07T00:00:00Z');

/** The tree the rule tests use: Global > EU > FR > Paris, EU > DE, Global > US. */
export const SPEC = { eu: 'global', fr: 'eu', paris: 'fr', de: 'eu', us: 'global' };
/** `profile-options` values with Interactive on and off. */
export const ON = { interactiveEnabled: true };
export const OFF = { interactiveEnabled: false };

/** Groups from `child: parent` pairs; the root `global` is added. */
export function groupsOf(spec: Record<string, string>): OrgGroupRecord[] {
  return [
    { id: ROOT_GROUP_ID, name: 'Global', createdAt: NOW },
    ...Object.entries(spec).map(([id, parentId]) => ({ id, name: id, parentId, createdAt: NOW })),
  ];
}

/** A stored override of `profile-options` (or `page`). */
export function rec(
  groupId: string,
  childPermission: ChildPermission,
  values: Record<string, unknown> = { interactiveEnabled: true },
  page = PROFILE_OPTIONS_PAGE.id,
): SettingsRecord {
  return { groupId, page, values, childPermission, updatedAt: NOW };
}

/** Groups and records that plans are applied to, as a store would. */
export class World {
  groups: OrgGroupRecord[];
  records: SettingsRecord[];
  constructor(spec: Record<string, string>, records: SettingsRecord[] = []) {
    this.groups = groupsOf(spec);
    this.records = records;
  }
  get tree(): GroupTree {
    return buildGroupTree(this.groups);
  }
  page(page: SettingsPage = PROFILE_OPTIONS_PAGE): PageRecords {
    return pageRecords(indexSettings(this.records), page.id);
  }
  eff(groupId: string, page: SettingsPage = PROFILE_OPTIONS_PAGE): EffectiveSettings {
    return resolveSettings(this.tree, this.page(page), groupId, page);
  }
  stored(groupId: string, page = PROFILE_OPTIONS_PAGE.id): SettingsRecord | undefined {
    return this.records.find((r) => r.groupId === groupId && r.page === page);
  }
  plan(
    groupId: string,
    write: SettingsWrite,
    page: SettingsPage = PROFILE_OPTIONS_PAGE,
  ): SettingsPlan {
    return planSettingsWrite(this.tree, this.page(page), groupId, page, write, NOW);
  }
  /** Plans and applies a write; the plan. */
  write(
    groupId: string,
    write: SettingsWrite,
    page: SettingsPage = PROFILE_OPTIONS_PAGE,
  ): SettingsPlan {
    const plan = this.plan(groupId, write, page);
    this.apply(plan.change);
    return plan;
  }
  apply(change: ManagementChange): void {
    const key = (r: { groupId: string; page: string }) => `${r.groupId}/${r.page}`;
    const gone = new Set([...(change.deleteSettings ?? [])].map(key));
    const deletedGroups = new Set(change.deleteGroups ?? []);
    const put = new Map((change.putSettings ?? []).map((r) => [key(r), r]));
    this.records = [
      ...this.records.filter(
        (r) => !gone.has(key(r)) && !put.has(key(r)) && !deletedGroups.has(r.groupId),
      ),
      ...put.values(),
    ];
    const putGroups = new Map((change.putGroups ?? []).map((g) => [g.id, g]));
    this.groups = [
      ...this.groups.filter((g) => !putGroups.has(g.id) && !deletedGroups.has(g.id)),
      ...putGroups.values(),
    ];
  }
}

/**
 * Effective settings straight from A1-A3, recursively and without memo or index: the reference
 * the engine is checked against.
 */
export function naiveResolve(
  groups: readonly OrgGroupRecord[],
  records: readonly SettingsRecord[],
  groupId: string,
  page: SettingsPage,
): EffectiveSettings {
  const group = groups.find((g) => g.id === groupId);
  if (group === undefined) throw new TypeError('unknown');
  const record = records.find((r) => r.groupId === groupId && r.page === page.id);
  const own = (lockedBy?: string): EffectiveSettings => ({
    groupId,
    page: page.id,
    values: completeValues(page, record?.values),
    sourceGroupId: groupId,
    currentSetting: 'override',
    childPermission: record?.childPermission ?? 'inherit-or-override',
    dormant: false,
    ...(lockedBy === undefined ? {} : { lockedBy }),
  });
  if (group.parentId === undefined) return own();
  const parent = naiveResolve(groups, records, group.parentId, page);
  const cp = parent.childPermission;
  const lock = cp === 'inherit-or-override' ? undefined : parent.sourceGroupId;
  const mode =
    cp === 'inherit-only'
      ? 'inherit'
      : cp === 'override-only'
        ? 'override'
        : record
          ? 'override'
          : 'inherit';
  if (mode === 'override' && record === undefined) return { ...own(lock), values: parent.values };
  if (mode === 'override') return own(lock);
  return {
    groupId,
    page: page.id,
    values: parent.values,
    sourceGroupId: parent.sourceGroupId,
    currentSetting: 'inherit',
    childPermission: cp,
    dormant: record !== undefined,
    ...(lock === undefined ? {} : { lockedBy: lock }),
  };
}

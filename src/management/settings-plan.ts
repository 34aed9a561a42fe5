/**
 * Settings inheritance, the planning half (rules A4-A10): a write at one group becomes a change
 * (records to put and delete) plus a report of what it does to the group's subtree. Planners
 * never mutate their input; the caller applies the change (optimistically) or, for a dry run,
 * only shows the report.
 */
import { ManagementError } from '../errors.js';
import type { ChildPermission, ManagementChange, SettingsRecord } from '../storage/ports.js';
import type { SettingsPage } from './pages.js';
import {
  createResolver,
  effectiveChanged,
  resolveChild,
  type EffectiveSettings,
  type PageRecords,
  type RecordLookup,
} from './settings.js';
import type { GroupTree } from './tree.js';

/** One group whose effective page changed (A10's `SettingsChanged`). */
export interface SettingsChange {
  groupId: string;
  page: string;
  before: EffectiveSettings;
  after: EffectiveSettings;
}

/** What a planned change does to one page below the group it touches. */
export interface SettingsReport {
  page: string;
  /** Every group whose effective values or Child Permission change (A10), parents first. */
  changed: SettingsChange[];
  /** Groups whose stored override becomes dormant (A6). */
  suppressed: string[];
  /** Groups whose dormant override becomes effective again (A7). */
  reactivated: string[];
  /** Groups that get a copy of their previous effective values (A8). */
  materialized: string[];
  /** The stored override a switch to Inherit deleted (A5), to restore it. */
  undo?: SettingsRecord;
}

/** A change to apply and what it does, per page. */
export interface SettingsPlan {
  change: ManagementChange;
  reports: SettingsReport[];
  /** The written group's effective settings once the change applies. */
  effective: EffectiveSettings;
}

/** A write of one page at one group; every part optional. */
export interface SettingsWrite {
  currentSetting?: 'inherit' | 'override' | undefined;
  childPermission?: ChildPermission | undefined;
  /** Values to change (partial): overlaid on the current effective values, then validated. */
  values?: Record<string, unknown> | undefined;
}

/** Input of {@link recomputeSubtree}. */
export interface RecomputeInput {
  /** The tree after the change. */
  tree: GroupTree;
  page: SettingsPage;
  /** The top of the recomputed subtree. */
  top: string;
  /** The effective settings of `top`'s parent after the change; `undefined` for the root. */
  parent: EffectiveSettings | undefined;
  /** The stored records after the change, before any materialization. */
  lookup: RecordLookup;
  /** Effective settings before the change, for every group of the subtree that existed. */
  before: ReadonlyMap<string, EffectiveSettings>;
  now: Date;
}

/** What {@link recomputeSubtree} found. */
export interface Recomputed {
  report: SettingsReport;
  after: Map<string, EffectiveSettings>;
  /** Records A8 materializes: put them with the change. */
  puts: SettingsRecord[];
}

/**
 * Resolves `top`'s subtree after a change, top-down in O(subtree), and reports it against
 * `before`. A group forced to Override without a stored record gets one holding its previous
 * effective values, Inherit-or-Override (A8), so no device sees a change at that moment.
 */
export function recomputeSubtree(input: RecomputeInput): Recomputed {
  const { tree, page, before, now } = input;
  const report: SettingsReport = {
    page: page.id,
    changed: [],
    suppressed: [],
    reactivated: [],
    materialized: [],
  };
  const after = new Map<string, EffectiveSettings>();
  const puts: SettingsRecord[] = [];
  for (const id of tree.subtree(input.top)) {
    const parentId = tree.get(id)?.parentId;
    const parent = id === input.top ? input.parent : after.get(parentId ?? '');
    const old = before.get(id);
    let record = input.lookup(id);
    if (parent?.childPermission === 'override-only' && record === undefined) {
      const values = { ...(old?.values ?? parent.values) };
      record = {
        groupId: id,
        page: page.id,
        values,
        childPermission: 'inherit-or-override',
        updatedAt: now,
      };
      puts.push(record);
      report.materialized.push(id);
    }
    const eff = parent ? resolveChild(page, id, parent, record) : rootOf(input, id, record);
    after.set(id, eff);
    if (old === undefined) continue;
    if (effectiveChanged(old, eff))
      report.changed.push({ groupId: id, page: page.id, before: old, after: eff });
    if (eff.dormant && !old.dormant) report.suppressed.push(id);
    if (old.dormant && !eff.dormant) report.reactivated.push(id);
  }
  return { report, after, puts };
}

function rootOf(
  input: RecomputeInput,
  id: string,
  record: SettingsRecord | undefined,
): EffectiveSettings {
  return createResolver(input.tree, input.page, (g) => (g === id ? record : undefined)).resolve(id);
}

function unknownGroup(groupId: string): ManagementError {
  return new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
    group: groupId,
  });
}

/**
 * The mode a write leaves the group in, after A4's checks. Throws ManagementError: 409
 * `ERR_GROUP_ROOT` (the root cannot inherit), `ERR_LOCKED_BY_ANCESTOR` (an Inherit-Only ancestor
 * locks the group), `ERR_OVERRIDE_REQUIRED` (the parent is Override-Only),
 * `ERR_NOT_OVERRIDING` (values or Child Permission for a group that inherits).
 */
function targetMode(
  current: EffectiveSettings,
  parent: EffectiveSettings | undefined,
  stored: SettingsRecord | undefined,
  write: SettingsWrite,
): 'inherit' | 'override' {
  const wantsValues = write.values !== undefined || write.childPermission !== undefined;
  if (parent === undefined) {
    if (write.currentSetting === 'inherit')
      throw new ManagementError('ERR_GROUP_ROOT', 'the root group always overrides', {
        group: current.groupId,
      });
    return 'override';
  }
  const lock = parent.sourceGroupId;
  if (parent.childPermission === 'inherit-only') {
    if (write.currentSetting === 'inherit' && !wantsValues && stored === undefined)
      return 'inherit';
    throw new ManagementError(
      'ERR_LOCKED_BY_ANCESTOR',
      `${current.page} of ${current.groupId} is locked: ${lock} allows its groups to inherit only`,
      { group: lock },
    );
  }
  if (parent.childPermission === 'override-only') {
    if (write.currentSetting === 'inherit')
      throw new ManagementError(
        'ERR_OVERRIDE_REQUIRED',
        `${lock} requires its children to override ${current.page}`,
        { group: lock },
      );
    return 'override';
  }
  const mode = write.currentSetting ?? current.currentSetting;
  if (mode === 'inherit' && wantsValues)
    throw new ManagementError(
      'ERR_NOT_OVERRIDING',
      `${current.groupId} inherits ${current.page} from ${lock}: switch it to override first`,
      { group: lock },
    );
  return mode;
}

/** The validated complete values of an override: `base` overlaid with `values`; 422 when invalid. */
export function mergeValues(
  page: SettingsPage,
  base: Readonly<Record<string, unknown>>,
  values: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const result = page.schema.safeParse({ ...base, ...values });
  if (result.success) return result.data;
  throw new ManagementError('ERR_SETTINGS_VALUES', `invalid values for ${page.id}`, {
    field: 'values',
    issues: result.error.issues.map((i) => ({
      path: i.path.map(String).join('.'),
      code: i.code,
      message: i.message,
    })),
  });
}

/**
 * Plans `write` of `page` at `groupId` (A4-A10): the new stored override (or its deletion, A5,
 * returned as `undo`), the copies A8 materializes below, and a report of the subtree (groups
 * outside it never change). Throws ManagementError: 404 `ERR_GROUP_NOT_FOUND`, the 409s of A4,
 * 422 `ERR_SETTINGS_VALUES` with the schema's issues.
 */
export function planSettingsWrite(
  tree: GroupTree,
  records: PageRecords,
  groupId: string,
  page: SettingsPage,
  write: SettingsWrite,
  now: Date,
): SettingsPlan {
  const group = tree.get(groupId);
  if (group === undefined) throw unknownGroup(groupId);
  const resolver = createResolver(tree, page, (id) => records.get(id));
  const before = resolver.resolveSubtree(groupId);
  const current = resolver.resolve(groupId);
  const parent = group.parentId === undefined ? undefined : resolver.resolve(group.parentId);
  const stored = records.get(groupId);
  const mode = targetMode(current, parent, stored, write);
  let next: SettingsRecord | undefined;
  if (mode === 'override') {
    const keep = stored !== undefined && current.currentSetting === 'override';
    next = {
      groupId,
      page: page.id,
      values: mergeValues(page, current.values, write.values),
      childPermission:
        write.childPermission ?? (keep ? current.childPermission : 'inherit-or-override'),
      updatedAt: now,
    };
  }
  const { report, puts, after } = recomputeSubtree({
    tree,
    page,
    top: groupId,
    parent,
    lookup: (id) => (id === groupId ? next : records.get(id)),
    before,
    now,
  });
  if (mode === 'inherit' && stored !== undefined) report.undo = stored;
  const putSettings = next ? [next, ...puts] : puts;
  const change: ManagementChange = {
    ...(putSettings.length > 0 ? { putSettings } : {}),
    ...(mode === 'inherit' && stored !== undefined
      ? { deleteSettings: [{ groupId, page: page.id }] }
      : {}),
  };
  return { change, reports: [report], effective: after.get(groupId) as EffectiveSettings };
}

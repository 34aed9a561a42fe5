/**
 * Settings inheritance (issue 16): effective settings of a group 10 levels deep, and a write at
 * the root that re-evaluates every group, each next to a naive baseline measured in the same run.
 * `SETTINGS_BENCH_GROUPS` sets the tree size at scale 1 (default 10,000).
 */
import { PROFILE_OPTIONS_PAGE, completeValues } from '../src/management/pages.js';
import {
  createResolver,
  indexSettings,
  pageRecords,
  resolveSettings,
  type EffectiveSettings,
} from '../src/management/settings.js';
import { planSettingsWrite } from '../src/management/settings-plan.js';
import { buildGroupTree, type GroupTree } from '../src/management/tree.js';
import {
  ROOT_GROUP_ID,
  type ChildPermission,
  type OrgGroupRecord,
  type SettingsRecord,
} from '../src/storage/ports.js';
import {
  alternate,
  benchRow,
  benchSeconds,
  measure,
  scaled,
  type BenchOptions,
  type BenchRow,
  type Rate,
} from './lib.js';

const GROUPS = Number(process.env.SETTINGS_BENCH_GROUPS ?? '10000');
const RUNS = 3;
const PAGE = PROFILE_OPTIONS_PAGE;
const AT = new Date(0);

const id = (i: number) => (i === 0 ? ROOT_GROUP_ID : `og_${i}`);

/**
 * A binary tree of `n` groups (group i under group (i-1)/2, so group 1023 is 10 levels deep) with
 * a stored override at every tenth group, a few of them Inherit-Only or Override-Only.
 */
function world(n: number) {
  const groups: OrgGroupRecord[] = [];
  const records: SettingsRecord[] = [];
  for (let i = 0; i < n; i++) {
    const parentId = i === 0 ? undefined : id(Math.floor((i - 1) / 2));
    groups.push({ id: id(i), name: id(i), createdAt: AT, ...(parentId ? { parentId } : {}) });
    if (i % 10 !== 3) continue;
    const cp: ChildPermission =
      i % 70 === 3 ? 'inherit-only' : i % 110 === 3 ? 'override-only' : 'inherit-or-override';
    records.push({
      groupId: id(i),
      page: PAGE.id,
      values: { interactiveEnabled: i % 20 === 3 },
      childPermission: cp,
      updatedAt: AT,
    });
  }
  return { groups, records, tree: buildGroupTree(groups) };
}

/** A2/A3 straight from the rules: recursive, no memo, records found by scanning the list. */
function naive(
  tree: GroupTree,
  records: readonly SettingsRecord[],
  groupId: string,
): EffectiveSettings {
  const record = records.find((r) => r.groupId === groupId && r.page === PAGE.id);
  const parentId = tree.get(groupId)?.parentId;
  const own = {
    groupId,
    page: PAGE.id,
    values: completeValues(PAGE, record?.values),
    sourceGroupId: groupId,
    currentSetting: 'override' as const,
    childPermission: record?.childPermission ?? ('inherit-or-override' as const),
    dormant: false,
  };
  if (parentId === undefined) return own;
  const parent = naive(tree, records, parentId);
  const cp = parent.childPermission;
  const override = cp === 'override-only' || (cp === 'inherit-or-override' && record !== undefined);
  if (override) return record ? own : { ...own, values: parent.values };
  return {
    ...parent,
    groupId,
    currentSetting: 'inherit',
    childPermission: cp,
    dormant: record !== undefined,
  };
}

const perCall = (unit: 'µs' | 'ms') => (r: Rate) => (unit === 'µs' ? 1e6 : 1e3) / r.opsPerSec;

/**
 * The settings rows: effective settings of a group 10 levels deep (cold and memoised) against a
 * naive recursive resolve, and a write at the root re-evaluating every group against resolving
 * each group on its own; medians of three alternating repetitions. Goals (issue 16):
 * microseconds for the deep read, well under a second for the write.
 */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const groups = scaled(GROUPS, options.scale, 1024);
  const seconds = Math.max(0.3, benchSeconds / 2);
  const { records, tree } = world(groups);
  const index = pageRecords(indexSettings(records), PAGE.id);
  const lookup = (g: string) => index.get(g);
  const deep = id(1023 < groups ? 1023 : groups - 1);
  const depth = tree.chain(deep).length - 1;
  const warmResolver = createResolver(tree, PAGE, lookup);
  warmResolver.resolveSubtree(ROOT_GROUP_ID);
  const reads = await alternate(RUNS, {
    naive: () => measure('naive', () => naive(tree, records, deep), seconds),
    cold: () => measure('cold', () => resolveSettings(tree, index, deep, PAGE), seconds),
    warm: () => measure('warm', () => warmResolver.resolve(deep), seconds),
  });

  let on = false;
  const after = new Map(index).set(ROOT_GROUP_ID, {
    groupId: ROOT_GROUP_ID,
    page: PAGE.id,
    values: { interactiveEnabled: true },
    childPermission: 'inherit-or-override',
    updatedAt: AT,
  });
  const all = tree.subtree(ROOT_GROUP_ID);
  const writes = await alternate(RUNS, {
    naive: () =>
      measure(
        'naive write',
        () => {
          // The same work without memo: resolve every group on its own, before and after.
          for (const g of all) resolveSettings(tree, index, g, PAGE);
          for (const g of all) resolveSettings(tree, after, g, PAGE);
        },
        Math.max(0.5, seconds),
      ),
    plan: () =>
      measure(
        'write',
        () => {
          on = !on;
          return planSettingsWrite(
            tree,
            index,
            ROOT_GROUP_ID,
            PAGE,
            { values: { interactiveEnabled: on } },
            AT,
          );
        },
        Math.max(0.5, seconds),
      ),
  });
  const us = perCall('µs');
  const ms = perCall('ms');
  const naiveRead = {
    baseline: `naive recursive resolve, records scanned`,
    baselineValues: reads.naive!.map(us),
    unit: 'µs',
    higherIsBetter: false,
  };
  const detail = { groups, overrides: records.length, depth };
  return [
    benchRow({
      id: 'settings.resolve.cold',
      what: `effective settings ${String(depth)} levels deep, cold (${groups.toLocaleString('en-US')} groups)`,
      ...naiveRead,
      values: reads.cold!.map(us),
      goal: { below: 50 },
      detail,
    }),
    benchRow({
      id: 'settings.resolve.warm',
      what: `effective settings ${String(depth)} levels deep, subtree memoised`,
      ...naiveRead,
      values: reads.warm!.map(us),
      detail,
    }),
    benchRow({
      id: 'settings.write.root',
      what: `settings write at the root, plan + report over ${all.length.toLocaleString('en-US')} groups`,
      baseline: 'every group resolved on its own, before and after',
      baselineValues: writes.naive!.map(ms),
      values: writes.plan!.map(ms),
      unit: 'ms',
      higherIsBetter: false,
      goal: { below: 500 },
      detail,
    }),
  ];
}

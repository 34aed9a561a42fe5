/**
 * Settings inheritance (issue 16): effective settings of a group 10 levels deep, and a write at
 * the root that re-evaluates every group, each next to a naive baseline measured in the same run.
 * `SETTINGS_BENCH_GROUPS` sets the tree size (default 10,000).
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
import { measure, type Rate } from './lib.js';

const GROUPS = Number(process.env.SETTINGS_BENCH_GROUPS ?? '10000');
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

function row(name: string, rate: Rate, baseline: Rate, unit: 'µs' | 'ms'): string {
  const per = (unit === 'µs' ? 1e6 : 1e3) / rate.opsPerSec;
  const speedup = rate.opsPerSec / baseline.opsPerSec;
  return `| ${name} | ${per.toFixed(unit === 'µs' ? 2 : 1)} ${unit} | ${speedup.toFixed(1)}× |`;
}

/** Runs the settings benchmark and prints its tables. */
export default async function run(): Promise<void> {
  const { records, tree } = world(GROUPS);
  const index = pageRecords(indexSettings(records), PAGE.id);
  const lookup = (g: string) => index.get(g);
  const deep = id(1023 < GROUPS ? 1023 : GROUPS - 1);
  const depth = tree.chain(deep).length - 1;

  const naiveDeep = await measure('naive', () => naive(tree, records, deep));
  const cold = await measure('cold', () => resolveSettings(tree, index, deep, PAGE));
  const warmResolver = createResolver(tree, PAGE, lookup);
  warmResolver.resolveSubtree(ROOT_GROUP_ID);
  const warm = await measure('warm', () => warmResolver.resolve(deep));
  console.log(
    `\n## Settings: effective settings of a group ${depth} levels deep (${GROUPS.toLocaleString('en-US')} groups, ${records.length} overrides)`,
  );
  console.log('| measurement | per call | speed-up over baseline |\n|---|---:|---:|');
  console.log(
    row('naive recursive resolve, records scanned (baseline)', naiveDeep, naiveDeep, 'µs'),
  );
  console.log(
    row('resolveSettings, cold (indexed records, one chain walk)', cold, naiveDeep, 'µs'),
  );
  console.log(row('resolver with the subtree resolved (memo hit)', warm, naiveDeep, 'µs'));

  let on = false;
  const after = new Map(index).set(ROOT_GROUP_ID, {
    groupId: ROOT_GROUP_ID,
    page: PAGE.id,
    values: { interactiveEnabled: true },
    childPermission: 'inherit-or-override',
    updatedAt: AT,
  });
  const all = tree.subtree(ROOT_GROUP_ID);
  const naiveWrite = await measure(
    'naive write',
    () => {
      // The same work without memo: resolve every group on its own, before and after.
      for (const g of all) resolveSettings(tree, index, g, PAGE);
      for (const g of all) resolveSettings(tree, after, g, PAGE);
    },
    Math.max(1, Number(process.env.BENCH_SECONDS ?? '2')),
  );
  const write = await measure('write', () => {
    on = !on;
    return planSettingsWrite(
      tree,
      index,
      ROOT_GROUP_ID,
      PAGE,
      { values: { interactiveEnabled: on } },
      AT,
    );
  });
  const plan = planSettingsWrite(
    tree,
    index,
    ROOT_GROUP_ID,
    PAGE,
    { values: { interactiveEnabled: true } },
    AT,
  );
  console.log(
    `\n## Settings: a write at the root re-evaluating ${all.length.toLocaleString('en-US')} groups (${plan.reports[0]?.changed.length ?? 0} change)`,
  );
  console.log('| measurement | per write | speed-up over baseline |\n|---|---:|---:|');
  console.log(
    row(
      'every group resolved on its own, before and after (baseline)',
      naiveWrite,
      naiveWrite,
      'ms',
    ),
  );
  console.log(row('planSettingsWrite at the root (plan + report, O(n))', write, naiveWrite, 'ms'));
}

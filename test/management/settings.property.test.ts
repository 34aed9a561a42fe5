/**
 * B7: property tests of the inheritance invariants over random trees, random stored records and
 * random sequences of writes and moves. Runs are capped by ORCHARD_PROPERTY_RUNS.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { ManagementError } from '../../src/errors.js';
import { planReparent } from '../../src/management/groups-plan.js';
import { PROFILE_OPTIONS_PAGE } from '../../src/management/pages.js';
import {
  createResolver,
  indexSettings,
  type EffectiveSettings,
} from '../../src/management/settings.js';
import type { SettingsWrite } from '../../src/management/settings-plan.js';
import type { ChildPermission, SettingsRecord } from '../../src/storage/ports.js';
import { NOW, naiveResolve, rec, World } from './support.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200);
const PAGE = PROFILE_OPTIONS_PAGE;
const CPS: ChildPermission[] = ['inherit-only', 'override-only', 'inherit-or-override'];

const id = (i: number) => (i === 0 ? 'global' : `g${i}`);

/** A random tree of 1 to 20 groups: group i's parent is one of the groups before it. */
const treeArb = fc
  .integer({ min: 1, max: 20 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fc.nat({ max: Math.max(0, i) }))))
  .map((parents) =>
    Object.fromEntries(parents.slice(1).map((p, i) => [id(i + 1), id(Math.min(p, i))])),
  );

const recordArb = fc.record({ cp: fc.constantFrom(...CPS), on: fc.boolean() });

/** A tree with arbitrary stored records (any state, even one no planner would leave). */
const stateArb = treeArb.chain((spec) =>
  fc
    .array(fc.option(recordArb), {
      minLength: Object.keys(spec).length + 1,
      maxLength: Object.keys(spec).length + 1,
    })
    .map((opts) => {
      const records: SettingsRecord[] = [];
      opts.forEach((o, i) => {
        if (o) records.push(rec(id(i), o.cp, { interactiveEnabled: o.on }));
      });
      return new World(spec, records);
    }),
);

const writeArb: fc.Arbitrary<SettingsWrite> = fc.record(
  {
    currentSetting: fc.constantFrom('inherit' as const, 'override' as const),
    childPermission: fc.constantFrom(...CPS),
    values: fc.boolean().map((on) => ({ interactiveEnabled: on })),
  },
  { requiredKeys: [] },
);

type Op =
  { kind: 'write'; at: number; write: SettingsWrite } | { kind: 'move'; at: number; to: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), at: fc.nat(), write: writeArb }),
  fc.record({ kind: fc.constant('move' as const), at: fc.nat(), to: fc.nat() }),
);

/** Applies `op` to `w` when the rules allow it; refusals (ManagementError) change nothing. */
function run(w: World, op: Op): void {
  const ids = w.groups.map((g) => g.id);
  const at = ids[op.at % ids.length] as string;
  try {
    if (op.kind === 'write') w.write(at, op.write);
    else
      w.apply(
        planReparent(w.tree, indexSettings(w.records), at, ids[op.to % ids.length] as string, NOW, [
          PAGE,
        ]).change,
      );
  } catch (error) {
    if (!(error instanceof ManagementError)) throw error;
  }
}

/** A world reached from no records by random writes and moves, as the service would. */
const reachedArb = fc.tuple(treeArb, fc.array(opArb, { maxLength: 25 })).map(([spec, ops]) => {
  const w = new World(spec);
  for (const op of ops) run(w, op);
  return w;
});

function resolveAll(w: World): Map<string, EffectiveSettings> {
  return createResolver(w.tree, PAGE, (g) => w.page().get(g)).resolveSubtree('global');
}

describe('B7 inheritance invariants', () => {
  test('B7 the generators reach dormant and forced-override states', () => {
    const worlds = fc.sample(reachedArb, { numRuns: 200, seed: 7 });
    const effs = worlds.flatMap((w) => [...resolveAll(w).values()]);
    expect(effs.some((e) => e.dormant)).toBe(true);
    expect(effs.some((e) => e.lockedBy !== undefined && e.currentSetting === 'override')).toBe(
      true,
    );
    expect(worlds.some((w) => w.records.length > 3)).toBe(true);
  });

  test('B7 resolve equals the naive reference on any state', () => {
    fc.assert(
      fc.property(stateArb, (w) => {
        const all = resolveAll(w);
        for (const g of w.groups)
          expect(all.get(g.id)).toEqual(naiveResolve(w.groups, w.records, g.id, PAGE));
        const last = w.groups.at(-1)?.id as string;
        expect(w.eff(last)).toEqual(all.get(last));
      }),
      { numRuns: RUNS },
    );
  });

  test('B7 under an inherit-only ancestor every descendant takes its record', () => {
    fc.assert(
      fc.property(stateArb, (w) => {
        const all = resolveAll(w);
        const tree = w.tree;
        for (const [g, eff] of all) {
          if (eff.currentSetting !== 'override' || eff.childPermission !== 'inherit-only') continue;
          for (const d of tree.subtree(g).slice(1))
            expect(all.get(d)).toMatchObject({
              values: eff.values,
              childPermission: 'inherit-only',
              sourceGroupId: g,
              currentSetting: 'inherit',
              lockedBy: g,
            });
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('B7 a write at X changes nothing outside its subtree, reports exactly what changes, and keeps materialized values', () => {
    fc.assert(
      fc.property(reachedArb, fc.nat(), writeArb, (w, at, write) => {
        const x = w.groups[at % w.groups.length]?.id as string;
        const before = resolveAll(w);
        let plan;
        try {
          plan = w.write(x, write);
        } catch (error) {
          if (error instanceof ManagementError) return;
          throw error;
        }
        const after = resolveAll(w);
        const inside = new Set(w.tree.subtree(x));
        const changed = new Set<string>();
        for (const [g, eff] of after) {
          const old = before.get(g);
          if (!inside.has(g)) expect(eff).toEqual(old);
          else if (
            JSON.stringify([old?.values, old?.childPermission]) !==
            JSON.stringify([eff.values, eff.childPermission])
          )
            changed.add(g);
        }
        const report = plan.reports[0];
        expect(new Set(report?.changed.map((c) => c.groupId))).toEqual(changed);
        for (const m of report?.materialized ?? [])
          expect(after.get(m)?.values).toEqual(before.get(m)?.values);
      }),
      { numRuns: RUNS },
    );
  });

  test('B7 every effectively-Override group has a stored record after any writes and moves', () => {
    fc.assert(
      fc.property(reachedArb, (w) => {
        for (const [g, eff] of resolveAll(w)) {
          if (g === 'global' || eff.currentSetting !== 'override') continue;
          expect(w.stored(g)).toBeDefined();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Rules A1-A10 of settings inheritance on the pure engine, one test per rule (table-driven where
 * the cases vary by data). The tree:
 *
 *   global ─┬─ eu ─┬─ fr ── paris
 *           │      └─ de
 *           └─ us
 */
import { describe, expect, test } from '@jest/globals';
import { ManagementError } from '../../src/errors.js';
import { ENROLLMENT_PAGE, SELF_SERVICE_PAGE } from '../../src/management/pages.js';
import type { SettingsWrite } from '../../src/management/settings-plan.js';
import type { ChildPermission } from '../../src/storage/ports.js';
import { rec, SPEC, ON, OFF, World } from './support.js';
import { thrownBy } from '../support/errors.js';

describe('settings inheritance', () => {
  test('A1 root: always Override, defaults when it stores nothing, never Inherit', () => {
    const w = new World(SPEC);
    expect(w.eff('global')).toEqual({
      groupId: 'global',
      page: 'profile-options',
      values: OFF,
      sourceGroupId: 'global',
      currentSetting: 'override',
      childPermission: 'inherit-or-override',
      dormant: false,
    });
    const e = thrownBy(() => w.plan('global', { currentSetting: 'inherit' }), ManagementError);
    expect([e.code, e.status, e.group]).toEqual(['ERR_GROUP_ROOT', 409, 'global']);
    w.write('global', { values: { interactiveEnabled: true } });
    expect(w.stored('global')).toMatchObject({
      values: ON,
      childPermission: 'inherit-or-override',
    });
    expect(w.eff('global', ENROLLMENT_PAGE).values).toEqual(ENROLLMENT_PAGE.defaults);
  });

  test.each<[string, ChildPermission, boolean, 'inherit' | 'override', string | undefined]>([
    [
      'ok/inherit-only forces inherit over a stored override',
      'inherit-only',
      true,
      'inherit',
      'eu',
    ],
    ['ok/inherit-only, nothing stored', 'inherit-only', false, 'inherit', 'eu'],
    ['ok/override-only forces override', 'override-only', true, 'override', 'eu'],
    ['ok/inherit-or-override, stored override', 'inherit-or-override', true, 'override', undefined],
    [
      'ok/inherit-or-override, nothing stored: inherit',
      'inherit-or-override',
      false,
      'inherit',
      undefined,
    ],
  ])('A2 effective mode: %s', (_name, cp, stored, mode, lockedBy) => {
    const w = new World(SPEC, [
      rec('eu', cp, OFF),
      ...(stored ? [rec('fr', 'inherit-or-override')] : []),
    ]);
    const fr = w.eff('fr');
    expect(fr.currentSetting).toBe(mode);
    expect(fr.lockedBy).toBe(lockedBy);
    expect(fr.dormant).toBe(stored && mode === 'inherit');
  });

  test('A3 source: values and Child Permission come from the source, so Inherit-Only locks the whole subtree', () => {
    const w = new World(SPEC, [
      rec('eu', 'inherit-only', ON),
      rec('paris', 'inherit-or-override', OFF),
    ]);
    for (const id of ['fr', 'paris', 'de'])
      expect(w.eff(id)).toMatchObject({
        values: ON,
        sourceGroupId: 'eu',
        childPermission: 'inherit-only',
        lockedBy: 'eu',
      });
    expect(w.eff('us')).toMatchObject({ values: OFF, sourceGroupId: 'global' });
  });

  test.each<
    [string, Record<string, string | undefined>, string, SettingsWrite, string, string | undefined]
  >([
    [
      'fail/override under inherit-only',
      { eu: 'inherit-only' },
      'fr',
      { currentSetting: 'override' },
      'ERR_LOCKED_BY_ANCESTOR',
      'eu',
    ],
    [
      'fail/values two levels under inherit-only',
      { eu: 'inherit-only' },
      'paris',
      { values: ON },
      'ERR_LOCKED_BY_ANCESTOR',
      'eu',
    ],
    [
      'fail/inherit under override-only',
      { eu: 'override-only' },
      'fr',
      { currentSetting: 'inherit' },
      'ERR_OVERRIDE_REQUIRED',
      'eu',
    ],
    ['fail/values while inheriting', {}, 'fr', { values: ON }, 'ERR_NOT_OVERRIDING', 'global'],
    [
      'fail/child permission while inheriting',
      { eu: 'inherit-or-override' },
      'fr',
      { childPermission: 'inherit-only' },
      'ERR_NOT_OVERRIDING',
      'eu',
    ],
    [
      'fail/inherit with values',
      {},
      'fr',
      { currentSetting: 'inherit', values: ON },
      'ERR_NOT_OVERRIDING',
      'global',
    ],
    [
      'fail/bad values',
      {},
      'fr',
      { currentSetting: 'override', values: { interactiveEnabled: 'yes' } },
      'ERR_SETTINGS_VALUES',
      undefined,
    ],
    [
      'fail/unknown key',
      {},
      'fr',
      { currentSetting: 'override', values: { colour: 1 } },
      'ERR_SETTINGS_VALUES',
      undefined,
    ],
  ])('A4 writes only where effectively Override: %s', (_name, cps, at, write, code, group) => {
    const w = new World(
      SPEC,
      Object.entries(cps).map(([id, cp]) => rec(id, cp as ChildPermission, OFF)),
    );
    const e = thrownBy(() => w.plan(at, write), ManagementError);
    expect([e.code, e.group]).toEqual([code, group]);
    if (code === 'ERR_SETTINGS_VALUES') expect(e.issues?.length).toBeGreaterThan(0);
  });

  test('A4 switching to override starts from the effective values, overlaid with partial values', () => {
    const w = new World(SPEC);
    w.write('global', { values: { linkLifetimeSeconds: 86_400 * 3 } }, ENROLLMENT_PAGE);
    const plan = w.write(
      'fr',
      { currentSetting: 'override', values: { genericLinkPrefix: 'fr' } },
      ENROLLMENT_PAGE,
    );
    expect(plan.effective.values).toEqual({
      ...ENROLLMENT_PAGE.defaults,
      linkLifetimeSeconds: 259_200,
      genericLinkPrefix: 'fr',
    });
    const e = thrownBy(
      () => w.plan('fr', { values: { linkLifetimeSeconds: 3600 } }, ENROLLMENT_PAGE),
      ManagementError,
    );
    expect([e.code, e.status]).toEqual(['ERR_SETTINGS_VALUES', 422]);
  });

  test('A5 voluntary Override to Inherit deletes the record, returns it for undo, and descendants resolve through the parent', () => {
    const w = new World(SPEC, [
      rec('eu', 'inherit-or-override', ON),
      rec('fr', 'inherit-or-override', OFF),
    ]);
    expect(w.eff('paris').sourceGroupId).toBe('fr');
    const plan = w.write('fr', { currentSetting: 'inherit' });
    expect(plan.change.deleteSettings).toEqual([{ groupId: 'fr', page: 'profile-options' }]);
    expect(plan.reports[0]?.undo).toEqual(rec('fr', 'inherit-or-override', OFF));
    expect(w.eff('paris')).toMatchObject({ sourceGroupId: 'eu', values: ON });
    expect(plan.reports[0]?.changed.map((c) => c.groupId)).toEqual(['fr', 'paris']);
  });

  test('A6 parent tightens to inherit-only: overrides below turn dormant, the subtree takes its record, writes there are 409', () => {
    const w = new World(SPEC, [
      rec('fr', 'inherit-or-override', ON),
      rec('paris', 'inherit-or-override', OFF),
    ]);
    const plan = w.write('eu', { currentSetting: 'override', childPermission: 'inherit-only' });
    expect(plan.reports[0]?.suppressed).toEqual(['fr', 'paris']);
    expect(w.stored('fr')).toBeDefined();
    expect(w.eff('fr')).toMatchObject({
      dormant: true,
      sourceGroupId: 'eu',
      values: OFF,
      lockedBy: 'eu',
    });
    expect(w.eff('paris')).toMatchObject({ dormant: true, sourceGroupId: 'eu' });
    const e = thrownBy(() => w.plan('fr', { values: OFF }), ManagementError);
    expect([e.code, e.group]).toEqual(['ERR_LOCKED_BY_ANCESTOR', 'eu']);
    expect(thrownBy(() => w.plan('fr', { currentSetting: 'inherit' }), ManagementError).code).toBe(
      'ERR_LOCKED_BY_ANCESTOR',
    );
  });

  test('A7 parent relaxes inherit-only: dormant records reactivate, and the plan lists what changes before it applies', () => {
    const w = new World(SPEC, [
      rec('eu', 'inherit-only', OFF),
      rec('fr', 'inherit-or-override', ON),
    ]);
    const dry = w.plan('eu', { childPermission: 'inherit-or-override' });
    expect(dry.reports[0]?.changed.map((c) => c.groupId)).toEqual(['eu', 'fr', 'de', 'paris']);
    expect(w.eff('fr').dormant).toBe(true);
    w.apply(dry.change);
    expect(dry.reports[0]?.reactivated).toEqual(['fr']);
    expect(w.eff('fr')).toMatchObject({ dormant: false, currentSetting: 'override', values: ON });
    expect(w.eff('paris')).toMatchObject({ sourceGroupId: 'fr', values: ON });
  });

  test('A8 parent sets override-only while children inherit: each gets a copy of its values, later parent edits no longer reach it', () => {
    const w = new World(SPEC, [rec('global', 'inherit-or-override', ON)]);
    const plan = w.write('eu', {
      currentSetting: 'override',
      childPermission: 'override-only',
      values: OFF,
    });
    const report = plan.reports[0];
    expect(report?.materialized).toEqual(['fr', 'de']);
    expect(w.stored('fr')).toEqual(rec('fr', 'inherit-or-override', ON));
    expect(w.eff('fr')).toMatchObject({ values: ON, currentSetting: 'override', lockedBy: 'eu' });
    expect(w.eff('paris')).toMatchObject({ values: ON, sourceGroupId: 'fr' });
    expect(report?.changed.map((c) => c.groupId)).toEqual(['eu']);
    w.write('eu', { values: ON });
    w.write('eu', { values: OFF });
    expect(w.eff('de').values).toEqual(ON);
  });

  test('A9 parent relaxes override-only: children keep their stored override, nothing changes', () => {
    const w = new World(SPEC, [
      rec('eu', 'override-only', OFF),
      rec('fr', 'inherit-or-override', ON),
      rec('de', 'inherit-or-override', OFF),
    ]);
    const plan = w.write('eu', { childPermission: 'inherit-or-override' });
    expect(plan.reports[0]?.changed.map((c) => c.groupId)).toEqual(['eu']);
    expect(plan.reports[0]?.materialized).toEqual([]);
    expect(w.eff('fr')).toMatchObject({ values: ON, currentSetting: 'override', dormant: false });
    expect(w.eff('fr').lockedBy).toBeUndefined();
  });

  test('A10 propagation: the report lists every changed group of the subtree with before and after; siblings never change', () => {
    const w = new World(SPEC, [rec('de', 'inherit-or-override', OFF)]);
    const before = new Map(
      ['global', 'eu', 'fr', 'paris', 'de', 'us'].map((id) => [id, w.eff(id)]),
    );
    const plan = w.write('eu', { currentSetting: 'override', values: ON });
    const changed = plan.reports[0]?.changed ?? [];
    expect(changed.map((c) => c.groupId)).toEqual(['eu', 'fr', 'paris']);
    expect(changed[1]).toMatchObject({
      page: 'profile-options',
      before: { values: OFF },
      after: { values: ON, sourceGroupId: 'eu' },
    });
    for (const id of ['global', 'us', 'de']) expect(w.eff(id)).toEqual(before.get(id));
    expect(w.eff('global', SELF_SERVICE_PAGE).values).toEqual(SELF_SERVICE_PAGE.defaults);
  });
});

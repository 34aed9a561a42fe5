/**
 * Rule A11 (creating, moving and deleting groups) on the pure planners, and the group service on
 * the memory admin store: dry runs, optimistic retries, the SettingsChanged callback.
 */
import { describe, expect, test } from '@jest/globals';
import { ManagementError } from '../../src/errors.js';
import { createGroupService, type SettingsChange } from '../../src/management/groups-service.js';
import {
  planCreateGroup,
  planDeleteGroup,
  planReparent,
} from '../../src/management/groups-plan.js';
import { indexSettings } from '../../src/management/settings.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { AdminStorage, OrgGroupStore } from '../../src/storage/ports.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { NOW, rec, SPEC, ON, OFF, World } from './support.js';
import { rejectionOf, thrownBy } from '../support/errors.js';

describe('A11 re-parenting and deleting', () => {
  test('A11 re-parenting under an inherit-only group suppresses overrides; under an override-only one materializes the previous values', () => {
    const w = new World(SPEC, [
      rec('global', 'inherit-or-override', ON),
      rec('eu', 'inherit-only', OFF),
      rec('us', 'override-only', OFF),
      rec('paris', 'inherit-or-override', ON),
    ]);
    expect(w.eff('paris').dormant).toBe(true);
    const toUs = planReparent(w.tree, indexSettings(w.records), 'fr', 'us', NOW);
    const report = toUs.reports.find((r) => r.page === 'profile-options');
    expect(report).toMatchObject({ materialized: ['fr'], reactivated: ['paris'], suppressed: [] });
    // fr keeps its values but no longer inherits Inherit-Only: its Child Permission changed.
    expect(report?.changed.map((c) => c.groupId)).toEqual(['fr', 'paris']);
    w.apply(toUs.change);
    expect(w.eff('fr')).toMatchObject({ currentSetting: 'override', values: OFF, lockedBy: 'us' });
    expect(w.stored('fr')?.childPermission).toBe('inherit-or-override');
    const back = planReparent(w.tree, indexSettings(w.records), 'fr', 'eu', NOW);
    expect(back.reports.find((r) => r.page === 'profile-options')?.suppressed).toEqual([
      'fr',
      'paris',
    ]);
  });

  test.each([
    ['fail/under its own child', 'eu', 'fr', 'ERR_GROUP_CYCLE', 'fr'],
    ['fail/under itself', 'eu', 'eu', 'ERR_GROUP_CYCLE', 'eu'],
    ['fail/the root', 'global', 'us', 'ERR_GROUP_ROOT', 'global'],
    ['fail/unknown parent', 'fr', 'nowhere', 'ERR_GROUP_NOT_FOUND', 'nowhere'],
  ])('A11 re-parenting refused: %s', (_name, id, parent, code, group) => {
    const w = new World(SPEC);
    const e = thrownBy(
      () => planReparent(w.tree, indexSettings([]), id, parent, NOW),
      ManagementError,
    );
    expect([e.code, e.group]).toEqual([code, group]);
  });

  test.each([
    ['fail/has children', 'eu', { profiles: 0, administrators: 0 }, 'ERR_GROUP_NOT_EMPTY'],
    ['fail/owns profiles', 'paris', { profiles: 2, administrators: 0 }, 'ERR_GROUP_NOT_EMPTY'],
    [
      'fail/scopes administrators',
      'paris',
      { profiles: 0, administrators: 1 },
      'ERR_GROUP_NOT_EMPTY',
    ],
    ['fail/the root', 'global', { profiles: 0, administrators: 0 }, 'ERR_GROUP_ROOT'],
    ['fail/unknown', 'mars', { profiles: 0, administrators: 0 }, 'ERR_GROUP_NOT_FOUND'],
  ])('A11 deleting refused: %s', (_name, id, contents, code) => {
    expect(
      thrownBy(() => planDeleteGroup(new World(SPEC).tree, id, contents), ManagementError).code,
    ).toBe(code);
  });

  test('A11 deleting an empty group deletes it', () => {
    const change = planDeleteGroup(new World(SPEC).tree, 'paris', {
      profiles: 0,
      administrators: 0,
    });
    expect(change).toEqual({ deleteGroups: ['paris'] });
  });

  test('A8 a new child of an override-only group gets a copy of its values', () => {
    const w = new World(SPEC, [rec('eu', 'override-only', ON)]);
    const group = { id: 'it', name: 'Italy', parentId: 'eu', createdAt: NOW };
    const plan = planCreateGroup(w.tree, indexSettings(w.records), group, NOW);
    expect(plan.change.putSettings).toEqual([rec('it', 'inherit-or-override', ON)]);
    expect(plan.reports.map((r) => r.materialized)).toEqual([['it'], [], []]);
  });
});

const STORES: [string, () => AdminStorage][] = [
  ['memory', () => createMemoryAdminStorage({ clock: () => NOW })],
  ['sqlite', () => openSqliteAdminStore({ path: ':memory:' })],
];

describe.each(STORES)('group service on %s', (_name, open) => {
  function service(store = open()) {
    const changes: SettingsChange[] = [];
    let n = 0;
    const groups = createGroupService(
      { store, principals: store, clock: () => NOW, onSettingsChanged: (c) => changes.push(...c) },
      { newId: () => `og_${++n}` },
    );
    return { store, groups, changes };
  }

  test('ok/creates, renames, moves and deletes groups', async () => {
    const { groups } = service();
    const eu = await groups.createGroup({ name: 'Europe', parentId: 'global' });
    const fr = await groups.createGroup({ name: 'France', parentId: eu.group.id });
    expect([eu.group.id, fr.group.id, eu.applied]).toEqual(['og_1', 'og_2', true]);
    await groups.renameGroup('og_2', 'Francia');
    await groups.moveGroup('og_2', 'global');
    const tree = await groups.tree();
    expect(tree.path('og_2')).toEqual(['Global', 'Francia']);
    expect((await rejectionOf(groups.deleteGroup('global'), ManagementError)).code).toBe(
      'ERR_GROUP_ROOT',
    );
    await groups.deleteGroup('og_2');
    expect((await groups.tree()).get('og_2')).toBeUndefined();
  });

  test('ok/the tree is read again only when the revision moved, also by another daemon', async () => {
    const store = open();
    let loads = 0;
    const counted = Object.assign(Object.create(store) as AdminStorage, {
      loadManagement: () => {
        loads += 1;
        return store.loadManagement();
      },
    });
    const mine = service(counted).groups;
    const other = service(store).groups;
    await mine.tree();
    await mine.tree();
    await mine.effectiveSettings('global', 'profile-options');
    expect(loads).toBe(1);
    const { group } = await other.createGroup({ name: 'Elsewhere', parentId: 'global' });
    expect((await mine.tree()).get(group.id)?.name).toBe('Elsewhere');
    expect(loads).toBe(2);
  });

  test('ok/write reports and announces changes; a dry run applies nothing (A7)', async () => {
    const { groups, changes } = service();
    const eu = (await groups.createGroup({ name: 'Europe', parentId: 'global' })).group.id;
    const dry = await groups.writeSettings(
      'global',
      'profile-options',
      { values: ON },
      { dryRun: true },
    );
    expect([dry.applied, dry.effective.values, dry.report.changed.length]).toEqual([false, ON, 2]);
    expect((await groups.effectiveSettings(eu, 'profile-options')).values).toEqual(OFF);
    expect(changes).toEqual([]);
    const done = await groups.writeSettings('global', 'profile-options', { values: ON });
    expect(done.applied).toBe(true);
    expect((await groups.effectiveSettings(eu, 'profile-options')).values).toEqual(ON);
    expect(changes.map((c) => c.groupId)).toEqual(['global', eu]);
    expect(await groups.storedSettings('global', 'profile-options')).toMatchObject({ values: ON });
    expect((await groups.allSettings(eu)).map((s) => s.page)).toEqual([
      'profile-options',
      'enrollment',
      'self-service',
    ]);
  });

  test.each([
    ['fail/unknown page', 'global', 'colours', 'ERR_SETTINGS_PAGE'],
    ['fail/unknown group', 'og_nope', 'enrollment', 'ERR_GROUP_NOT_FOUND'],
  ])('%s', async (_name, id, page, code) => {
    const { groups } = service();
    expect((await rejectionOf(groups.effectiveSettings(id, page), ManagementError)).code).toBe(
      code,
    );
    expect(
      (await rejectionOf(groups.writeSettings(id, page, { values: {} }), ManagementError)).code,
    ).toBe(code);
  });

  test('ok/re-plans when another writer moved the revision; fail/busy after the attempts', async () => {
    const inner = open();
    let stale = 0;
    const store: OrgGroupStore & { countLibraryProfiles: (id: string) => Promise<number> } = {
      loadManagement: () => inner.loadManagement(),
      findManagementRevision: () => inner.findManagementRevision(),
      findGroup: (id) => inner.findGroup(id),
      countLibraryProfiles: (id) => inner.countLibraryProfiles(id),
      applyManagement: (change, revision) =>
        stale-- > 0 ? Promise.resolve(undefined) : inner.applyManagement(change, revision),
    };
    const groups = createGroupService({ store, clock: () => NOW }, { attempts: 3 });
    stale = 2;
    expect((await groups.createGroup({ name: 'A', parentId: 'global' })).applied).toBe(true);
    stale = 3;
    const e = await rejectionOf(
      groups.createGroup({ name: 'B', parentId: 'global' }),
      ManagementError,
    );
    expect([e.code, e.status]).toEqual(['ERR_MANAGEMENT_BUSY', 503]);
  });
});

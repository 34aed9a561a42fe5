/**
 * The management storage conformance suite: organization groups with their settings records
 * (optimistic revisions, atomic changes, integrity refusals), administrators and their keys, and
 * the profile library, which every {@link AdminStorage} adapter must pass. Call
 * `runManagementConformance(name, factory)` from a `*.test.ts`.
 */
import { describe, expect, test } from '@jest/globals';
import type { ManagementChange } from '../../src/storage/ports.js';
import {
  describeAdminSuites,
  type AdminStorageFactory,
  type AdminSuiteContext,
} from './conformance-admin.js';
import { principalSuite } from './conformance-management-principals.js';
import { profileLibrarySuite } from './conformance-management-profiles.js';
import { apply, group, settings } from './management-fixtures.js';

function groupSuite(ctx: AdminSuiteContext): void {
  describe('organization groups', () => {
    test('ok/a fresh store holds the root group and the owner', async () => {
      const store = ctx.store();
      const root = { id: 'global', name: 'Global', createdAt: ctx.clock.now() };
      const snapshot = await store.loadManagement();
      expect(snapshot).toEqual({ revision: snapshot.revision, groups: [root], settings: [] });
      expect(Number.isSafeInteger(snapshot.revision)).toBe(true);
      expect(await store.findGroup('global')).toEqual(root);
      expect(await store.findGroup('nope')).toBeUndefined();
      const owner = { id: 'owner', name: 'Owner', role: 'full', groupId: 'global' };
      expect(await store.listPrincipals()).toEqual([{ ...owner, createdAt: ctx.clock.now() }]);
    });

    test('ok/one apply puts groups and settings together and bumps the revision by one', async () => {
      const store = ctx.store();
      const { revision } = await store.loadManagement();
      const a = group(ctx, 'a', 'global');
      const b = group(ctx, 'b', 'a');
      const s = settings(ctx, 'b', 'profile-options');
      expect(await store.applyManagement({ putGroups: [b, a], putSettings: [s] }, revision)).toBe(
        revision + 1,
      );
      const snapshot = await store.loadManagement();
      expect(snapshot.revision).toBe(revision + 1);
      expect(await store.findManagementRevision()).toBe(revision + 1);
      expect(snapshot.groups).toEqual(expect.arrayContaining([a, b]));
      expect(snapshot.groups).toHaveLength(3);
      expect(snapshot.settings).toEqual([s]);
      expect(await store.findGroup('b')).toEqual(b);
    });

    test('ok/rename, re-parent, replace and delete settings; a deleted group takes its settings', async () => {
      const store = ctx.store();
      const [a, b] = [group(ctx, 'a', 'global'), group(ctx, 'b', 'global')];
      await apply(store, {
        putGroups: [a, b, group(ctx, 'c', 'a')],
        putSettings: [settings(ctx, 'a', 'p1'), settings(ctx, 'b', 'p1'), settings(ctx, 'c', 'p1')],
      });
      const moved = { ...group(ctx, 'c', 'b'), name: 'Renamed' };
      const replaced = { ...settings(ctx, 'a', 'p1'), values: { x: 1 } };
      await apply(store, {
        putGroups: [moved],
        putSettings: [replaced],
        deleteSettings: [{ groupId: 'b', page: 'p1' }],
      });
      await apply(store, { putGroups: [{ ...moved, parentId: 'global' }], deleteGroups: ['b'] });
      const snapshot = await store.loadManagement();
      expect(snapshot.groups.map((g) => g.id).sort()).toEqual(['a', 'c', 'global']);
      expect(await store.findGroup('c')).toEqual({ ...moved, parentId: 'global' });
      expect(snapshot.settings).toEqual(
        expect.arrayContaining([replaced, settings(ctx, 'c', 'p1')]),
      );
      expect(snapshot.settings).toHaveLength(2);
      await apply(store, { deleteGroups: ['c'] });
      expect((await store.loadManagement()).settings).toEqual([replaced]);
    });

    test('ok/a stale revision applies nothing and resolves undefined', async () => {
      const store = ctx.store();
      const { revision } = await store.loadManagement();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const before = await store.loadManagement();
      const stale = { putGroups: [group(ctx, 'b', 'global')] };
      expect(await store.applyManagement(stale, revision)).toBeUndefined();
      expect(await store.applyManagement(stale, before.revision + 1)).toBeUndefined();
      expect(await store.loadManagement()).toEqual(before);
    });

    test('ok/of two concurrent applies on one revision exactly one wins', async () => {
      const store = ctx.store();
      const { revision } = await store.loadManagement();
      const results = await Promise.all(
        ['a', 'b'].map((id) =>
          store.applyManagement({ putGroups: [group(ctx, id, 'global')] }, revision),
        ),
      );
      expect(results.filter((r) => r === revision + 1)).toHaveLength(1);
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
      expect((await store.loadManagement()).groups).toHaveLength(2);
    });

    test('ok/an empty change is applied and bumps the revision', async () => {
      const store = ctx.store();
      const { revision } = await store.loadManagement();
      expect(await store.applyManagement({}, revision)).toBe(revision + 1);
    });

    const refusals: [string, (c: AdminSuiteContext) => ManagementChange][] = [
      ['deleting the root', () => ({ deleteGroups: ['global'] })],
      ['orphaning a child', () => ({ deleteGroups: ['a'] })],
      ['an unknown parent', (c) => ({ putGroups: [group(c, 'x', 'missing')] })],
      ['a group without a parent', (c) => ({ putGroups: [group(c, 'x')] })],
      ['its own parent', (c) => ({ putGroups: [group(c, 'x', 'x')] })],
      ['a parent for the root', (c) => ({ putGroups: [group(c, 'global', 'a')] })],
      ['a cycle', (c) => ({ putGroups: [group(c, 'a', 'b')] })],
      ['the same group twice', (c) => ({ putGroups: [group(c, 'x', 'a'), group(c, 'x', 'b')] })],
      ['settings of an unknown group', (c) => ({ putSettings: [settings(c, 'zz', 'p')] })],
      [
        'settings of a deleted group',
        (c) => ({ deleteGroups: ['b'], putSettings: [settings(c, 'b', 'p')] }),
      ],
      [
        'a bad child permission',
        (c) => ({
          putSettings: [{ ...settings(c, 'a', 'p'), childPermission: 'any' as 'inherit-only' }],
        }),
      ],
    ];
    test.each(refusals)('fail/%s is a TypeError and applies nothing', async (_, change) => {
      const store = ctx.store();
      await apply(store, {
        putGroups: [group(ctx, 'a', 'global'), group(ctx, 'b', 'a')],
        putSettings: [settings(ctx, 'a', 'p')],
      });
      const before = await store.loadManagement();
      const bad = { ...change(ctx), putSettings: [...(change(ctx).putSettings ?? [])] };
      bad.putSettings.push({ ...settings(ctx, 'global', 'sneaky') });
      await expect(store.applyManagement(bad, before.revision)).rejects.toThrow(TypeError);
      expect(await store.loadManagement()).toEqual(before);
    });

    test('fail/a group owning a profile or an active administrator cannot be deleted', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global'), group(ctx, 'b', 'global')] });
      const admin = await store.createPrincipal({ name: 'x', role: 'full', groupId: 'a' });
      const { revision } = await store.loadManagement();
      await expect(store.applyManagement({ deleteGroups: ['a'] }, revision)).rejects.toThrow(
        TypeError,
      );
      await store.disablePrincipal(admin.id, ctx.clock.now());
      expect(await store.applyManagement({ deleteGroups: ['a'] }, revision)).toBe(revision + 1);
      const first = { profileId: 'prf_b', version: 1, payloadUuid: 'u', sha256: 's' };
      const now = ctx.clock.now();
      await store.createLibraryProfile(
        {
          id: 'prf_b',
          groupId: 'b',
          identifier: 'i',
          name: 'n',
          assignmentType: 'auto',
          latestVersion: 1,
          createdAt: now,
          updatedAt: now,
        },
        { ...first, content: Buffer.from('x'), createdBy: 'owner', createdAt: now },
      );
      await expect(store.applyManagement({ deleteGroups: ['b'] }, revision + 1)).rejects.toThrow(
        TypeError,
      );
      expect(await store.findGroup('b')).toBeDefined();
    });

    test('ok/snapshots are copies, and so is what was applied', async () => {
      const store = ctx.store();
      const a = group(ctx, 'a', 'global');
      const s = settings(ctx, 'a', 'p');
      await apply(store, { putGroups: [a], putSettings: [s] });
      const before = await store.loadManagement();
      a.name = 'changed';
      s.values.interactiveEnabled = false;
      const snapshot = await store.loadManagement();
      const first = snapshot.settings[0];
      if (first) first.values.interactiveEnabled = 'mutated';
      snapshot.groups.forEach((g) => g.createdAt.setTime(0));
      const found = await store.findGroup('a');
      if (found) found.name = 'mutated';
      expect(await store.loadManagement()).toEqual(before);
    });
  });
}

function closedSuite(ctx: AdminSuiteContext): void {
  test('fail/every management call after close rejects with ERR_STORAGE', async () => {
    const store = ctx.store();
    store.close();
    const now = ctx.clock.now();
    const calls: (() => Promise<unknown>)[] = [
      () => store.loadManagement(),
      () => store.findManagementRevision(),
      () => store.applyManagement({}, 0),
      () => store.findGroup('global'),
      () => store.createPrincipal({ name: 'x', role: 'full', groupId: 'global' }),
      () => store.findPrincipal('owner'),
      () => store.listPrincipals(),
      () => store.updatePrincipal('owner', { name: 'x' }),
      () => store.disablePrincipal('adm_x', now),
      () => store.findLibraryProfile('prf_a'),
      () => store.findLibraryProfileByIdentifier('i'),
      () => store.listLibraryProfiles({ limit: 1 }),
      () => store.findProfileVersion('prf_a', 1),
      () => store.listProfileVersions('prf_a'),
      () => store.updateLibraryProfile('prf_a', { name: 'x' }, now),
      () => store.deleteLibraryProfile('prf_a'),
      () => store.countLibraryProfiles('global'),
    ];
    for (const call of calls)
      await expect(call()).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
  });
}

/** Runs the whole management conformance suite against the adapter `factory` makes. */
export function runManagementConformance(name: string, factory: AdminStorageFactory): void {
  describeAdminSuites(`management storage conformance: ${name}`, factory, [
    groupSuite,
    principalSuite,
    profileLibrarySuite,
    closedSuite,
  ]);
}

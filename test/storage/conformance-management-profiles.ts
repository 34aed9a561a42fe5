/** The profile library part of the management conformance suite. */
import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import type {
  AdminStorage,
  LibraryProfileRecord,
  ProfileVersionRecord,
} from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';
import { apply, group } from './management-fixtures.js';

/** A version of `profileId` whose content names the version. */
function version(ctx: AdminSuiteContext, profileId: string, n: number): ProfileVersionRecord {
  const content = Buffer.from(`<plist>${profileId} v${String(n)}</plist>`);
  return {
    profileId,
    version: n,
    payloadUuid: `uuid-${String(n)}`,
    sha256: createHash('sha256').update(content).digest('hex'),
    content,
    createdBy: 'owner',
    createdAt: ctx.clock.now(),
  };
}

function profile(
  ctx: AdminSuiteContext,
  id: string,
  groupId = 'global',
  identifier = `com.example.${id}`,
): [LibraryProfileRecord, ProfileVersionRecord] {
  const record: LibraryProfileRecord = {
    id,
    groupId,
    identifier,
    name: `Profile ${id}`,
    assignmentType: 'auto',
    latestVersion: 1,
    createdAt: ctx.clock.now(),
    updatedAt: ctx.clock.now(),
  };
  return [record, { ...version(ctx, id, 1), uploadedSigner: 'CN=Signer' }];
}

async function create(store: AdminStorage, p: [LibraryProfileRecord, ProfileVersionRecord]) {
  expect(await store.createLibraryProfile(...p)).toBe(true);
  return p[0];
}

const noContent = (v: ProfileVersionRecord) => ({ ...v, content: Buffer.alloc(0) });

/** Library profiles: creation, optimistic versions, listing, deletion. */
export function profileLibrarySuite(ctx: AdminSuiteContext): void {
  describe('profile library', () => {
    test('ok/a created profile is found by id and identifier, with its version 1', async () => {
      const store = ctx.store();
      const [record, first] = profile(ctx, 'prf_a');
      expect(await store.createLibraryProfile(record, first)).toBe(true);
      expect(await store.findLibraryProfile('prf_a')).toEqual(record);
      expect(await store.findLibraryProfileByIdentifier('com.example.prf_a')).toEqual(record);
      expect(await store.findProfileVersion('prf_a', 1)).toEqual(first);
      expect(await store.findProfileVersion('prf_a', 2)).toBeUndefined();
      expect(await store.findLibraryProfile('prf_b')).toBeUndefined();
      expect(await store.findLibraryProfileByIdentifier('com.example.none')).toBeUndefined();
      expect(await store.countLibraryProfiles('global')).toBe(1);
    });

    test('ok/a taken identifier resolves false and stores nothing', async () => {
      const store = ctx.store();
      const a = await create(store, profile(ctx, 'prf_a'));
      expect(
        await store.createLibraryProfile(...profile(ctx, 'prf_b', 'global', a.identifier)),
      ).toBe(false);
      expect(await store.findLibraryProfile('prf_b')).toBeUndefined();
      expect(await store.findProfileVersion('prf_b', 1)).toBeUndefined();
      expect(await store.findLibraryProfileByIdentifier(a.identifier)).toEqual(a);
    });

    test.each([
      ['a latest version other than 1', (p: LibraryProfileRecord) => ({ ...p, latestVersion: 2 })],
      ['an unknown owner group', (p: LibraryProfileRecord) => ({ ...p, groupId: 'missing' })],
      [
        'a bad assignment type',
        (p: LibraryProfileRecord) => ({ ...p, assignmentType: 'x' as 'auto' }),
      ],
      ['a malformed id', (p: LibraryProfileRecord) => ({ ...p, id: 'bad id' })],
    ])('fail/creating with %s is a TypeError', async (_, change) => {
      const store = ctx.store();
      const [record, first] = profile(ctx, 'prf_a');
      const bad = change(record);
      await expect(
        store.createLibraryProfile(bad, { ...first, profileId: bad.id }),
      ).rejects.toThrow(TypeError);
      expect(await store.countLibraryProfiles('global')).toBe(0);
    });

    test('fail/a taken id is ERR_STORAGE and the first profile stays', async () => {
      const store = ctx.store();
      const a = await create(store, profile(ctx, 'prf_a'));
      const again = profile(ctx, 'prf_a', 'global', 'com.example.other');
      await expect(store.createLibraryProfile(...again)).rejects.toThrow(
        expect.objectContaining({ code: 'ERR_STORAGE' }),
      );
      expect(await store.findLibraryProfile('prf_a')).toEqual(a);
      expect(await store.findLibraryProfileByIdentifier('com.example.other')).toBeUndefined();
    });

    test('ok/a version is added only on the latest; a stale or unknown one resolves undefined', async () => {
      const store = ctx.store();
      const a = await create(store, profile(ctx, 'prf_a'));
      ctx.clock.advance(1000);
      const v2 = version(ctx, 'prf_a', 2);
      const updated = { ...a, latestVersion: 2, updatedAt: ctx.clock.now() };
      expect(await store.addProfileVersion(v2)).toEqual(updated);
      expect(await store.addProfileVersion({ ...v2, payloadUuid: 'other' })).toBeUndefined();
      expect(await store.addProfileVersion(version(ctx, 'prf_a', 4))).toBeUndefined();
      expect(await store.addProfileVersion(version(ctx, 'prf_zz', 1))).toBeUndefined();
      expect(await store.findLibraryProfile('prf_a')).toEqual(updated);
      expect(await store.findProfileVersion('prf_a', 2)).toEqual(v2);
    });

    test('ok/of two concurrent versions on one latest exactly one is added', async () => {
      const store = ctx.store();
      await create(store, profile(ctx, 'prf_a'));
      const v2 = version(ctx, 'prf_a', 2);
      const results = await Promise.all(
        [v2, { ...v2, payloadUuid: 'other' }].map((v) => store.addProfileVersion(v)),
      );
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
      expect(await store.listProfileVersions('prf_a')).toHaveLength(2);
    });

    test('ok/versions are listed newest first, without content', async () => {
      const store = ctx.store();
      const [record, first] = profile(ctx, 'prf_a');
      await create(store, [record, first]);
      const v2 = version(ctx, 'prf_a', 2);
      await store.addProfileVersion(v2);
      expect(await store.listProfileVersions('prf_a')).toEqual([noContent(v2), noContent(first)]);
      expect(await store.listProfileVersions('prf_zz')).toEqual([]);
    });

    test('ok/profiles are listed in id order, filtered by owner group, paged by cursor', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global'), group(ctx, 'b', 'global')] });
      const owners = ['a', 'b', 'a', 'global', 'a'];
      const ids = ['prf_4', 'prf_0', 'prf_3', 'prf_1', 'prf_2'];
      for (const [i, id] of ids.entries()) await create(store, profile(ctx, id, owners[i]));
      const first = await store.listLibraryProfiles({ limit: 2 });
      expect(first.items.map((p) => p.id)).toEqual(['prf_0', 'prf_1']);
      const rest = await store.listLibraryProfiles({ limit: 3, cursor: first.nextCursor ?? '' });
      expect(rest).toEqual({ items: expect.any(Array) });
      expect(rest.items.map((p) => p.id)).toEqual(['prf_2', 'prf_3', 'prf_4']);
      const inA = await store.listLibraryProfiles({ limit: 2, groupIds: ['a', 'missing'] });
      expect(inA.items.map((p) => p.id)).toEqual(['prf_2', 'prf_3']);
      const more = await store.listLibraryProfiles({
        limit: 2,
        groupIds: ['a'],
        cursor: inA.nextCursor ?? '',
      });
      expect(more).toEqual({ items: [expect.objectContaining({ id: 'prf_4' })] });
      expect(await store.listLibraryProfiles({ limit: 5, groupIds: [] })).toEqual({ items: [] });
      const many = Array.from({ length: 5000 }, (_, i) => `g${String(i)}`).concat('b');
      const inB = await store.listLibraryProfiles({ limit: 5, groupIds: many });
      expect(inB.items.map((p) => p.id)).toEqual(['prf_0']);
      expect(await store.countLibraryProfiles('a')).toBe(3);
    });

    test.each(['', 'abc', 'et_123', 'prf_ bad', '10'])(
      'fail/cursor %j is a TypeError',
      async (cursor) => {
        const store = ctx.store();
        await expect(store.listLibraryProfiles({ limit: 1, cursor })).rejects.toThrow(TypeError);
      },
    );

    test('ok/a profile is updated; unknown resolves undefined; bad changes are TypeErrors', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const a = await create(store, profile(ctx, 'prf_a'));
      ctx.clock.advance(1000);
      const change = { name: 'New', assignmentType: 'interactive' as const, groupId: 'a' };
      const updated = { ...a, ...change, updatedAt: ctx.clock.now() };
      expect(await store.updateLibraryProfile('prf_a', change, ctx.clock.now())).toEqual(updated);
      expect(await store.findLibraryProfile('prf_a')).toEqual(updated);
      expect(
        await store.updateLibraryProfile('prf_zz', { name: 'x' }, ctx.clock.now()),
      ).toBeUndefined();
      await expect(
        store.updateLibraryProfile('prf_a', { groupId: 'missing' }, ctx.clock.now()),
      ).rejects.toThrow(TypeError);
      await expect(
        store.updateLibraryProfile('prf_a', { assignmentType: 'x' as 'auto' }, ctx.clock.now()),
      ).rejects.toThrow(TypeError);
      expect(await store.findLibraryProfile('prf_a')).toEqual(updated);
    });

    test('ok/a deleted profile takes its versions and frees its identifier', async () => {
      const store = ctx.store();
      const a = await create(store, profile(ctx, 'prf_a'));
      await store.addProfileVersion(version(ctx, 'prf_a', 2));
      expect(await store.deleteLibraryProfile('prf_a')).toBe(true);
      expect(await store.deleteLibraryProfile('prf_a')).toBe(false);
      expect(await store.findLibraryProfile('prf_a')).toBeUndefined();
      expect(await store.findProfileVersion('prf_a', 1)).toBeUndefined();
      expect(await store.listProfileVersions('prf_a')).toEqual([]);
      expect(await store.countLibraryProfiles('global')).toBe(0);
      await create(store, profile(ctx, 'prf_b', 'global', a.identifier));
    });

    test('ok/profiles and versions handed out are copies, and so is what was stored', async () => {
      const store = ctx.store();
      const [record, first] = profile(ctx, 'prf_a');
      const kept = { ...first, content: Buffer.from(first.content) };
      await create(store, [record, first]);
      first.content.fill(0);
      const found = await store.findProfileVersion('prf_a', 1);
      found?.content.fill(1);
      const p = await store.findLibraryProfile('prf_a');
      if (p) p.name = 'changed';
      p?.updatedAt.setTime(0);
      expect(await store.findProfileVersion('prf_a', 1)).toEqual(kept);
      expect((await store.findLibraryProfile('prf_a'))?.name).toBe('Profile prf_a');
      expect((await store.findLibraryProfile('prf_a'))?.updatedAt).toEqual(ctx.clock.now());
    });
  });
}

/**
 * Users conformance: who each enrollment belongs to, and what deleting a user or a group does to
 * ownerships and links.
 */
import { describe, expect, test } from '@jest/globals';
import type { AdminStorage, EnrollmentOwner, UserRecord } from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';
import { apply, group } from './management-fixtures.js';

async function user(
  store: AdminStorage,
  username: string,
  groupId = 'global',
): Promise<UserRecord> {
  const made = await store.createUser({ username, email: `${username}@example.com`, groupId });
  if (made === undefined) throw new Error(`username ${username} taken`);
  return made;
}

/** Registers the ownership and deletion cases. */
export function ownerSuite(ctx: AdminSuiteContext): void {
  const owner = (enrollmentId: string, u: UserRecord, ms = 0): EnrollmentOwner => ({
    ...{ enrollmentId, userId: u.id, groupId: u.groupId },
    assignedAt: new Date(ctx.clock.now().getTime() + ms),
  });

  describe('enrollment owners and deletions', () => {
    test('ok/an owner is recorded, found, listed per user and replaced', async () => {
      const store = ctx.store();
      const [ann, bob] = [await user(store, 'ann'), await user(store, 'bob')];
      const first = { ...owner('dev-1', ann, 2), linkId: 'et_a' };
      await store.assignEnrollmentOwner(first);
      await store.assignEnrollmentOwner(owner('dev-2', ann, 1));
      expect(await store.findEnrollmentOwner('dev-1')).toEqual(first);
      expect(await store.listUserEnrollments(ann.id)).toEqual([owner('dev-2', ann, 1), first]);
      await store.assignEnrollmentOwner(owner('dev-1', bob, 3));
      expect(await store.findEnrollmentOwner('dev-1')).toEqual(owner('dev-1', bob, 3));
      expect(await store.listUserEnrollments(ann.id)).toEqual([owner('dev-2', ann, 1)]);
      expect(await store.findEnrollmentOwner('dev-9')).toBeUndefined();
      expect(await store.listUserEnrollments('usr_nobody')).toEqual([]);
    });

    test.each([
      ['an unknown user', { userId: 'usr_nobody' }],
      ['an unknown group', { groupId: 'nope' }],
      ['an empty enrollment id', { enrollmentId: '' }],
    ])('fail/an owner with %s is a TypeError', async (_, bad) => {
      const store = ctx.store();
      const ann = await user(store, 'ann');
      await expect(store.assignEnrollmentOwner({ ...owner('dev-1', ann), ...bad })).rejects.toThrow(
        TypeError,
      );
      expect(await store.findEnrollmentOwner('dev-1')).toBeUndefined();
    });

    test('ok/deleting a user revokes its personal link and drops its ownerships', async () => {
      const store = ctx.store();
      const [ann, bob] = [await user(store, 'ann'), await user(store, 'bob')];
      const link = { singleUse: false, kind: 'personal' as const, groupId: 'global' };
      const annLink = await store.createEnrollmentToken({ ...link, hash: 'a', userId: ann.id });
      const bobLink = await store.createEnrollmentToken({ ...link, hash: 'b', userId: bob.id });
      await store.assignEnrollmentOwner(owner('dev-a', ann));
      const bobOwns = owner('dev-b', bob);
      await store.assignEnrollmentOwner(bobOwns);
      ctx.clock.advance(1000);
      expect(await store.deleteUser(ann.id)).toBe(true);
      expect(await store.deleteUser(ann.id)).toBe(false);
      expect(await store.findUser(ann.id)).toBeUndefined();
      expect(await store.findUserByUsername('ann')).toBeUndefined();
      expect(await store.findEnrollmentToken(annLink.id)).toEqual({
        ...annLink,
        revokedAt: ctx.clock.now(),
      });
      expect(await store.findPersonalEnrollmentToken(ann.id)).toBeUndefined();
      expect(await store.findEnrollmentToken(bobLink.id)).toEqual(bobLink);
      expect(await store.findEnrollmentOwner('dev-a')).toBeUndefined();
      expect(await store.findEnrollmentOwner('dev-b')).toEqual(bobOwns);
      expect(await user(store, 'ANN')).toMatchObject({ username: 'ANN' });
    });

    test('fail/a group that owns a user cannot be deleted; once empty it goes with its links', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const ann = await user(store, 'ann', 'a');
      const generic = await store.createEnrollmentToken({
        ...{ hash: 'g', singleUse: false, kind: 'generic', groupId: 'a' },
      });
      await store.assignEnrollmentOwner(owner('dev-a', ann));
      const { revision } = await store.loadManagement();
      await expect(store.applyManagement({ deleteGroups: ['a'] }, revision)).rejects.toThrow(
        TypeError,
      );
      expect(await store.findGroup('a')).toBeDefined();
      await store.updateUser(ann.id, { groupId: 'global' });
      ctx.clock.advance(1000);
      expect(await store.applyManagement({ deleteGroups: ['a'] }, revision)).toBe(revision + 1);
      expect(await store.findEnrollmentToken(generic.id)).toMatchObject({
        revokedAt: ctx.clock.now(),
      });
      expect(await store.findEnrollmentOwner('dev-a')).toBeUndefined();
    });
  });
}

/**
 * Owned-enrollment conformance: {@link UserStore.listOwnedEnrollments} returns the union of its
 * filter's conditions, with each owner's current user, in enrollment id order across pages.
 */
import { describe, expect, test } from '@jest/globals';
import type {
  AdminStorage,
  OwnedEnrollmentFilter,
  UserFields,
  UserRecord,
} from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';
import { apply, group } from './management-fixtures.js';

/** Every enrollment id of `filter`, paging by `limit`. */
async function allOwned(
  store: AdminStorage,
  filter: OwnedEnrollmentFilter,
  limit = 2,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listOwnedEnrollments(
      filter,
      cursor === undefined ? { limit } : { limit, cursor },
    );
    ids.push(...page.items.map((item) => item.enrollmentId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

/** Registers the owned-enrollment cases. */
export function ownedEnrollmentSuite(ctx: AdminSuiteContext): void {
  const make = async (fields: Partial<UserFields> & { username: string }): Promise<UserRecord> => {
    const u = await ctx
      .store()
      .createUser({ email: 'x@example.com', groupId: 'global', ...fields });
    if (u === undefined) throw new Error('taken');
    return u;
  };
  const own = async (enrollmentId: string, u: UserRecord): Promise<void> =>
    ctx.store().assignEnrollmentOwner({
      ...{ enrollmentId, userId: u.id, groupId: u.groupId },
      assignedAt: ctx.clock.now(),
    });

  /** ann (a, pol_1): e1, e5; bob (a, no policy): e2; cid (b, no policy): e3; dan (b, pol_2): e4. */
  async function fleet(): Promise<Record<string, UserRecord>> {
    await apply(ctx.store(), { putGroups: [group(ctx, 'a', 'global'), group(ctx, 'b', 'a')] });
    const ann = await make({ username: 'ann', groupId: 'a', policy: 'pol_1' });
    const bob = await make({ username: 'bob', groupId: 'a' });
    const cid = await make({ username: 'cid', groupId: 'b' });
    const dan = await make({ username: 'dan', groupId: 'b', policy: 'pol_2' });
    await make({ username: 'eve', groupId: 'a' });
    for (const [e, u] of [
      ['e5', ann],
      ['e1', ann],
      ['e2', bob],
      ['e3', cid],
      ['e4', dan],
    ] as const)
      await own(e, u);
    return { ann, bob, cid, dan };
  }

  describe('owned enrollments', () => {
    test.each<[string, OwnedEnrollmentFilter, string[]]>([
      ['no condition: every owned enrollment', {}, ['e1', 'e2', 'e3', 'e4', 'e5']],
      ['own policy', { userPolicyIds: ['pol_1'] }, ['e1', 'e5']],
      ['group default only', { groupsWithoutUserPolicy: ['b'] }, ['e3']],
      ['group whatever the policy', { groupIds: ['b'] }, ['e3', 'e4']],
      ['enrollments', { enrollmentIds: ['e4', 'e9'] }, ['e4']],
      ['empty lists match nothing', { userIds: [], groupIds: [] }, []],
      [
        'a union',
        { userPolicyIds: ['pol_2'], groupsWithoutUserPolicy: ['a'], enrollmentIds: ['e1'] },
        ['e1', 'e2', 'e4'],
      ],
    ])('ok/%s', async (_, filter, expected) => {
      await fleet();
      expect(await allOwned(ctx.store(), filter)).toEqual(expected);
      expect(await allOwned(ctx.store(), filter, 10_000)).toEqual(expected);
    });

    test('ok/items carry the user as stored now (its current group)', async () => {
      const { bob } = await fleet();
      const store = ctx.store();
      ctx.clock.advance(1000);
      const moved = await store.updateUser(bob?.id ?? '', { groupId: 'b' });
      const page = await store.listOwnedEnrollments({ userIds: [bob?.id ?? ''] }, { limit: 5 });
      expect(page).toEqual({ items: [{ enrollmentId: 'e2', user: moved }] });
      expect(await allOwned(store, { groupsWithoutUserPolicy: ['b'] })).toEqual(['e2', 'e3']);
      await store.deleteUser(bob?.id ?? '');
      expect(await allOwned(store, { groupIds: ['b'] })).toEqual(['e3', 'e4']);
    });

    test.each([0, 10_001, 1.5])('fail/limit %p is a TypeError', async (limit) => {
      await expect(ctx.store().listOwnedEnrollments({}, { limit })).rejects.toThrow(TypeError);
    });

    test('fail/a foreign cursor or a bad filter is a TypeError', async () => {
      const store = ctx.store();
      for (const cursor of ['nope', 'pol_a', Buffer.from('42').toString('base64url')])
        await expect(store.listOwnedEnrollments({}, { limit: 1, cursor })).rejects.toThrow(
          TypeError,
        );
      const bad = { userIds: [''] } as OwnedEnrollmentFilter;
      await expect(store.listOwnedEnrollments(bad, { limit: 1 })).rejects.toThrow(TypeError);
    });
  });
}

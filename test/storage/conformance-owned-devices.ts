/**
 * Owned-device conformance: {@link UserStore.listOwnedDevices} answers what
 * `listOwnedEnrollments` and then `findEnrollments` would (the delivery service's two reads),
 * in one call: the owned enrollments of the filter that have a record, in enrollment id order
 * across pages, each with its current user and its enrollment record without `lastSeenAt`.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type {
  AdminStorage,
  EnrollmentRecord,
  MdmStorage,
  OwnedDevice,
  OwnedEnrollmentFilter,
  UserRecord,
} from '../../src/storage/ports.js';
import { createTestClock, type TestClock } from './conformance.js';
import { apply, group } from './management-fixtures.js';

/** An admin store and the MDM store beside it, on one backing; `close` ends both. */
export interface OwnedDeviceStores {
  admin: AdminStorage;
  mdm: MdmStorage;
  close(): Promise<void>;
}

/** Opens fresh stores stamped by `clock`. */
export type OwnedDeviceFactory = (options: { clock: () => Date }) => Promise<OwnedDeviceStores>;

type Listing = Required<Pick<AdminStorage, 'listOwnedDevices'>>['listOwnedDevices'];

/** Every owned device of `filter`, paging by `limit`, and the number of pages read. */
async function allDevices(list: Listing, filter: OwnedEnrollmentFilter, limit: number) {
  const items: OwnedDevice[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(filter, cursor === undefined ? { limit } : { limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined);
  return { items, pages };
}

/** The record `findEnrollments` gives, as `listOwnedDevices` carries it (no `lastSeenAt`). */
function withoutLastSeen(record: EnrollmentRecord): OwnedDevice['enrollment'] {
  const { lastSeenAt: _seen, ...rest } = record;
  return rest;
}

/** Registers the owned-device cases against the stores `factory` opens. */
export function runOwnedDeviceConformance(name: string, factory: OwnedDeviceFactory): void {
  describe(`owned devices conformance: ${name}`, () => {
    let stores: OwnedDeviceStores;
    let clock: TestClock;
    let list: Listing;

    beforeEach(async () => {
      clock = createTestClock();
      stores = await factory({ clock: clock.now });
      const own = stores.admin.listOwnedDevices?.bind(stores.admin);
      if (own === undefined) throw new Error(`${name} has no listOwnedDevices`);
      list = own;
    });

    afterEach(async () => {
      await stores.close();
    });

    const user = async (username: string, groupId: string, policy?: string) => {
      const fields = { username, email: `${username}@example.com`, groupId };
      const u = await stores.admin.createUser(
        policy === undefined ? fields : { ...fields, policy },
      );
      if (u === undefined) throw new Error('taken');
      return u;
    };
    const own = (enrollmentId: string, u: UserRecord) =>
      stores.admin.assignEnrollmentOwner({
        ...{ enrollmentId, userId: u.id, groupId: u.groupId },
        assignedAt: clock.now(),
      });
    const facts = (i: number) => ({ SerialNumber: `S${String(i)}`, OSVersion: '17.4', n: [i] });

    /**
     * ann (a, pol_1): e1, e5; bob (a, no policy): e2 (user channel), e6 (no record); cid (b):
     * e3 (checked out); dan (b, pol_2): e4. e7 is enrolled and nobody's.
     */
    async function fleet(): Promise<Record<string, UserRecord>> {
      const at = { store: () => stores.admin, clock };
      await apply(stores.admin, { putGroups: [group(at, 'a', 'global'), group(at, 'b', 'a')] });
      const ann = await user('ann', 'a', 'pol_1');
      const bob = await user('bob', 'a');
      const cid = await user('cid', 'b');
      const dan = await user('dan', 'b', 'pol_2');
      const push = { token: 'ab', pushMagic: 'm', topic: 't' };
      for (const [i, id] of ['e1', 'e3', 'e4', 'e5', 'e7'].entries()) {
        await stores.mdm.storeAuthenticate({ id, type: 'device', deviceId: id, facts: facts(i) });
        await stores.mdm.storeTokenUpdate({ id, type: 'device', deviceId: id, push });
      }
      await stores.mdm.storeTokenUpdate({
        ...{ id: 'e2', type: 'user', deviceId: 'e1', parentId: 'e1', userId: 'U-2' },
        ...{ userShortName: 'bob', userLongName: 'Bob B', push },
      });
      await stores.mdm.markCheckedOut('e3');
      await stores.mdm.touchLastSeen(['e1', 'e4'], clock.now());
      for (const [e, u] of [
        ['e5', ann],
        ['e1', ann],
        ['e2', bob],
        ['e6', bob],
        ['e3', cid],
        ['e4', dan],
      ] as const)
        await own(e, u);
      return { ann, bob, cid, dan };
    }

    /** What the two reads answer: owned enrollments, then their records (gone ones left out). */
    async function twoReads(filter: OwnedEnrollmentFilter): Promise<OwnedDevice[]> {
      const owned = await stores.admin.listOwnedEnrollments(filter, { limit: 10_000 });
      const found = await stores.mdm.findEnrollments(owned.items.map((o) => o.enrollmentId));
      const byId = new Map(found.map((e) => [e.id, withoutLastSeen(e)]));
      return owned.items.flatMap((o) => {
        const enrollment = byId.get(o.enrollmentId);
        return enrollment === undefined ? [] : [{ ...o, enrollment }];
      });
    }

    test.each<[string, OwnedEnrollmentFilter, string[]]>([
      ['no condition: every owned enrollment with a record', {}, ['e1', 'e2', 'e3', 'e4', 'e5']],
      ['own policy', { userPolicyIds: ['pol_1'] }, ['e1', 'e5']],
      ['group default only (e6 has no record)', { groupsWithoutUserPolicy: ['a'] }, ['e2']],
      ['group whatever the policy', { groupIds: ['b'] }, ['e3', 'e4']],
      ['enrollments (e7 is nobody’s)', { enrollmentIds: ['e4', 'e6', 'e7'] }, ['e4']],
      ['empty lists match nothing', { userIds: [], groupIds: [] }, []],
      [
        'a union',
        { userPolicyIds: ['pol_2'], groupsWithoutUserPolicy: ['b'], enrollmentIds: ['e1'] },
        ['e1', 'e3', 'e4'],
      ],
    ])('ok/%s: what the two reads answer, in one call', async (_, filter, expected) => {
      await fleet();
      const want = await twoReads(filter);
      expect(want.map((d) => d.enrollmentId)).toEqual(expected);
      for (const limit of [1, 2, 10_000]) {
        const { items } = await allDevices(list, filter, limit);
        expect(items).toEqual(want);
      }
    });

    test('ok/records carry facts, channels and enrollment state; users as stored now', async () => {
      const { bob } = await fleet();
      clock.advance(1000);
      const moved = await stores.admin.updateUser(bob?.id ?? '', { groupId: 'b', policy: 'p' });
      await stores.mdm.mergeFacts('e1', { IsSupervised: true });
      const { items } = await allDevices(list, { enrollmentIds: ['e1', 'e2', 'e3'] }, 10);
      const [e1, e2, e3] = items;
      expect(e1?.enrollment).toMatchObject({
        ...{ id: 'e1', type: 'device', deviceId: 'e1', enrolled: true, tokenUpdateCount: 1 },
        facts: { ...facts(0), IsSupervised: true },
      });
      expect(e1?.enrollment).not.toHaveProperty('lastSeenAt');
      expect(e2).toEqual({
        enrollmentId: 'e2',
        user: moved,
        enrollment: withoutLastSeen((await stores.mdm.findEnrollment('e2')) as EnrollmentRecord),
      });
      expect(e2?.enrollment).toMatchObject({
        parentId: 'e1',
        userId: 'U-2',
        userLongName: 'Bob B',
      });
      expect(e3?.enrollment).toMatchObject({ id: 'e3', enrolled: false });
    });

    test('ok/a page stops at its limit and the cursor walks past owners without a record', async () => {
      await fleet();
      const { items, pages } = await allDevices(list, { groupIds: ['a'] }, 1);
      expect(items.map((d) => d.enrollmentId)).toEqual(['e1', 'e2', 'e5']);
      expect(pages).toBeGreaterThanOrEqual(3);
    });

    test.each([0, 10_001, 1.5])('fail/limit %p is a TypeError', async (limit) => {
      await expect(list({}, { limit })).rejects.toThrow(TypeError);
    });

    test('fail/a foreign cursor or a bad filter is a TypeError', async () => {
      for (const cursor of ['nope', Buffer.from('42').toString('base64url')])
        await expect(list({}, { limit: 1, cursor })).rejects.toThrow(TypeError);
      const bad = { userIds: [''] } as OwnedEnrollmentFilter;
      await expect(list(bad, { limit: 1 })).rejects.toThrow(TypeError);
    });
  });
}

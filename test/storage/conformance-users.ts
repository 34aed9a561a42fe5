/**
 * The users storage conformance suite: users with case-insensitively unique usernames, imports
 * (atomic or row by row), generic users numbered from their prefix, who each enrollment belongs
 * to, and what deleting a user or its group does. Every {@link AdminStorage} adapter must pass
 * it; call `runUserConformance(name, factory)` from a `*.test.ts`.
 */
import { describe, expect, test } from '@jest/globals';
import type { UserFields } from '../../src/storage/ports.js';
import {
  describeAdminSuites,
  type AdminStorageFactory,
  type AdminSuiteContext,
} from './conformance-admin.js';
import { apply, group } from './management-fixtures.js';
import { ownerSuite } from './conformance-users-owners.js';

const ann: UserFields = { username: 'Ann', email: 'ann@example.com', groupId: 'global' };

function userSuite(ctx: AdminSuiteContext): void {
  describe('users', () => {
    test('ok/a new user has a fresh id, its fields and the clock; it is found by any case', async () => {
      const store = ctx.store();
      const fields = { ...ann, firstName: 'Ann', policy: 'staff', custom3: 'c3' };
      const user = await store.createUser(fields);
      const now = ctx.clock.now();
      expect(user).toEqual({
        ...fields,
        id: user?.id,
        generic: false,
        createdAt: now,
        updatedAt: now,
      });
      expect(user?.id).toMatch(/^usr_[0-9a-f]{12}$/);
      expect(await store.findUser(user?.id ?? '')).toEqual(user);
      for (const name of ['Ann', 'ann', 'ANN'])
        expect(await store.findUserByUsername(name)).toEqual(user);
      expect(await store.findUserByUsername('anne')).toBeUndefined();
      expect(await store.findUser('usr_unknown')).toBeUndefined();
    });

    test('fail/a username taken in any case resolves undefined and stores nothing', async () => {
      const store = ctx.store();
      const first = await store.createUser(ann);
      expect(
        await store.createUser({ ...ann, username: 'aNN', email: 'x@example.com' }),
      ).toBeUndefined();
      expect((await store.listUsers({ limit: 10 })).items).toEqual([first]);
    });

    test.each([
      ['an unknown group', { groupId: 'nope' }],
      ['an empty username', { username: '' }],
      ['a username that is no string', { username: 7 }],
      ['an email that is no string', { email: null }],
      ['an optional field that is no string', { custom1: 1 }],
    ])('fail/%s is a TypeError and stores nothing', async (_, bad) => {
      const store = ctx.store();
      const fields = { ...ann, ...bad } as unknown as UserFields;
      await expect(store.createUser(fields)).rejects.toThrow(TypeError);
      expect((await store.listUsers({ limit: 10 })).items).toEqual([]);
    });

    test('ok/an update changes, clears and renames; undefined when unknown', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const user = await store.createUser({ ...ann, lastName: 'Lee', policy: 'p' });
      ctx.clock.advance(1000);
      const change = { username: 'ANN', lastName: undefined, groupId: 'a', custom1: 'x' };
      const updated = await store.updateUser(
        user?.id ?? '',
        change as unknown as Partial<UserFields>,
      );
      expect(updated).toEqual({
        ...{ id: user?.id, username: 'ANN', email: ann.email, groupId: 'a', policy: 'p' },
        ...{ custom1: 'x', generic: false, createdAt: user?.createdAt, updatedAt: ctx.clock.now() },
      });
      expect(await store.findUser(user?.id ?? '')).toEqual(updated);
      expect(await store.findUserByUsername('ann')).toEqual(updated);
      expect(await store.updateUser('usr_unknown', { email: 'x' })).toBeUndefined();
    });

    test.each([
      ['a username another user has (in any case)', { username: 'BOB' }],
      ['an unknown group', { groupId: 'nope' }],
      ['an empty username', { username: '' }],
    ])('fail/an update to %s is a TypeError and changes nothing', async (_, change) => {
      const store = ctx.store();
      const user = await store.createUser(ann);
      await store.createUser({ ...ann, username: 'bob' });
      await expect(store.updateUser(user?.id ?? '', change)).rejects.toThrow(TypeError);
      expect(await store.findUser(user?.id ?? '')).toEqual(user);
    });

    test('ok/users are listed in id order, of some groups only when asked; pages follow the cursor', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const made = [];
      for (const n of [1, 2, 3, 4])
        made.push(
          await store.createUser({
            ...ann,
            username: `u${String(n)}`,
            groupId: n % 2 ? 'a' : 'global',
          }),
        );
      const ids = made.map((u) => u?.id ?? '').sort();
      const first = await store.listUsers({ limit: 3 });
      expect(first.items.map((u) => u.id)).toEqual(ids.slice(0, 3));
      expect(first.nextCursor).toBe(ids[2]);
      const rest = await store.listUsers({ limit: 3, cursor: first.nextCursor ?? '' });
      expect(rest).toEqual({ items: [expect.objectContaining({ id: ids[3] })] });
      const inA = await store.listUsers({ limit: 10, groupIds: ['a'] });
      expect(inA.items.map((u) => u.username).sort()).toEqual(['u1', 'u3']);
      expect((await store.listUsers({ limit: 10, groupIds: [] })).items).toEqual([]);
      await expect(store.listUsers({ limit: 1, cursor: 'prf_x' })).rejects.toThrow(TypeError);
    });
  });
}

function importSuite(ctx: AdminSuiteContext): void {
  describe('user imports', () => {
    test.each([true, false])(
      'ok/rows are created, updated or unchanged by username (atomic %s)',
      async (atomic) => {
        const store = ctx.store();
        const [created] = await store.upsertUsers([{ fields: ann }], { atomic });
        expect(created).toEqual({ outcome: 'created', user: expect.objectContaining(ann) });
        ctx.clock.advance(1000);
        const bob = { ...ann, username: 'bob' };
        const outcomes = await store.upsertUsers(
          [
            { fields: { ...ann } },
            { fields: { ...ann, username: 'ANN', policy: 'p' } },
            { fields: bob },
          ],
          { atomic },
        );
        expect(outcomes.map((o) => o.outcome)).toEqual(['unchanged', 'updated', 'created']);
        expect(outcomes[0]?.user).toEqual(created?.user);
        expect(outcomes[1]?.user).toEqual({
          ...created?.user,
          ...{ username: 'ANN', policy: 'p', updatedAt: ctx.clock.now() },
        });
        expect(await store.findUserByUsername('ann')).toEqual(outcomes[1]?.user);
        // A row replaces every field: what it leaves out is cleared.
        const [cleared] = await store.upsertUsers([{ fields: { ...ann, username: 'ANN' } }], {
          atomic,
        });
        expect(cleared?.outcome).toBe('updated');
        expect(cleared?.user.policy).toBeUndefined();
      },
    );

    test('fail/an atomic import with a bad row rejects and applies no row', async () => {
      const store = ctx.store();
      const before = await store.createUser(ann);
      const rows = [
        { fields: { ...ann, policy: 'changed' } },
        { fields: { ...ann, username: 'new' } },
        { fields: { ...ann, username: 'bad', groupId: 'nope' } },
      ];
      await expect(store.upsertUsers(rows, { atomic: true })).rejects.toThrow(TypeError);
      expect((await store.listUsers({ limit: 10 })).items).toEqual([before]);
    });

    test('fail/a row-by-row import rejects at a bad row, keeping the rows before it', async () => {
      const store = ctx.store();
      const rows = [
        { fields: { ...ann, username: 'one' } },
        { fields: { ...ann, username: 'bad', groupId: 'nope' } },
        { fields: { ...ann, username: 'three' } },
      ];
      await expect(store.upsertUsers(rows, { atomic: false })).rejects.toThrow(TypeError);
      const names = (await store.listUsers({ limit: 10 })).items.map((u) => u.username);
      expect(names).toEqual(['one']);
    });
  });
}

function genericSuite(ctx: AdminSuiteContext): void {
  describe('generic users', () => {
    test('ok/generic users take the lowest free number of their prefix', async () => {
      const store = ctx.store();
      const first = await store.createGenericUser({
        prefix: 'kiosk',
        groupId: 'global',
        policy: 'p',
      });
      expect(first).toEqual({
        ...{ id: first.id, username: 'kiosk-1', email: '', groupId: 'global', policy: 'p' },
        ...{ generic: true, createdAt: ctx.clock.now(), updatedAt: ctx.clock.now() },
      });
      await store.createUser({ ...ann, username: 'KIOSK-2' });
      await store.createUser({ ...ann, username: 'kiosk-x' });
      await store.createUser({ ...ann, username: 'kiosk-03' });
      expect((await store.createGenericUser({ prefix: 'kiosk', groupId: 'global' })).username).toBe(
        'kiosk-3',
      );
      expect((await store.createGenericUser({ prefix: 'Kiosk', groupId: 'global' })).username).toBe(
        'Kiosk-4',
      );
      expect((await store.createGenericUser({ prefix: 'k_o%', groupId: 'global' })).username).toBe(
        'k_o%-1',
      );
      await store.deleteUser(first.id);
      expect((await store.createGenericUser({ prefix: 'kiosk', groupId: 'global' })).username).toBe(
        'kiosk-1',
      );
    });

    test('ok/five concurrent generic users get five distinct names', async () => {
      const store = ctx.store();
      const made = await Promise.all(
        [1, 2, 3, 4, 5].map(() => store.createGenericUser({ prefix: 'dev', groupId: 'global' })),
      );
      expect(made.map((u) => u.username).sort()).toEqual([
        'dev-1',
        'dev-2',
        'dev-3',
        'dev-4',
        'dev-5',
      ]);
    });

    test.each([
      ['an unknown group', { prefix: 'p', groupId: 'nope' }],
      ['an empty prefix', { prefix: '', groupId: 'global' }],
    ])('fail/%s is a TypeError', async (_, input) => {
      const store = ctx.store();
      await expect(store.createGenericUser(input)).rejects.toThrow(TypeError);
      expect((await store.listUsers({ limit: 10 })).items).toEqual([]);
    });
  });
}

function closedSuite(ctx: AdminSuiteContext): void {
  test('fail/every user call after close rejects with ERR_STORAGE', async () => {
    const store = ctx.store();
    store.close();
    const now = ctx.clock.now();
    const owner = { enrollmentId: 'e', userId: 'usr_a', groupId: 'global', assignedAt: now };
    const calls: (() => Promise<unknown>)[] = [
      () => store.createUser(ann),
      () => store.upsertUsers([{ fields: ann }], { atomic: true }),
      () => store.updateUser('usr_a', { email: 'x' }),
      () => store.deleteUser('usr_a'),
      () => store.findUser('usr_a'),
      () => store.findUserByUsername('ann'),
      () => store.listUsers({ limit: 1 }),
      () => store.createGenericUser({ prefix: 'p', groupId: 'global' }),
      () => store.assignEnrollmentOwner(owner),
      () => store.findEnrollmentOwner('e'),
      () => store.listUserEnrollments('usr_a'),
    ];
    for (const call of calls)
      await expect(call()).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
  });
}

/** Runs the whole users conformance suite against the adapter `factory` makes. */
export function runUserConformance(name: string, factory: AdminStorageFactory): void {
  describeAdminSuites(`users storage conformance: ${name}`, factory, [
    userSuite,
    importSuite,
    genericSuite,
    ownerSuite,
    closedSuite,
  ]);
}

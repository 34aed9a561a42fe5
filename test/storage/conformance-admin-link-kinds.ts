/**
 * Admin conformance: personal and generic enrollment links. Kinds, owners and policies are kept;
 * a kept secret is readable but never part of a record; a user has at most one active personal
 * link; rotation, mails, first download and first enrollment are stamped as the port says.
 */
import { describe, expect, test } from '@jest/globals';
import type { AdminStorage, NewEnrollmentToken } from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';

const personal = (hash: string, userId = 'usr_a'): NewEnrollmentToken => ({
  ...{ hash, singleUse: false, kind: 'personal', userId, groupId: 'global' },
  secret: `secret-${hash}`,
});

/** Registers the personal and generic link cases. */
export function adminLinkKindsSuite(ctx: AdminSuiteContext): void {
  const at = (ms: number): Date => new Date(ctx.clock.now().getTime() + ms);
  let store: AdminStorage;

  describe('personal and generic enrollment links', () => {
    test('ok/kind defaults to single; owners, policy and the kept secret are stored', async () => {
      store = ctx.store();
      const single = await store.createEnrollmentToken({ hash: 'h1', singleUse: true });
      expect(single.kind).toBe('single');
      const generic = await store.createEnrollmentToken({
        ...{ hash: 'h2', singleUse: false, kind: 'generic', groupId: 'global' },
        ...{ policy: 'kiosk', secret: 's-2' },
      });
      expect(generic).toEqual({
        ...{ id: generic.id, kind: 'generic', singleUse: false, uses: 0, enrollments: 0 },
        ...{ groupId: 'global', policy: 'kiosk', createdAt: ctx.clock.now() },
      });
      expect(await store.findEnrollmentToken(generic.id)).toEqual(generic);
      expect(await store.findEnrollmentTokenSecret(generic.id)).toBe('s-2');
      expect(await store.findEnrollmentTokenSecret(single.id)).toBeUndefined();
      expect(await store.findEnrollmentTokenSecret('et_unknown')).toBeUndefined();
    });

    test.each([
      ['an unknown kind', { kind: 'other' }],
      ['a personal link without its user', { kind: 'personal' }],
      ['a generic link without its group', { kind: 'generic' }],
    ])('fail/%s is a TypeError and stores nothing', async (_, terms) => {
      store = ctx.store();
      const input = { hash: 'h', singleUse: false, ...terms } as NewEnrollmentToken;
      await expect(store.createEnrollmentToken(input)).rejects.toThrow(TypeError);
      expect((await store.listEnrollmentTokens({ limit: 5 })).items).toEqual([]);
    });

    test('ok/a user has one active personal link; a revoked one is no longer found', async () => {
      store = ctx.store();
      const mine = await store.createEnrollmentToken(personal('p1'));
      await store.createEnrollmentToken(personal('p2', 'usr_b'));
      expect(await store.findPersonalEnrollmentToken('usr_a')).toEqual(mine);
      await expect(store.createEnrollmentToken(personal('p3'))).rejects.toThrow(TypeError);
      expect(await store.findEnrollmentTokenByHash('p3')).toBeUndefined();
      expect(await store.revokeEnrollmentToken(mine.id)).toBe(true);
      expect(await store.findPersonalEnrollmentToken('usr_a')).toBeUndefined();
      expect(await store.findPersonalEnrollmentToken('usr_nobody')).toBeUndefined();
      const again = await store.createEnrollmentToken(personal('p4'));
      expect(await store.findPersonalEnrollmentToken('usr_a')).toEqual(again);
    });

    test('ok/rotation retires the old link and stores the new one at the given time', async () => {
      store = ctx.store();
      const old = await store.createEnrollmentToken(personal('p1'));
      const when = at(5000);
      const next = await store.rotateEnrollmentToken(old.id, personal('p2'), when);
      expect(next).toMatchObject({ kind: 'personal', userId: 'usr_a', createdAt: when });
      expect(next?.revokedAt).toBeUndefined();
      expect(next?.id).not.toBe(old.id);
      expect(await store.findEnrollmentToken(old.id)).toEqual({
        ...old,
        revokedAt: when,
        rotatedAt: when,
      });
      expect(await store.findPersonalEnrollmentToken('usr_a')).toEqual(next);
      expect(await store.findEnrollmentTokenSecret(next?.id ?? '')).toBe('secret-p2');
      expect(await store.downloadEnrollmentToken('p1', at(6000))).toBeUndefined();
      expect(await store.downloadEnrollmentToken('p2', at(6000))).toMatchObject({ uses: 1 });
    });

    test.each([
      ['unknown', async () => Promise.resolve('et_unknown')],
      [
        'revoked',
        async (s: AdminStorage) => {
          const t = await s.createEnrollmentToken(personal('p0', 'usr_z'));
          await s.revokeEnrollmentToken(t.id);
          return t.id;
        },
      ],
      [
        'already rotated',
        async (s: AdminStorage) => {
          const t = await s.createEnrollmentToken(personal('p0', 'usr_z'));
          await s.rotateEnrollmentToken(t.id, personal('p00', 'usr_z'), ctx.clock.now());
          return t.id;
        },
      ],
    ])('fail/rotating an %s link resolves undefined and stores nothing', async (_, prepare) => {
      store = ctx.store();
      const id = await prepare(store);
      const before = await store.listEnrollmentTokens({ limit: 10 });
      expect(await store.rotateEnrollmentToken(id, personal('p9', 'usr_q'), at(1))).toBeUndefined();
      expect(await store.listEnrollmentTokens({ limit: 10 })).toEqual(before);
    });

    test('fail/a rotation whose new link cannot be stored keeps the old link active', async () => {
      store = ctx.store();
      const old = await store.createEnrollmentToken(personal('p1'));
      await store.createEnrollmentToken({ hash: 'taken', singleUse: true });
      await expect(store.rotateEnrollmentToken(old.id, personal('taken'), at(1))).rejects.toThrow(
        expect.objectContaining({ code: 'ERR_STORAGE' }),
      );
      expect(await store.findEnrollmentToken(old.id)).toEqual(old);
    });

    test('ok/a mail stamps sentAt and moves the expiry only later', async () => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ ...personal('p1'), expiresAt: at(10_000) });
      expect(await store.markEnrollmentTokenSent(t.id, at(1), at(20_000))).toMatchObject({
        sentAt: at(1),
        expiresAt: at(20_000),
      });
      expect(await store.markEnrollmentTokenSent(t.id, at(2), at(5_000))).toMatchObject({
        sentAt: at(2),
        expiresAt: at(20_000),
      });
      expect(await store.markEnrollmentTokenSent(t.id, at(3))).toMatchObject({
        sentAt: at(3),
        expiresAt: at(20_000),
      });
      const forever = await store.createEnrollmentToken(personal('p2', 'usr_b'));
      const sent = await store.markEnrollmentTokenSent(forever.id, at(4), at(9_000));
      expect(sent?.expiresAt).toBeUndefined();
      expect(await store.markEnrollmentTokenSent('et_unknown', at(5))).toBeUndefined();
      await store.revokeEnrollmentToken(t.id);
      expect(await store.markEnrollmentTokenSent(t.id, at(6), at(30_000))).toBeUndefined();
      expect(await store.findEnrollmentToken(t.id)).toMatchObject({ sentAt: at(3) });
    });

    test('ok/openedAt and enrolledAt are stamped by the first download and enrollment only', async () => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ hash: 'h1', singleUse: false });
      expect(t.openedAt).toBeUndefined();
      await store.downloadEnrollmentToken('h1', at(100));
      await store.downloadEnrollmentToken('h1', at(200));
      await store.redeemEnrollmentToken(t.id, at(300));
      const found = await store.redeemEnrollmentToken(t.id, at(400));
      expect(found).toMatchObject({
        uses: 2,
        enrollments: 2,
        openedAt: at(100),
        enrolledAt: at(300),
      });
    });

    test('ok/findEnrollmentTokenByHash answers revoked, rotated and expired links too', async () => {
      store = ctx.store();
      const revoked = await store.createEnrollmentToken({ hash: 'r', singleUse: false });
      await store.revokeEnrollmentToken(revoked.id);
      const rotated = await store.createEnrollmentToken(personal('p1'));
      await store.rotateEnrollmentToken(rotated.id, personal('p2'), at(1));
      await store.createEnrollmentToken({ hash: 'e', singleUse: false, expiresAt: at(-1) });
      expect(await store.findEnrollmentTokenByHash('r')).toMatchObject({ id: revoked.id });
      expect(await store.findEnrollmentTokenByHash('p1')).toMatchObject({ rotatedAt: at(1) });
      expect(await store.findEnrollmentTokenByHash('e')).toMatchObject({ expiresAt: at(-1) });
      expect(await store.findEnrollmentTokenByHash('nope')).toBeUndefined();
    });
  });
}

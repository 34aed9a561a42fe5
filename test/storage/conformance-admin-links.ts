/**
 * Admin conformance: enrollment links. Downloads and enrollments are counted apart; a single-use
 * link is spent by its first enrollment; expiry and revocation apply at the given time.
 */
import { describe, expect, test } from '@jest/globals';
import type { AdminStorage } from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';

/** Registers the enrollment link cases. */
export function adminLinksSuite(ctx: AdminSuiteContext): void {
  const at = (ms: number): Date => new Date(ctx.clock.now().getTime() + ms);
  let store: AdminStorage;

  describe('enrollment links', () => {
    test('ok/a new link has its terms, no uses, and the clock as creation time', async () => {
      store = ctx.store();
      const expiresAt = at(60_000);
      const t = await store.createEnrollmentToken({
        hash: 'h1',
        singleUse: true,
        expiresAt,
        user: 'ann',
      });
      expect(t).toEqual({
        id: t.id,
        kind: 'single',
        singleUse: true,
        uses: 0,
        enrollments: 0,
        expiresAt,
        user: 'ann',
        createdAt: ctx.clock.now(),
      });
      expect(t.id).toMatch(/^et_[0-9a-f]{12}$/);
      expect(await store.findEnrollmentToken(t.id)).toEqual(t);
      const bare = await store.createEnrollmentToken({ hash: 'h2', singleUse: false });
      expect(Object.keys(bare).sort()).toEqual(
        ['createdAt', 'enrollments', 'id', 'kind', 'singleUse', 'uses'].sort(),
      );
      expect(await store.findEnrollmentToken('et_unknown')).toBeUndefined();
    });

    test('ok/a single-use link downloads until its first enrollment, which spends it', async () => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ hash: 'h1', singleUse: true });
      expect(await store.downloadEnrollmentToken('h1', at(1000))).toMatchObject({ uses: 1 });
      expect(await store.downloadEnrollmentToken('h1', at(2000))).toMatchObject({ uses: 2 });
      expect(await store.redeemEnrollmentToken(t.id, at(3000))).toMatchObject({ enrollments: 1 });
      expect(await store.redeemEnrollmentToken(t.id, at(3000))).toBeUndefined();
      expect(await store.downloadEnrollmentToken('h1', at(4000))).toBeUndefined();
      expect(await store.findEnrollmentToken(t.id)).toMatchObject({ uses: 2, enrollments: 1 });
    });

    test('ok/of two concurrent enrollments with a single-use link one succeeds', async () => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ hash: 'h1', singleUse: true });
      const both = await Promise.all([
        store.redeemEnrollmentToken(t.id, at(1000)),
        store.redeemEnrollmentToken(t.id, at(1000)),
      ]);
      expect(both.filter((r) => r !== undefined)).toEqual([
        expect.objectContaining({ enrollments: 1 }),
      ]);
    });

    test('ok/a multi-use link enrolls many devices', async () => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ hash: 'h2', singleUse: false });
      for (let i = 1; i <= 3; i++)
        expect(await store.redeemEnrollmentToken(t.id, at(i))).toMatchObject({ enrollments: i });
      expect(await store.downloadEnrollmentToken('h2', at(5))).toMatchObject({
        uses: 1,
        enrollments: 3,
      });
    });

    test.each([
      ['expired (at its expiry instant)', (id: string) => Promise.resolve(id), 60_000],
      ['revoked', async (id: string) => (await store.revokeEnrollmentToken(id), id), 1000],
    ])('fail/a link that is %s neither downloads nor enrolls', async (_, prepare, when) => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({
        hash: 'h3',
        singleUse: false,
        expiresAt: at(60_000),
      });
      expect(await store.downloadEnrollmentToken('h3', at(when - 1))).toMatchObject({ uses: 1 });
      const id = await prepare(t.id);
      expect(await store.downloadEnrollmentToken('h3', at(when))).toBeUndefined();
      expect(await store.redeemEnrollmentToken(id, at(when))).toBeUndefined();
      expect(await store.findEnrollmentToken(t.id)).toMatchObject({ uses: 1, enrollments: 0 });
    });

    test.each([
      ['an unknown hash or id', (): [string, string] => ['nope', 'et_nope']],
      ['the id given as hash, the hash as id', (id: string): [string, string] => [id, 'h1']],
    ])('fail/%s', async (_, wrong) => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ hash: 'h1', singleUse: false });
      const [hash, id] = wrong(t.id);
      expect(await store.downloadEnrollmentToken(hash, at(0))).toBeUndefined();
      expect(await store.redeemEnrollmentToken(id, at(0))).toBeUndefined();
      expect(await store.findEnrollmentToken(t.id)).toMatchObject({ uses: 0, enrollments: 0 });
    });

    test('ok/revoking stamps the clock once; unknown links answer false', async () => {
      store = ctx.store();
      const t = await store.createEnrollmentToken({ hash: 'h1', singleUse: false });
      ctx.clock.advance(500);
      expect(await store.revokeEnrollmentToken(t.id)).toBe(true);
      const revokedAt = ctx.clock.now();
      ctx.clock.advance(500);
      expect(await store.revokeEnrollmentToken(t.id)).toBe(false);
      expect(await store.revokeEnrollmentToken('et_unknown')).toBe(false);
      expect((await store.findEnrollmentToken(t.id))?.revokedAt).toEqual(revokedAt);
    });

    test('fail/a hash already stored is ERR_STORAGE and the first link stays', async () => {
      store = ctx.store();
      const first = await store.createEnrollmentToken({ hash: 'dup', singleUse: true });
      await expect(store.createEnrollmentToken({ hash: 'dup', singleUse: false })).rejects.toThrow(
        expect.objectContaining({ code: 'ERR_STORAGE' }),
      );
      expect((await store.listEnrollmentTokens({ limit: 10 })).items).toEqual([first]);
    });

    test('ok/links are listed in id order; pages follow the cursor (the last id)', async () => {
      store = ctx.store();
      const ids: string[] = [];
      for (const n of [1, 2, 3, 4, 5])
        ids.push(
          (await store.createEnrollmentToken({ hash: `h${String(n)}`, singleUse: false })).id,
        );
      ids.sort();
      const first = await store.listEnrollmentTokens({ limit: 2 });
      expect(first).toEqual({ items: first.items, nextCursor: ids[1] });
      expect(first.items.map((t) => t.id)).toEqual(ids.slice(0, 2));
      const second = await store.listEnrollmentTokens({ limit: 3, cursor: first.nextCursor ?? '' });
      expect(second.items.map((t) => t.id)).toEqual(ids.slice(2));
      expect(second.nextCursor).toBeUndefined();
      expect((await store.listEnrollmentTokens({ limit: 5, cursor: '' })).items).toHaveLength(5);
      expect(await store.listEnrollmentTokens({ limit: 5, cursor: 'zz' })).toEqual({ items: [] });
      const mid = await store.listEnrollmentTokens({ limit: 5, cursor: ids[2] ?? '' });
      expect(mid.items.map((t) => t.id)).toEqual(ids.slice(3));
    });
  });
}

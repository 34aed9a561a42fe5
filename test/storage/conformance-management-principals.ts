/** The administrators part of the management conformance suite. */
import { describe, expect, test } from '@jest/globals';
import type { AdminSuiteContext } from './conformance-admin.js';
import { apply, group } from './management-fixtures.js';

/** Administrators: CRUD, the owner's guarantees, disabling, and the keys they own. */
export function principalSuite(ctx: AdminSuiteContext): void {
  describe('administrators', () => {
    test('ok/created, found, listed oldest first, updated', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      ctx.clock.advance(1000);
      const p = await store.createPrincipal({ name: 'Ann', role: 'read-only', groupId: 'a' });
      expect(p).toEqual({
        id: p.id,
        name: 'Ann',
        role: 'read-only',
        groupId: 'a',
        createdAt: ctx.clock.now(),
      });
      expect(p.id).toMatch(/^adm_[0-9a-f]{12}$/);
      expect(await store.findPrincipal(p.id)).toEqual(p);
      expect((await store.listPrincipals()).map((r) => r.id)).toEqual(['owner', p.id]);
      const updated = { ...p, name: 'Anna', role: 'full' as const, groupId: 'global' };
      expect(
        await store.updatePrincipal(p.id, { name: 'Anna', role: 'full', groupId: 'global' }),
      ).toEqual(updated);
      expect(await store.findPrincipal(p.id)).toEqual(updated);
      expect(await store.updatePrincipal('adm_unknown', { name: 'x' })).toBeUndefined();
      expect(await store.findPrincipal('adm_unknown')).toBeUndefined();
    });

    test.each([
      ['ok/the owner may be renamed', { name: 'Boss' }, true],
      ['fail/the owner may not become read-only', { role: 'read-only' as const }, false],
      ['fail/the owner may not leave the root', { groupId: 'a' }, false],
      ['fail/a bad role', { role: 'admin' as 'full' }, false],
      ['fail/an unknown group', { groupId: 'missing' }, false],
    ])('%s', async (_, change, ok) => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const before = await store.findPrincipal('owner');
      const answer = store.updatePrincipal('owner', change);
      if (ok) expect(await answer).toMatchObject(change);
      else {
        await expect(answer).rejects.toThrow(TypeError);
        expect(await store.findPrincipal('owner')).toEqual(before);
      }
    });

    test.each([
      ['a bad role', { name: 'x', role: 'admin' as 'full', groupId: 'global' }],
      ['an unknown group', { name: 'x', role: 'full' as const, groupId: 'missing' }],
    ])('fail/creating with %s is a TypeError', async (_, input) => {
      const store = ctx.store();
      await expect(store.createPrincipal(input)).rejects.toThrow(TypeError);
      expect(await store.listPrincipals()).toHaveLength(1);
    });

    test('ok/disabling stamps the time and revokes the keys; the owner cannot be disabled', async () => {
      const store = ctx.store();
      const p = await store.createPrincipal({ name: 'Ann', role: 'full', groupId: 'global' });
      await store.createApiKey({ name: 'k1', scope: 'write', hash: 'h1', principalId: p.id });
      const other = await store.createApiKey({ name: 'k2', scope: 'read', hash: 'h2' });
      ctx.clock.advance(5000);
      const at = ctx.clock.now();
      expect(await store.disablePrincipal(p.id, at)).toBe(true);
      expect(await store.findPrincipal(p.id)).toEqual({ ...p, disabledAt: at });
      expect(await store.findApiKeyByHash('h1')).toBeUndefined();
      expect(await store.findApiKeyByHash('h2')).toEqual(other);
      expect((await store.listApiKeys()).find((k) => k.name === 'k1')?.revokedAt).toBeDefined();
      expect(await store.disablePrincipal(p.id, at)).toBe(false);
      expect(await store.disablePrincipal('adm_unknown', at)).toBe(false);
      expect(await store.disablePrincipal('owner', at)).toBe(false);
      expect(await store.findPrincipal('owner')).not.toHaveProperty('disabledAt');
      await expect(
        store.createApiKey({ name: 'k3', scope: 'read', hash: 'h3', principalId: p.id }),
      ).rejects.toThrow(TypeError);
    });

    test('ok/a key belongs to the owner unless it names its administrator', async () => {
      const store = ctx.store();
      const p = await store.createPrincipal({ name: 'Ann', role: 'full', groupId: 'global' });
      const mine = await store.createApiKey({
        name: 'a',
        scope: 'read',
        hash: 'ha',
        principalId: p.id,
      });
      const owners = await store.createApiKey({ name: 'b', scope: 'read', hash: 'hb' });
      expect(mine.principalId).toBe(p.id);
      expect(owners.principalId).toBe('owner');
      expect(await store.findApiKeyByHash('ha')).toEqual(mine);
      expect((await store.listActiveApiKeys()).map((k) => k.record.principalId).sort()).toEqual(
        ['owner', p.id].sort(),
      );
      const unknown = { name: 'c', scope: 'read' as const, hash: 'hc', principalId: 'adm_x' };
      await expect(store.createApiKey(unknown)).rejects.toThrow(TypeError);
      expect(await store.countActiveApiKeys()).toBe(2);
    });

    test('ok/administrators handed out are copies', async () => {
      const store = ctx.store();
      const p = await store.createPrincipal({ name: 'Ann', role: 'full', groupId: 'global' });
      const copy = { ...p, createdAt: new Date(p.createdAt) };
      p.name = 'changed';
      const listed = await store.listPrincipals();
      listed.forEach((r) => r.createdAt.setTime(0));
      expect(await store.findPrincipal(p.id)).toEqual(copy);
    });
  });
}

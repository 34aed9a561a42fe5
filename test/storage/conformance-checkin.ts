/** Conformance: enrollments, push info, certificate bindings, bootstrap tokens. */
import { describe, expect, test } from '@jest/globals';
import type { EnrollmentIdentity, TokenUpdateInput } from '../../src/storage/ports.js';
import type { SuiteContext } from './conformance.js';

const device: EnrollmentIdentity = { id: 'UDID-1', type: 'device', deviceId: 'UDID-1' };
const user: EnrollmentIdentity = {
  id: 'UDID-1:USER-1',
  type: 'user',
  deviceId: 'UDID-1',
  parentId: 'UDID-1',
  userId: 'USER-1',
  userShortName: 'alice',
  userLongName: 'Alice Liddell',
};

function tokenUpdate(identity: EnrollmentIdentity, token = 'aabb'): TokenUpdateInput {
  return { ...identity, push: { token, pushMagic: `magic-${token}`, topic: 'com.apple.mgmt.X' } };
}

/** Registers the check-in, push, certificate and bootstrap cases. */
export function checkinSuite(ctx: SuiteContext): void {
  describe('check-in store', () => {
    test('ok/authenticate stores a pending enrollment with its facts', async () => {
      const facts = { SerialNumber: 'C02X', Model: 'MacBookPro18,1', OSVersion: '15.1' };
      const record = await ctx.store().storeAuthenticate({ ...device, facts });
      expect(record).toMatchObject({ ...device, enrolled: false, tokenUpdateCount: 0, facts });
      expect(record.createdAt).toEqual(ctx.clock.now());
      expect(record.createdAt).toBeInstanceOf(Date);
      expect(await ctx.store().findEnrollment(device.id)).toEqual(record);
    });

    test('ok/token updates enroll, count and keep the push info current', async () => {
      const store = ctx.store();
      await store.storeAuthenticate({ ...device, facts: { SerialNumber: 'S' } });
      ctx.clock.advance(1000);
      const first = await store.storeTokenUpdate(tokenUpdate(device, 'aa01'));
      expect(first).toMatchObject({
        enrolled: true,
        tokenUpdateCount: 1,
        facts: { SerialNumber: 'S' },
      });
      expect(first.updatedAt.getTime()).toBeGreaterThan(first.createdAt.getTime());
      const second = await store.storeTokenUpdate({
        ...tokenUpdate(device, 'aa02'),
        facts: { Extra: 1 },
      });
      expect(second).toMatchObject({ tokenUpdateCount: 2, facts: { SerialNumber: 'S', Extra: 1 } });
      expect(await store.findPushInfo([device.id])).toEqual([
        {
          enrollmentId: device.id,
          token: 'aa02',
          pushMagic: 'magic-aa02',
          topic: 'com.apple.mgmt.X',
        },
      ]);
    });

    test('ok/authenticate again resets a re-enrolling device to pending', async () => {
      const store = ctx.store();
      await store.storeAuthenticate({ ...device, facts: { OSVersion: '14' } });
      await store.storeTokenUpdate(tokenUpdate(device));
      const again = await store.storeAuthenticate({ ...device, facts: { OSVersion: '15' } });
      expect(again).toMatchObject({
        enrolled: false,
        tokenUpdateCount: 0,
        facts: { OSVersion: '15' },
      });
    });

    test('ok/a user channel is created by its first token update', async () => {
      const record = await ctx.store().storeTokenUpdate(tokenUpdate(user));
      expect(record).toMatchObject({ ...user, enrolled: true, tokenUpdateCount: 1, facts: {} });
    });

    test.each([
      ['ok/known enrollment', true],
      ['ok/unknown enrollment', false],
    ])('%s: checkout', async (_name, known) => {
      const store = ctx.store();
      if (known) await store.storeTokenUpdate(tokenUpdate(device));
      expect(await store.markCheckedOut(device.id)).toBe(known);
      expect((await store.findEnrollment(device.id))?.enrolled).toBe(known ? false : undefined);
    });

    test('ok/unlock token is stored and survives a token update without one', async () => {
      const store = ctx.store();
      const unlockToken = new Uint8Array([1, 2, 3, 250]);
      await store.storeTokenUpdate({ ...tokenUpdate(device), unlockToken });
      await store.storeTokenUpdate(tokenUpdate(device));
      expect(await store.findUnlockToken(device.id)).toEqual(unlockToken);
      expect(await store.findUnlockToken('other')).toBeUndefined();
    });

    test('ok/returned records are copies', async () => {
      const store = ctx.store();
      const record = await store.storeAuthenticate({ ...device, facts: { a: 1 } });
      record.facts.a = 2;
      record.enrolled = true;
      expect(await store.findEnrollment(device.id)).toMatchObject({
        enrolled: false,
        facts: { a: 1 },
      });
    });

    test('ok/touchLastSeen writes many ids at once and ignores unknown ones', async () => {
      const store = ctx.store();
      await store.storeTokenUpdate(tokenUpdate(device));
      await store.storeTokenUpdate(tokenUpdate(user));
      const at = new Date(Date.UTC(2026, 5, 1));
      await store.touchLastSeen([device.id, user.id, 'nobody'], at);
      expect((await store.findEnrollment(device.id))?.lastSeenAt).toEqual(at);
      expect((await store.findEnrollment(user.id))?.lastSeenAt).toEqual(at);
      expect(await store.findEnrollment('nobody')).toBeUndefined();
      await store.touchLastSeen([device.id], new Date(at.getTime() - 1000));
      expect((await store.findEnrollment(device.id))?.lastSeenAt).toEqual(at);
      const listed = await store.listEnrollments({ limit: 10 });
      expect(listed.items.map((e) => e.lastSeenAt)).toEqual([at, at]);
    });

    test('ok/listEnrollments pages in id order and filters on enrolled', async () => {
      const store = ctx.store();
      const ids = ['E', 'B', 'D', 'A', 'C'];
      for (const id of ids) {
        const identity = { id, type: 'device' as const, deviceId: id };
        if (id < 'C') await store.storeAuthenticate({ ...identity, facts: {} });
        else await store.storeTokenUpdate(tokenUpdate(identity));
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listEnrollments(
          cursor === undefined ? { limit: 2 } : { limit: 2, cursor },
        );
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(['A', 'B', 'C', 'D', 'E']);
      const enrolled = await store.listEnrollments({ limit: 10, enrolled: true });
      expect(enrolled.items.map((e) => e.id)).toEqual(['C', 'D', 'E']);
      expect(enrolled.nextCursor).toBeUndefined();
    });

    test.each([
      ['fail/limit 0', { limit: 0 }],
      ['fail/limit above 1000', { limit: 1001 }],
      ['fail/fractional limit', { limit: 1.5 }],
      ['fail/foreign cursor', { limit: 1, cursor: '!!not-a-cursor' }],
    ])('%s is a TypeError', async (_name, options) => {
      await expect(ctx.store().listEnrollments(options)).rejects.toBeInstanceOf(TypeError);
    });
  });

  describe('push, certificates, bootstrap tokens', () => {
    test('ok/push tokens are invalidated until the next token update', async () => {
      const store = ctx.store();
      await store.storeTokenUpdate(tokenUpdate(device));
      await store.storeTokenUpdate(tokenUpdate(user, 'cc'));
      const at = new Date(Date.UTC(2026, 1, 1));
      expect(await store.invalidatePushToken(device.id, at)).toBe(true);
      expect(await store.invalidatePushToken('nobody', at)).toBe(false);
      const infos = await store.findPushInfo([device.id, user.id, 'nobody']);
      const byId = new Map(infos.map((i) => [i.enrollmentId, i]));
      expect(infos).toHaveLength(2);
      expect(byId.get(device.id)?.invalidatedAt).toEqual(at);
      expect(byId.get(user.id)?.invalidatedAt).toBeUndefined();
      await store.storeTokenUpdate(tokenUpdate(device, 'dd'));
      expect((await store.findPushInfo([device.id]))[0]).toEqual({
        enrollmentId: device.id,
        token: 'dd',
        pushMagic: 'magic-dd',
        topic: 'com.apple.mgmt.X',
      });
    });

    test('ok/certificate binding, re-binding and lookup by hash', async () => {
      const store = ctx.store();
      expect(await store.findCertificateBinding('A')).toBeUndefined();
      await store.bindCertificate('A', 'h1');
      expect(await store.findCertificateBinding('A')).toEqual({
        enrollmentId: 'A',
        certHash: 'h1',
        boundAt: ctx.clock.now(),
      });
      expect(await store.findEnrollmentByCertificate('h1')).toBe('A');
      ctx.clock.advance(10);
      await store.bindCertificate('A', 'h2');
      expect(await store.findEnrollmentByCertificate('h1')).toBeUndefined();
      expect(await store.findEnrollmentByCertificate('h2')).toBe('A');
      ctx.clock.advance(10);
      await store.bindCertificate('B', 'h2');
      expect(await store.findEnrollmentByCertificate('h2')).toBe('B');
      expect((await store.findCertificateBinding('A'))?.certHash).toBe('h2');
    });

    test('ok/findBindingFacts reads what the two lookups read, in one call', async () => {
      const store = ctx.store();
      const facts = store.findBindingFacts?.bind(store);
      if (facts === undefined) throw new Error('every adapter has findBindingFacts');
      expect(await facts('A', 'h1')).toEqual({ binding: undefined, boundTo: undefined });
      await store.bindCertificate('A', 'h1', { serial: 'a1', notAfter: ctx.clock.now() });
      ctx.clock.advance(10);
      await store.bindCertificate('B', 'h2');
      for (const [id, hash] of [
        ['A', 'h1'],
        ['A', 'h2'],
        ['B', 'h1'],
        ['C', 'h3'],
      ] as const) {
        expect(await facts(id, hash)).toEqual({
          binding: await store.findCertificateBinding(id),
          boundTo: await store.findEnrollmentByCertificate(hash),
        });
      }
      expect((await facts('A', 'h2')).boundTo).toBe('B');
      expect((await facts('A', 'h2')).binding?.serial).toBe('a1');
    });

    test('ok/bootstrap token stored, replaced and deleted', async () => {
      const store = ctx.store();
      expect(await store.findBootstrapToken('A')).toBeUndefined();
      await store.storeBootstrapToken('A', new Uint8Array([9, 9]));
      await store.storeBootstrapToken('A', new Uint8Array([7]));
      await store.storeBootstrapToken('B', new Uint8Array([8]));
      expect(await store.findBootstrapToken('A')).toEqual(new Uint8Array([7]));
      await store.storeBootstrapToken('A', undefined);
      expect(await store.findBootstrapToken('A')).toBeUndefined();
      expect(await store.findBootstrapToken('B')).toEqual(new Uint8Array([8]));
    });
  });
}

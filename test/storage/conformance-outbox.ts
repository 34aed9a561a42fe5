/** Conformance: the event outbox. */
import { describe, expect, test } from '@jest/globals';
import type { MdmStorage } from '../../src/storage/ports.js';
import type { SuiteContext } from './conformance.js';

async function enqueue(store: MdmStorage, id: string, at: Date): Promise<void> {
  await store.enqueueEvent({
    id,
    type: 'enrolled',
    payload: JSON.stringify({ id }),
    createdAt: at,
  });
}

/** Registers the outbox cases. */
export function outboxSuite(ctx: SuiteContext): void {
  describe('outbox', () => {
    test('ok/claim leases due entries oldest first; a lapsed lease is claimed again', async () => {
      const store = ctx.store();
      const t0 = ctx.clock.now();
      await enqueue(store, 'e2', new Date(t0.getTime() + 1));
      await enqueue(store, 'e1', t0);
      await enqueue(store, 'e3', new Date(t0.getTime() + 2));
      const now = new Date(t0.getTime() + 10);
      const claimed = await store.claimDue(2, now, 1000);
      expect(claimed.map((e) => [e.id, e.attempts])).toEqual([
        ['e1', 1],
        ['e2', 1],
      ]);
      expect(claimed[0]).toMatchObject({ type: 'enrolled', payload: '{"id":"e1"}', createdAt: t0 });
      expect(claimed[0]?.leaseUntil).toEqual(new Date(now.getTime() + 1000));
      expect(claimed[0]?.nextAttemptAt).toBeInstanceOf(Date);
      expect((await store.claimDue(10, now, 1000)).map((e) => e.id)).toEqual(['e3']);
      expect(await store.claimDue(10, new Date(now.getTime() + 999), 1000)).toEqual([]);
      const again = await store.claimDue(10, new Date(now.getTime() + 1000), 1000);
      expect(again.map((e) => [e.id, e.attempts])).toEqual([
        ['e1', 2],
        ['e2', 2],
        ['e3', 2],
      ]);
    });

    test('ok/delivered entries are never claimed again and can be purged', async () => {
      const store = ctx.store();
      const t0 = ctx.clock.now();
      await enqueue(store, 'e1', t0);
      await enqueue(store, 'e2', t0);
      await store.claimDue(10, t0, 1000);
      await store.markDelivered('e1', new Date(t0.getTime() + 5));
      const entry = await store.findOutboxEntry('e1');
      expect(entry?.deliveredAt).toEqual(new Date(t0.getTime() + 5));
      expect(entry?.leaseUntil).toBeUndefined();
      expect(
        (await store.claimDue(10, new Date(t0.getTime() + 2000), 1000)).map((e) => e.id),
      ).toEqual(['e2']);
      expect(await store.purgeDelivered(new Date(t0.getTime() + 5))).toBe(0);
      expect(await store.purgeDelivered(new Date(t0.getTime() + 6))).toBe(1);
      expect(await store.findOutboxEntry('e1')).toBeUndefined();
      expect(await store.findOutboxEntry('e2')).toBeDefined();
    });

    test('ok/a failed entry waits for its next attempt; a dead one is never claimed', async () => {
      const store = ctx.store();
      const t0 = ctx.clock.now();
      await enqueue(store, 'retry', t0);
      await enqueue(store, 'dead', t0);
      await store.claimDue(10, t0, 60_000);
      await store.markFailed('retry', new Date(t0.getTime() + 500), 'HTTP 500');
      await store.markFailed('dead', undefined, 'gave up');
      expect(await store.claimDue(10, new Date(t0.getTime() + 499), 60_000)).toEqual([]);
      const retried = await store.claimDue(10, new Date(t0.getTime() + 500), 60_000);
      expect(retried).toEqual([
        expect.objectContaining({ id: 'retry', attempts: 2, lastError: 'HTTP 500' }),
      ]);
      const dead = await store.findOutboxEntry('dead');
      expect(dead).toMatchObject({ lastError: 'gave up', deadAt: ctx.clock.now(), attempts: 1 });
      expect(await store.claimDue(10, new Date(t0.getTime() + 10_000_000), 1)).toEqual([
        expect.objectContaining({ id: 'retry' }),
      ]);
    });

    test('ok/two concurrent claimers never get the same entry', async () => {
      const store = ctx.store();
      const t0 = ctx.clock.now();
      for (let i = 0; i < 30; i++) await enqueue(store, `e${String(i).padStart(2, '0')}`, t0);
      const [a, b, c] = await Promise.all([
        store.claimDue(12, t0, 1000),
        store.claimDue(12, t0, 1000),
        store.claimDue(12, t0, 1000),
      ]);
      const ids = [...a, ...b, ...c].map((e) => e.id);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
    });

    test.each([
      ['fail/duplicate event id', 'e1'],
      ['fail/empty event id', ''],
    ])('%s is a TypeError', async (_name, id) => {
      const store = ctx.store();
      await enqueue(store, 'e1', ctx.clock.now());
      await expect(enqueue(store, id, ctx.clock.now())).rejects.toBeInstanceOf(TypeError);
    });

    test.each([
      ['fail/limit 0', 0, 1000],
      ['fail/lease 0', 1, 0],
    ])('%s is a TypeError', async (_name, limit, leaseMs) => {
      await expect(ctx.store().claimDue(limit, ctx.clock.now(), leaseMs)).rejects.toBeInstanceOf(
        TypeError,
      );
    });
  });
}

/** Conformance: many enrollments at once, and facts merged in from later answers. */
import { describe, expect, test } from '@jest/globals';
import type { EnrollmentIdentity } from '../../src/storage/ports.js';
import type { SuiteContext } from './conformance.js';

function device(id: string): EnrollmentIdentity {
  return { id, type: 'device', deviceId: id };
}

/** Registers the `findEnrollments` and `mergeFacts` cases. */
export function checkinFactsSuite(ctx: SuiteContext): void {
  describe('check-in store: many enrollments and merged facts', () => {
    test('ok/findEnrollments answers those that exist, in the given order, each once', async () => {
      const store = ctx.store();
      const ids = Array.from({ length: 1201 }, (_, i) => `D-${String(i).padStart(4, '0')}`);
      for (const id of ids) await store.storeAuthenticate({ ...device(id), facts: { n: id } });
      const wanted = [...ids]
        .reverse()
        .flatMap((id, i) => (i % 400 === 0 ? [id, 'NONE', id] : [id]));
      const found = await store.findEnrollments(wanted);
      expect(found.map((r) => r.id)).toEqual([...ids].reverse());
      expect(found[0]).toEqual(await store.findEnrollment(ids.at(-1) ?? ''));
      expect(await store.findEnrollments([])).toEqual([]);
      await expect(store.findEnrollments([''])).rejects.toThrow(TypeError);
    });

    test('ok/mergeFacts merges over the stored facts until the next Authenticate', async () => {
      const store = ctx.store();
      const facts = { SerialNumber: 'S1', OSVersion: '17.0', IsSupervised: false };
      await store.storeAuthenticate({ ...device('A'), facts });
      ctx.clock.advance(1000);
      expect(await store.mergeFacts('A', { IsSupervised: true, Nested: { a: [1] } })).toBe(true);
      const merged = await store.findEnrollment('A');
      expect(merged?.facts).toEqual({ ...facts, IsSupervised: true, Nested: { a: [1] } });
      expect(merged?.updatedAt).toEqual(ctx.clock.now());
      expect(await store.mergeFacts('B', { IsSupervised: true })).toBe(false);
      expect(await store.findEnrollment('B')).toBeUndefined();
      await expect(store.mergeFacts('A', [] as unknown as Record<string, unknown>)).rejects.toThrow(
        TypeError,
      );
      await store.storeAuthenticate({ ...device('A'), facts: { SerialNumber: 'S1' } });
      expect((await store.findEnrollment('A'))?.facts).toEqual({ SerialNumber: 'S1' });
    });
  });
}

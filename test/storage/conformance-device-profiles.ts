/**
 * Device-profile conformance: what Orchard sent to each enrollment (rule M6) and when it was last
 * reconciled, as every {@link AdminStorage} adapter must keep it.
 */
import { describe, expect, test } from '@jest/globals';
import type { DeviceProfileRecord, DeviceProfileState } from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';

/** A record of `identifier` on `enrollmentId`, updated now. */
function rec(
  ctx: AdminSuiteContext,
  enrollmentId: string,
  identifier: string,
  extra: Partial<DeviceProfileRecord> = {},
): DeviceProfileRecord {
  return {
    ...{ enrollmentId, identifier, profileId: `prf_${identifier}`, version: 1 },
    ...{ state: 'pending', channel: 'policy', updatedAt: ctx.clock.now(), ...extra },
  };
}

/** Registers the device-profile and reconciliation cases. */
export function deviceProfileSuite(ctx: AdminSuiteContext): void {
  describe('device profile records', () => {
    test('ok/records are put, replaced, found and listed per enrollment in identifier order', async () => {
      const store = ctx.store();
      const full = rec(ctx, 'dev-1', 'b', {
        ...{ payloadUuid: 'U1', state: 'installed', reason: 'why', commandUuid: 'cmd-1' },
        ...{ installedAt: ctx.clock.now(), channel: 'admin' },
      });
      const other = rec(ctx, 'dev-1', 'a');
      await store.putDeviceProfiles([full, other, rec(ctx, 'dev-2', 'a')]);
      expect(await store.listDeviceProfiles('dev-1')).toEqual([other, full]);
      expect(await store.findDeviceProfile('dev-1', 'b')).toEqual(full);
      expect(await store.findDeviceProfile('dev-1', 'c')).toBeUndefined();
      expect(await store.findDeviceProfileByCommand('dev-1', 'cmd-1')).toEqual(full);
      expect(await store.findDeviceProfileByCommand('dev-2', 'cmd-1')).toBeUndefined();
      const replaced = rec(ctx, 'dev-1', 'b', { version: 2, state: 'failed' });
      await store.putDeviceProfiles([replaced]);
      expect(await store.findDeviceProfile('dev-1', 'b')).toEqual(replaced);
      expect(await store.listDeviceProfiles('dev-9')).toEqual([]);
      await store.putDeviceProfiles([]);
    });

    test('ok/records of many enrollments come in enrollment then identifier order', async () => {
      const store = ctx.store();
      const ids = Array.from({ length: 1203 }, (_, i) => `dev-${String(i).padStart(5, '0')}`);
      const records = ids.flatMap((id) => [rec(ctx, id, 'y'), rec(ctx, id, 'x')]);
      await store.putDeviceProfiles(records.reverse());
      const wanted = [...ids].reverse().concat(['dev-none', ids[0] ?? '']);
      const got = await store.listDeviceProfilesOf(wanted);
      expect(got).toHaveLength(ids.length * 2);
      expect(got.slice(0, 2)).toEqual([rec(ctx, ids[0] ?? '', 'x'), rec(ctx, ids[0] ?? '', 'y')]);
      const keys = got.map((r) => `${r.enrollmentId}/${r.identifier}`);
      expect(keys).toEqual([...keys].sort());
      expect(await store.listDeviceProfilesOf([])).toEqual([]);
    });

    test('ok/a batch of 257 records (optional fields on some) replaces and reads back as written', async () => {
      const store = ctx.store();
      const id = (i: number) => `dev-${String(i).padStart(4, '0')}`;
      await store.putDeviceProfiles(
        Array.from({ length: 300 }, (_, i) => rec(ctx, id(i), 'a', { state: 'skipped' })),
      );
      ctx.clock.advance(1000);
      const later = new Date(ctx.clock.now().getTime() + 7);
      const written = Array.from({ length: 257 }, (_, i) =>
        rec(ctx, id(i), i % 3 === 0 ? 'b' : 'a', {
          version: 1 + (i % 4),
          ...(i % 2 === 0 ? { payloadUuid: `U-${String(i)}`, commandUuid: `C-${String(i)}` } : {}),
          ...(i % 5 === 0 ? { state: 'installed', installedAt: later } : {}),
          ...(i % 7 === 0 ? { state: 'failed', reason: `why ${String(i)}` } : {}),
        }),
      );
      await store.putDeviceProfiles(written);
      const got = await store.listDeviceProfilesOf(Array.from({ length: 300 }, (_, i) => id(i)));
      const kept = Array.from({ length: 300 }, (_, i) => i)
        .filter((i) => i >= 257 || i % 3 === 0)
        .map((i) =>
          rec(ctx, id(i), 'a', {
            state: 'skipped',
            updatedAt: new Date(ctx.clock.now().getTime() - 1000),
          }),
        );
      const key = (r: DeviceProfileRecord) => `${r.enrollmentId}/${r.identifier}`;
      const byKey = (a: DeviceProfileRecord, b: DeviceProfileRecord) => (key(a) < key(b) ? -1 : 1);
      expect(got).toEqual([...written, ...kept].sort(byKey));
    });

    test('fail/a bad record, or one key twice in a batch, is a TypeError and stores nothing', async () => {
      const store = ctx.store();
      const bad: Partial<DeviceProfileRecord>[] = [
        { state: 'gone' as DeviceProfileState },
        { channel: 'mail' as 'user' },
        { version: 0 },
        { identifier: '' },
      ];
      for (const extra of bad)
        await expect(
          store.putDeviceProfiles([rec(ctx, 'dev-1', 'a'), rec(ctx, 'dev-1', 'b', extra)]),
        ).rejects.toThrow(TypeError);
      const twice = [rec(ctx, 'dev-1', 'a'), rec(ctx, 'dev-1', 'a')];
      await expect(store.putDeviceProfiles(twice)).rejects.toThrow(TypeError);
      expect(await store.listDeviceProfiles('dev-1')).toEqual([]);
    });

    test('ok/a profile lists its devices by state across pages', async () => {
      const store = ctx.store();
      const states: DeviceProfileState[] = ['installed', 'pending', 'removed', 'installed'];
      await store.putDeviceProfiles(
        states.map((state, i) => rec(ctx, `dev-${String(i)}`, 'p', { state })),
      );
      await store.putDeviceProfiles([rec(ctx, 'dev-0', 'q')]);
      const options = { limit: 2, states: ['installed', 'pending'] as DeviceProfileState[] };
      const first = await store.listProfileDevices('prf_p', options);
      expect(first.items.map((r) => r.enrollmentId)).toEqual(['dev-0', 'dev-1']);
      const rest = await store.listProfileDevices('prf_p', {
        ...options,
        cursor: first.nextCursor ?? '',
      });
      expect(rest).toEqual({ items: [rec(ctx, 'dev-3', 'p', { state: 'installed' })] });
      const all = await store.listProfileDevices('prf_p', { limit: 10 });
      expect(all.items).toHaveLength(4);
      expect(all.nextCursor).toBeUndefined();
      await expect(store.listProfileDevices('prf_p', { limit: 2, cursor: 'x' })).rejects.toThrow(
        TypeError,
      );
      await expect(store.listProfileDevices('prf_p', { limit: 0 })).rejects.toThrow(TypeError);
    });

    test('ok/deleting records: some identifiers or all; the count', async () => {
      const store = ctx.store();
      await store.putDeviceProfiles(['a', 'b', 'c'].map((i) => rec(ctx, 'dev-1', i)));
      await store.putDeviceProfiles([rec(ctx, 'dev-2', 'a')]);
      expect(await store.deleteDeviceProfiles('dev-1', ['a', 'z', 'a'])).toBe(1);
      expect((await store.listDeviceProfiles('dev-1')).map((r) => r.identifier)).toEqual([
        'b',
        'c',
      ]);
      expect(await store.deleteDeviceProfiles('dev-1')).toBe(2);
      expect(await store.deleteDeviceProfiles('dev-1')).toBe(0);
      expect(await store.listDeviceProfiles('dev-2')).toHaveLength(1);
    });
  });

  describe('reconciliation records', () => {
    test('ok/a record is put, replaced and found', async () => {
      const store = ctx.store();
      const at = ctx.clock.now();
      const full = { enrollmentId: 'dev-1', commandUuid: 'c1', queuedAt: at, reconciledAt: at };
      await store.putReconcile(full);
      expect(await store.findReconcile('dev-1')).toEqual(full);
      await store.putReconcile({ enrollmentId: 'dev-1', reconciledAt: at });
      expect(await store.findReconcile('dev-1')).toEqual({
        enrollmentId: 'dev-1',
        reconciledAt: at,
      });
      expect(await store.findReconcile('dev-2')).toBeUndefined();
    });

    test('ok/due: never reconciled or before the instant, and nothing queued since; given order, limited', async () => {
      const store = ctx.store();
      const t = (s: number) => new Date(ctx.clock.now().getTime() + s * 1000);
      await store.putReconcile({ enrollmentId: 'old', reconciledAt: t(-10) });
      await store.putReconcile({ enrollmentId: 'fresh', reconciledAt: t(10) });
      await store.putReconcile({ enrollmentId: 'queued', commandUuid: 'c', queuedAt: t(5) });
      await store.putReconcile({ enrollmentId: 'stale', commandUuid: 'c', queuedAt: t(-5) });
      const candidates = ['stale', 'fresh', 'never', 'queued', 'old', 'never'];
      expect(await store.listReconcileDue(candidates, t(0), 10)).toEqual(['stale', 'never', 'old']);
      expect(await store.listReconcileDue(candidates, t(0), 2)).toEqual(['stale', 'never']);
      const many = Array.from({ length: 1200 }, (_, i) => `n-${String(i)}`);
      expect(await store.listReconcileDue(many, t(0), 1100)).toEqual(many.slice(0, 1100));
      await expect(store.listReconcileDue(candidates, t(0), 0)).rejects.toThrow(TypeError);
    });
  });
}

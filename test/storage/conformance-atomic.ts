/**
 * Conformance: a check-in state change and the outbox event reporting it are stored together or
 * not at all. Faults are injected through the port itself: an event whose id is already stored
 * (the write fails) and an event builder that throws.
 */
import { describe, expect, test } from '@jest/globals';
import type {
  EnrollmentIdentity,
  EnrollmentRecord,
  MdmStorage,
  OutboxEvent,
  StateChangeOptions,
} from '../../src/storage/ports.js';
import type { SuiteContext } from './conformance.js';

const device: EnrollmentIdentity = { id: 'UDID-A', type: 'device', deviceId: 'UDID-A' };
const push = { token: 'aa01', pushMagic: 'magic', topic: 'com.apple.mgmt.X' };

function eventOf(id: string, at: Date, type = 'enrolled'): OutboxEvent {
  return { id, type, payload: JSON.stringify({ id, type }), createdAt: at };
}

/** An event builder that records the records it was given. */
function recording(make: (record: EnrollmentRecord) => OutboxEvent | undefined) {
  const seen: EnrollmentRecord[] = [];
  const options: StateChangeOptions = {
    event: (record) => {
      seen.push(record);
      return make(record);
    },
  };
  return { seen, options };
}

/** What a failed change must leave untouched. */
async function snapshot(store: MdmStorage) {
  return {
    enrollment: await store.findEnrollment(device.id),
    push: await store.findPushInfo([device.id]),
    binding: await store.findCertificateBinding(device.id),
  };
}

/** Registers the atomic state-change cases. */
export function atomicSuite(ctx: SuiteContext): void {
  describe('state change with its event', () => {
    test('ok/token update and its event commit together; the event sees the new record', async () => {
      const store = ctx.store();
      await store.storeAuthenticate({ ...device, facts: {} });
      const at = ctx.clock.now();
      const { seen, options } = recording((r) =>
        eventOf('ev-1', at, r.tokenUpdateCount === 1 ? 'enrolled' : 'token-updated'),
      );
      const record = await store.storeTokenUpdate({ ...device, push }, options);
      expect(seen.map((r) => [r.enrolled, r.tokenUpdateCount])).toEqual([[true, 1]]);
      expect(record.tokenUpdateCount).toBe(1);
      expect(await store.findOutboxEntry('ev-1')).toMatchObject({ type: 'enrolled', attempts: 0 });
    });

    test.each([
      ['the event id is already stored', 'dup'],
      ['the event builder throws', 'throw'],
    ] as const)('fail/token update is rolled back when %s', async (_name, fault) => {
      const store = ctx.store();
      await store.storeAuthenticate({ ...device, facts: { SerialNumber: 'S' } });
      const at = ctx.clock.now();
      await store.enqueueEvent(eventOf('dup', at, 'other'));
      const before = await snapshot(store);
      const options: StateChangeOptions = {
        event: () => {
          if (fault === 'throw') throw new Error('injected fault');
          return eventOf('dup', at);
        },
      };
      ctx.clock.advance(1000);
      await expect(store.storeTokenUpdate({ ...device, push }, options)).rejects.toBeInstanceOf(
        Error,
      );
      expect(await snapshot(store)).toEqual(before);
      expect(before.enrollment).toMatchObject({ enrolled: false, tokenUpdateCount: 0 });
      expect(await store.findOutboxEntry('dup')).toMatchObject({ type: 'other' });
      // The device retries: the enrollment is still new, so the retry reports `enrolled`.
      const retry = await store.storeTokenUpdate(
        { ...device, push },
        {
          event: (r) =>
            eventOf('ev-2', at, r.tokenUpdateCount === 1 ? 'enrolled' : 'token-updated'),
        },
      );
      expect(retry.tokenUpdateCount).toBe(1);
      expect(await store.findOutboxEntry('ev-2')).toMatchObject({ type: 'enrolled' });
    });

    test('fail/check-out is rolled back, binding included, when its event cannot be written', async () => {
      const store = ctx.store();
      await store.storeTokenUpdate({ ...device, push });
      await store.bindCertificate(device.id, 'ab'.repeat(32));
      const at = ctx.clock.now();
      await store.enqueueEvent(eventOf('dup', at, 'other'));
      const before = await snapshot(store);
      ctx.clock.advance(1000);
      const options = { event: () => eventOf('dup', at, 'checked-out') };
      await expect(store.markCheckedOut(device.id, options)).rejects.toBeInstanceOf(TypeError);
      expect(await snapshot(store)).toEqual(before);
      expect(before.binding?.endedAt).toBeUndefined();
      const { seen, options: ok } = recording(() => eventOf('ev-out', at, 'checked-out'));
      expect(await store.markCheckedOut(device.id, ok)).toBe(true);
      expect(seen.map((r) => r.enrolled)).toEqual([false]);
      expect(await store.findOutboxEntry('ev-out')).toMatchObject({ type: 'checked-out' });
      expect((await store.findCertificateBinding(device.id))?.endedAt).toEqual(ctx.clock.now());
    });

    test('ok/no change, no event: an unknown check-out or a refused input writes neither', async () => {
      const store = ctx.store();
      const at = ctx.clock.now();
      const { seen, options } = recording(() => eventOf('never', at));
      expect(await store.markCheckedOut('UDID-NONE', options)).toBe(false);
      const bad = { ...device, id: '', push };
      await expect(store.storeTokenUpdate(bad, options)).rejects.toBeInstanceOf(TypeError);
      expect(seen).toEqual([]);
      expect(await store.findOutboxEntry('never')).toBeUndefined();
      expect(await store.claimDue(10, at, 1000)).toEqual([]);
    });

    test('ok/authenticate may report itself too; undefined writes no event', async () => {
      const store = ctx.store();
      const at = ctx.clock.now();
      await store.storeAuthenticate({ ...device, facts: {} }, { event: () => undefined });
      expect(await store.claimDue(10, at, 1000)).toEqual([]);
      await store.storeAuthenticate(
        { ...device, facts: {} },
        { event: () => eventOf('auth', at, 'authenticated') },
      );
      expect(await store.findOutboxEntry('auth')).toMatchObject({ type: 'authenticated' });
    });
  });

  describe('command result with its event', () => {
    const command = { uuid: 'C-1', requestType: 'DeviceInformation', body: new Uint8Array([1]) };
    const report = { uuid: 'C-1', status: 'Acknowledged' as const, result: new Uint8Array([2]) };

    test('ok/a stored result and its event commit together', async () => {
      const store = ctx.store();
      await store.enqueue(command, [device.id]);
      const event = eventOf('ev-result', ctx.clock.now(), 'command-result');
      expect(await store.storeResult(device.id, report, { event })).toBe(true);
      expect(await store.findOutboxEntry('ev-result')).toMatchObject({ type: 'command-result' });
      expect((await store.findCommand('C-1'))?.targets[0]?.status).toBe('Acknowledged');
    });

    test('ok/a result not stored writes no event (not a target; already answered)', async () => {
      const store = ctx.store();
      await store.enqueue(command, [device.id]);
      const at = ctx.clock.now();
      expect(await store.storeResult('UDID-B', report, { event: eventOf('ev-x', at) })).toBe(false);
      expect(await store.findOutboxEntry('ev-x')).toBeUndefined();
      expect(await store.storeResult(device.id, report, { event: eventOf('ev-1', at) })).toBe(true);
      // A second report for an answered target: the adapters that keep the first answer write no
      // second event; either way the first event stays the only one for the first answer.
      await store.storeResult(device.id, report, { event: eventOf('ev-2', at) }).catch(() => false);
      expect(await store.findOutboxEntry('ev-1')).toBeDefined();
    });

    test('fail/reportAndNext whose event cannot be written stores nothing and sends nothing', async () => {
      const store = ctx.store();
      const both = store.reportAndNext?.bind(store);
      expect(both).toBeDefined();
      if (both === undefined) return;
      await store.enqueue(command, [device.id]);
      await store.enqueue({ ...command, uuid: 'C-2' }, [device.id]);
      const at = ctx.clock.now();
      await store.enqueueEvent(eventOf('ev-dup2', at));
      const options = { event: eventOf('ev-dup2', at), skipNotNow: true, now: at };
      await expect(both(device.id, report, options)).rejects.toThrow(TypeError);
      const targets = async (uuid: string): Promise<string | undefined> =>
        (await store.findCommand(uuid))?.targets[0]?.status;
      expect([await targets('C-1'), await targets('C-2')]).toEqual(['queued', 'queued']);
      const ok = { event: eventOf('ev-ok', at, 'command-result'), skipNotNow: true, now: at };
      expect(await both(device.id, report, ok)).toMatchObject({
        stored: true,
        next: { uuid: 'C-2' },
      });
      expect(await store.findOutboxEntry('ev-ok')).toMatchObject({ type: 'command-result' });
      expect([await targets('C-1'), await targets('C-2')]).toEqual(['Acknowledged', 'sent']);
    });

    test('fail/an event that cannot be written leaves the result unstored', async () => {
      const store = ctx.store();
      await store.enqueue(command, [device.id]);
      const at = ctx.clock.now();
      await store.enqueueEvent(eventOf('ev-dup', at));
      await expect(
        store.storeResult(device.id, report, { event: eventOf('ev-dup', at) }),
      ).rejects.toThrow(TypeError);
      expect((await store.findCommand('C-1'))?.targets[0]?.status).toBe('queued');
    });
  });
}

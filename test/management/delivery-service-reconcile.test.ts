/**
 * Reconciliation with ProfileList (on demand and by the timer's `reconcileDue`): a missing Auto
 * profile comes back, an Optional one removed on the device stays removed, a profile someone
 * else installed is never touched; plus the explain trace, check-outs, events that fail, and
 * `startDelivery` wiring the service to core events and its timer.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { createEventSink } from '../../src/service/events.js';
import type { MdmEvent } from '../../src/service/events.js';
import { silentLogger } from '../../src/logger.js';
import { startDelivery } from '../../src/server/delivery.js';
import type { LibraryProfileRecord, PolicyRecord, UserRecord } from '../../src/storage/ports.js';
import { createHarness, type Harness } from './delivery-service-harness.js';
import { rejectCode } from './profile-fixtures.js';

let h: Harness;
let policy: PolicyRecord;
let auto: LibraryProfileRecord;
let optional: LibraryProfileRecord;
let ann: UserRecord;

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-12-07T04:00:00Z');
const record = (id: string, identifier: string) => h.admin.findDeviceProfile(id, identifier);
const types = async (id: string) => (await h.queued(id)).map((c) => c.requestType);

beforeEach(async () => {
  h = createHarness();
  policy = await h.policy('phones');
  auto = await h.profile('wifi-auto');
  optional = await h.profile('wifi-optional', { type: 'optional' });
  await h.assign(policy, auto, 'auto');
  await h.assign(policy, optional, 'optional');
  await h.admin.setGroupPolicy('global', policy.id);
  ann = await h.user('ann');
  await h.device('D1', ann);
  await h.enroll('D1');
  await h.connect('D1');
  await h.delivery.install('D1', optional.id, 'admin');
  await h.connect('D1');
});

describe('reconciliation', () => {
  test('ok/Auto comes back, Optional stays removed, a foreign profile is left alone', async () => {
    const device = h.devices.get('D1');
    if (!device) throw new Error('no device');
    device.installed.delete(auto.identifier);
    device.installed.delete(optional.identifier);
    device.installed.set('com.example.foreign', 'FOREIGN-UUID');
    const { commandUuid } = await h.delivery.reconcile('D1');
    expect(await h.admin.findReconcile('D1')).toMatchObject({ commandUuid });
    expect(await h.connect('D1')).toEqual(['ProfileList', 'InstallProfile']);
    expect(await record('D1', auto.identifier)).toMatchObject({ state: 'installed' });
    expect(await record('D1', optional.identifier)).toMatchObject({
      state: 'removed',
      reason: 'removed on the device',
    });
    expect([...device.installed.keys()].sort()).toEqual(
      ['com.example.foreign', auto.identifier].sort(),
    );
    const view = await h.delivery.deviceProfiles('D1');
    expect(view.reconciledAt).toBe(NOW.toISOString());
    expect(view.removed.map((v) => v.identifier)).toEqual([optional.identifier]);
    expect(view.offered.map((v) => v.identifier)).toEqual([optional.identifier]);
    // A later delivery does not bring the Optional profile back either.
    await h.delivery.deliverTo('D1', 'admin');
    expect(await types('D1')).toEqual([]);
    expect(await h.admin.findReconcile('D1')).toEqual({
      enrollmentId: 'D1',
      queuedAt: NOW,
      reconciledAt: NOW,
    });
  });

  test('ok/a device enrolling again is reconciled: Auto back, Optional removed', async () => {
    // The MDM profile was removed (and Orchard's profiles with it), then installed again.
    await h.device('D1', ann);
    await h.enroll('D1', 're-enrolled');
    expect(await types('D1')).toEqual(['DeviceInformation', 'ProfileList']);
    expect(await h.connect('D1')).toEqual(['DeviceInformation', 'ProfileList', 'InstallProfile']);
    expect(await record('D1', auto.identifier)).toMatchObject({ state: 'installed' });
    expect(await record('D1', optional.identifier)).toMatchObject({
      state: 'removed',
      reason: 'removed on the device',
    });
  });

  test('ok/a pending profile the device shows with our PayloadUUID is installed', async () => {
    const extra = await h.profile('extra');
    await h.assign(policy, extra, 'auto');
    await h.delivery.deliverTo('D1', 'admin');
    expect(await record('D1', extra.identifier)).toMatchObject({ state: 'pending' });
    const { commandUuid } = await h.delivery.reconcile('D1');
    const version = await h.admin.findProfileVersion(extra.id, 1);
    const shown = [auto, optional].map((p) => ({
      PayloadIdentifier: p.identifier,
      PayloadUUID: h.devices.get('D1')?.installed.get(p.identifier) ?? '',
    }));
    await h.report('D1', commandUuid, 'Acknowledged', {
      ProfileList: [
        ...shown,
        { PayloadIdentifier: extra.identifier, PayloadUUID: version?.payloadUuid ?? '' },
      ],
    });
    expect(await record('D1', extra.identifier)).toMatchObject({
      state: 'installed',
      installedAt: NOW,
    });
  });

  test('ok/reconcileDue queues enrolled owned devices not reconciled within the interval', async () => {
    const bob = await h.user('bob');
    await h.device('D2', bob);
    await h.device('D3', bob);
    await h.device('D4', undefined);
    await h.mdm.markCheckedOut('D3');
    const before = h.counts.push;
    expect(await h.delivery.reconcileDue(NOW, 1)).toBe(1);
    expect(await h.delivery.reconcileDue(NOW, 10)).toBe(1);
    // Queued since `now - interval`: not again until the interval passed.
    expect(await h.delivery.reconcileDue(NOW, 10)).toBe(0);
    expect(h.counts.push - before).toBe(2);
    expect(await types('D1')).toEqual(['ProfileList']);
    expect(await types('D2')).toEqual(['ProfileList']);
    expect(await types('D3')).toEqual([]);
    expect(await types('D4')).toEqual([]);
    await h.connect('D1');
    expect(await h.delivery.reconcileDue(new Date(NOW.getTime() + DAY / 2), 10)).toBe(0);
    expect(await h.delivery.reconcileDue(new Date(NOW.getTime() + DAY + 1), 10)).toBe(2);
  });
});

describe('explain and events', () => {
  test('ok/explain says why a profile is there, or only offered', async () => {
    const installed = await h.delivery.explain('D1', auto.identifier);
    expect(installed).toMatchObject({
      enrollmentId: 'D1',
      identifier: auto.identifier,
      decision: 'installed',
      policy: { id: policy.id, source: { kind: 'group', groupId: 'global' } },
      assignment: { assignmentType: 'auto', removal: 'always' },
      user: { id: ann.id, username: 'ann' },
    });
    expect(installed.groups.map((g) => g.groupId)).toEqual(['global']);
    expect(installed.groups[0]?.settings.map((s) => s.page)).toEqual([
      'profile-options',
      'self-service',
    ]);
    expect(installed.record).toMatchObject({ state: 'installed', version: 1 });
    expect(await rejectCode(h.delivery.explain('D1', 'com.example.none'))).toBe(
      'ERR_DEVICE_PROFILE_NOT_FOUND',
    );
    expect(await rejectCode(h.delivery.explain('nope', auto.identifier))).toBe(
      'ERR_ENROLLMENT_NOT_FOUND',
    );
  });

  test('ok/a check-out leaves the records as history; a failing event never throws', async () => {
    const before = await h.admin.listDeviceProfiles('D1');
    const base = { id: 'ev-x', at: NOW.toISOString(), enrollmentType: 'device' as const };
    await h.mdm.markCheckedOut('D1');
    await h.delivery.onEvent({ ...base, type: 'checked-out', enrollmentId: 'D1', deviceId: 'D1' });
    await expect(
      h.delivery.onEvent({ ...base, type: 'enrolled', enrollmentId: 'gone', deviceId: 'gone' }),
    ).resolves.toBeUndefined();
    expect(await h.admin.listDeviceProfiles('D1')).toEqual(before);
  });

  test('ok/startDelivery feeds core events, ticks the reconciler, and stops', async () => {
    const events = createEventSink({ logger: silentLogger });
    const seen: string[] = [];
    const ticks: [Date, number][] = [];
    let fail = false;
    const errors: string[] = [];
    const running = startDelivery(
      { events },
      {
        onEvent: (e: MdmEvent) => {
          seen.push(e.type);
          return Promise.resolve();
        },
        idle: () => Promise.resolve(),
        reconcileDue: (now: Date, limit: number) => {
          ticks.push([now, limit]);
          return fail ? Promise.reject(new Error('store down')) : Promise.resolve(3);
        },
      },
      {
        clock: () => NOW,
        logger: { ...silentLogger, error: (_o, msg) => void errors.push(msg) },
        batch: 7,
      },
    );
    const base = {
      id: 'e',
      at: NOW.toISOString(),
      enrollmentId: 'D1',
      enrollmentType: 'device' as const,
      deviceId: 'D1',
    };
    events.notify({ ...base, type: 'enrolled' });
    events.notify({ ...base, type: 'token-updated', awaitingConfiguration: false });
    events.notify({ ...base, type: 'command-result', commandUuid: 'u', status: 'Acknowledged' });
    expect(seen).toEqual(['enrolled', 'command-result']);
    expect(await running.tick()).toBe(3);
    fail = true;
    expect(await running.tick()).toBe(0);
    expect(errors).toEqual(['profile reconciliation tick failed']);
    expect(ticks).toEqual([
      [NOW, 7],
      [NOW, 7],
    ]);
    await running.stop();
    events.notify({ ...base, type: 'checked-out' });
    expect(seen).toEqual(['enrolled', 'command-result']);
  });
});

/**
 * The delivery service's batching, by operation counts rather than time: a change reaching
 * 1,000 devices with 3 profiles signs 3 bodies, queues 3 commands (one per body, for every
 * device) and pushes once; bodies differ only where the device does (removal control on
 * supervised devices, per-device variables); chunks past the per-command limit; nothing at all
 * when nothing changed.
 */
import { describe, expect, test } from '@jest/globals';
import type {
  AdminStorage,
  LibraryProfileRecord,
  MdmStorage,
  PolicyRecord,
} from '../../src/storage/ports.js';
import { createHarness, memoryStores, type Harness } from './delivery-service-harness.js';

const DEVICES = 1000;

async function world(
  options: {
    maxTargetsPerCommand?: number;
    devices?: number;
    stores?: { admin: AdminStorage; mdm: MdmStorage };
  } = {},
) {
  const h = createHarness(
    options.maxTargetsPerCommand === undefined
      ? {}
      : { maxTargetsPerCommand: options.maxTargetsPerCommand },
    options.stores,
  );
  const policy = await h.policy('fleet');
  const profiles: LibraryProfileRecord[] = [];
  for (const name of ['wifi-a', 'wifi-b', 'wifi-c']) {
    const p = await h.profile(name);
    await h.assign(policy, p, 'auto');
    profiles.push(p);
  }
  const count = options.devices ?? DEVICES;
  for (let u = 0; u < count / 100; u++) {
    const user = await h.user(`user-${u}`);
    for (let d = 0; d < 100; d++) await h.device(`D-${u}-${String(d).padStart(3, '0')}`, user);
  }
  return { h, policy, profiles };
}

function counted(h: Harness) {
  const before = { ...h.counts };
  return () => ({
    enqueue: h.counts.enqueue - before.enqueue,
    sign: h.counts.sign - before.sign,
    push: h.counts.push - before.push,
  });
}

async function setDefault(h: Harness, policy: PolicyRecord) {
  await h.admin.setGroupPolicy('global', policy.id);
  return h.delivery.apply({ kind: 'group-policy', groupId: 'global', policyId: policy.id });
}

describe('batching', () => {
  test('ok/1,000 devices x 3 profiles: 3 signatures, 3 commands, 1 push', async () => {
    const { h, policy, profiles } = await world();
    const ops = counted(h);
    const report = await setDefault(h, policy);
    expect(ops()).toEqual({ enqueue: 3, sign: 3, push: 1 });
    expect(report).toMatchObject({ devices: DEVICES, commandsQueued: 3, truncated: true });
    expect(report.totals).toMatchObject({ added: 3 * DEVICES, removed: 0, skipped: 0 });
    expect(report.plans).toHaveLength(100);
    expect(report.plans[0]?.enrollmentId).toBe('D-0-000');
    const records = await h.admin.listProfileDevices(profiles[0]?.id ?? '', {
      limit: 10_000,
      states: ['pending'],
    });
    expect(records.items).toHaveLength(DEVICES);
    const uuids = new Set(records.items.map((r) => r.commandUuid));
    expect(uuids.size).toBe(1);
    const command = await h.core.findCommand([...uuids][0] ?? '');
    expect(command?.targets).toHaveLength(DEVICES);

    // Applying again changes nothing: no signature, no command, no push.
    const again = counted(h);
    const second = await h.delivery.apply({ kind: 'users', userIds: [] });
    expect(second.devices).toBe(0);
    await h.delivery.apply({ kind: 'groups', groupIds: ['global'] });
    expect(again()).toEqual({ enqueue: 0, sign: 0, push: 0 });
  });

  test('ok/a new version reaching every device is one signature, one command, one push', async () => {
    const { h, policy, profiles } = await world();
    await setDefault(h, policy);
    const first = profiles[0] as LibraryProfileRecord;
    const bumped = await h.bump(first);
    const ops = counted(h);
    const report = await h.delivery.apply({
      kind: 'profile-version',
      profileId: first.id,
      version: bumped.latestVersion,
    });
    expect(ops()).toEqual({ enqueue: 1, sign: 1, push: 1 });
    expect(report.totals).toMatchObject({ updated: DEVICES, added: 0 });
  });

  test('ok/past the per-command limit a body is queued in chunks, still pushed once', async () => {
    const { h, policy } = await world({ maxTargetsPerCommand: 400 });
    const ops = counted(h);
    await setDefault(h, policy);
    expect(ops()).toEqual({ enqueue: 9, sign: 3, push: 1 });
  });

  test('ok/bodies differ only where devices do', async () => {
    const { h, policy, profiles } = await world({ devices: 200 });
    // Never-removable is sent as such to supervised devices only: two bodies.
    await h.assign(policy, profiles[0] as LibraryProfileRecord, 'auto', 'never');
    let n = 0;
    for (const e of (await h.mdm.listEnrollments({ limit: 1000 })).items)
      await h.mdm.mergeFacts(e.id, { IsSupervised: n++ % 2 === 0 });
    // One body per device for a profile with a per-device variable.
    const serial = await h.profile('serial', { extra: { PayloadDescription: 'Device $UDID' } });
    await h.assign(policy, serial, 'auto');
    const ops = counted(h);
    await setDefault(h, policy);
    expect(ops()).toEqual({ enqueue: 2 + 1 + 1 + 200, sign: 2 + 1 + 1 + 200, push: 1 });
  });

  test('ok/a page of owned devices is one read; a store without it reads twice, same report', async () => {
    const calls = { devices: 0, owned: 0, find: 0 };
    const counted = (linked: boolean) => {
      const { admin, mdm } = memoryStores(linked);
      const own = admin.listOwnedDevices?.bind(admin);
      const countedAdmin: AdminStorage = {
        ...admin,
        listOwnedEnrollments: (f, o) => (calls.owned++, admin.listOwnedEnrollments(f, o)),
      };
      if (own) countedAdmin.listOwnedDevices = (f, o) => (calls.devices++, own(f, o));
      const countedMdm: MdmStorage = {
        ...mdm,
        findEnrollments: (ids) => (calls.find++, mdm.findEnrollments(ids)),
      };
      return { admin: countedAdmin, mdm: countedMdm };
    };
    const reports = [];
    for (const linked of [true, false]) {
      const { h, policy } = await world({ devices: 300, stores: counted(linked) });
      Object.assign(calls, { devices: 0, owned: 0, find: 0 });
      const report = await setDefault(h, policy);
      expect(calls).toEqual(
        linked ? { devices: 1, owned: 0, find: 0 } : { devices: 0, owned: 1, find: 1 },
      );
      reports.push(report);
    }
    expect(reports[0]?.totals).toMatchObject({ added: 900 });
    expect(reports[1]).toEqual(reports[0]);
  });
});

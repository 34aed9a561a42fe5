/**
 * What the delivery service sends and previews beyond the basics: removal controls applied to
 * the body (S8: a removal password payload, `PayloadRemovalDisallowed` only where supervised),
 * a user's own policy previewed over the stored one (S4), and `deliverTo` answering its plan.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import type { PlistDict } from '../../src/protocol/plist.js';
import type { LibraryProfileRecord, PolicyRecord, UserRecord } from '../../src/storage/ports.js';
import { createHarness, type Harness } from './delivery-service-harness.js';

let h: Harness;
let policy: PolicyRecord;
let wifi: LibraryProfileRecord;
let ann: UserRecord;

const sent = (id: string, identifier: string): PlistDict | undefined =>
  h.devices.get(id)?.received.find((p) => p.PayloadIdentifier === identifier);
const payloadTypes = (p: PlistDict | undefined) =>
  ((p?.PayloadContent ?? []) as PlistDict[]).map((c) => c.PayloadType);

beforeEach(async () => {
  h = createHarness();
  policy = await h.policy('phones');
  wifi = await h.profile('wifi');
  await h.admin.setGroupPolicy('global', policy.id);
  ann = await h.user('ann');
});

describe('S8 removal controls', () => {
  test('ok/with authorization adds the removal password payload', async () => {
    await h.assign(policy, wifi, 'auto', 'with-authorization');
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.connect('D1');
    const profile = sent('D1', wifi.identifier);
    expect(payloadTypes(profile)).toContain('com.apple.profileRemovalPassword');
    const password = ((profile?.PayloadContent ?? []) as PlistDict[]).find(
      (c) => c.PayloadType === 'com.apple.profileRemovalPassword',
    );
    expect(password?.RemovalPassword).toBe('Removal-Password-123');
  });

  test('ok/never is sent as PayloadRemovalDisallowed to supervised devices only', async () => {
    await h.assign(policy, wifi, 'auto', 'never');
    await h.device('S1', ann, { supervised: true });
    await h.device('U1', ann, { supervised: false });
    for (const id of ['S1', 'U1']) {
      await h.enroll(id);
      await h.connect(id);
    }
    const bodies = (id: string) =>
      h.devices.get(id)?.received.map((p) => p.PayloadRemovalDisallowed ?? null);
    // Queued at enrollment before supervision was known (unlocked), sent again locked once
    // DeviceInformation said the device is supervised.
    expect(bodies('S1')).toEqual([null, true]);
    expect(bodies('U1')).toEqual([null]);
    expect(await h.admin.findDeviceProfile('S1', wifi.identifier)).toMatchObject({
      state: 'installed',
    });
  });
});

describe('S4 previews and plans', () => {
  test('ok/a user policy change is previewed over the stored user', async () => {
    const own = await h.policy('own');
    const vpn = await h.profile('vpn');
    await h.assign(own, vpn, 'auto');
    await h.assign(policy, wifi, 'auto');
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.connect('D1');
    const report = await h.delivery.preview({
      kind: 'user-policy',
      userId: ann.id,
      policyId: own.id,
    });
    expect(report.plans).toEqual([
      expect.objectContaining({
        enrollmentId: 'D1',
        added: [vpn.identifier],
        removed: [wifi.identifier],
      }),
    ]);
    expect(await h.queued('D1')).toEqual([]);
  });

  test('ok/deliverTo answers the plan it carried out', async () => {
    await h.device('D1', ann);
    await h.assign(policy, wifi, 'auto');
    const plan = await h.delivery.deliverTo('D1', 'admin');
    expect(plan).toMatchObject({ enrollmentId: 'D1', added: [wifi.identifier] });
    expect((await h.queued('D1')).map((c) => c.requestType)).toEqual(['InstallProfile']);
    expect(await h.delivery.deliverTo('D1', 'admin')).toMatchObject({
      added: [],
      unchanged: [wifi.identifier],
    });
  });

  test('ok/changes are applied one at a time; a failed one does not stop the next', async () => {
    await h.device('D1', ann);
    await h.assign(policy, wifi, 'auto');
    const change = { kind: 'users', userIds: [ann.id] } as const;
    const [failed, a, b] = await Promise.allSettled([
      h.delivery.apply(change, { limit: -1 }),
      h.delivery.apply(change),
      h.delivery.apply(change),
    ]);
    expect(failed.status).toBe('rejected');
    const queued = [a, b].map((r) => (r.status === 'fulfilled' ? r.value.commandsQueued : -1));
    expect(queued).toEqual([1, 0]);
    expect(await h.queued('D1')).toHaveLength(1);
  });

  test('ok/without listCommands a device error and a cancel are read from the command', async () => {
    h = createHarness({}, undefined, { listCommands: false });
    policy = await h.policy('phones');
    wifi = await h.profile('wifi');
    await h.assign(policy, wifi, 'auto');
    await h.admin.setGroupPolicy('global', policy.id);
    ann = await h.user('ann');
    await h.device('D1', ann);
    await h.device('D2', ann);
    const device = h.devices.get('D1');
    if (device) device.failInstall = 'Profile installation failed.';
    for (const id of ['D1', 'D2']) await h.enroll(id);
    await h.connect('D1');
    expect(await h.admin.findDeviceProfile('D1', wifi.identifier)).toMatchObject({
      state: 'failed',
      reason: 'Profile installation failed.',
    });
    await h.admin.deleteAssignment(policy.id, wifi.id);
    await h.delivery.apply({ kind: 'unassign', policyId: policy.id, profileId: wifi.id });
    expect(await h.admin.findDeviceProfile('D2', wifi.identifier)).toMatchObject({
      state: 'removed',
      reason: 'canceled before it was sent',
    });
  });
});

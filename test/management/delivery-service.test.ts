/**
 * The delivery service over the memory stores and the real MDM core (rules M5, M6, M7, S3, S4):
 * Auto profiles queued at enrollment and Interactive ones only at their user's request, a new
 * version re-queued only where the device has it, removals only of what Orchard installed,
 * incompatible profiles skipped with a reason, unresolved variables blocking, previews that
 * touch nothing, and what devices answer.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LibraryProfileRecord, PolicyRecord, UserRecord } from '../../src/storage/ports.js';
import { createHarness, type Harness } from './delivery-service-harness.js';
import { rejectCode } from './profile-fixtures.js';

let h: Harness;
let policy: PolicyRecord;
let auto: LibraryProfileRecord;
let interactive: LibraryProfileRecord;
let optional: LibraryProfileRecord;
let ann: UserRecord;

async function setInteractive(enabled: boolean) {
  await h.groups.writeSettings('global', 'profile-options', {
    currentSetting: 'override',
    values: { interactiveEnabled: enabled },
  });
}

const types = async (id: string) => (await h.queued(id)).map((c) => c.requestType);
const record = (id: string, identifier: string) => h.admin.findDeviceProfile(id, identifier);

beforeEach(async () => {
  h = createHarness();
  await setInteractive(true);
  policy = await h.policy('phones');
  auto = await h.profile('wifi-auto');
  interactive = await h.profile('wifi-interactive', { type: 'interactive' });
  optional = await h.profile('wifi-optional', { type: 'optional' });
  await h.assign(policy, auto, 'auto');
  await h.assign(policy, interactive, 'interactive');
  await h.assign(policy, optional, 'optional');
  await h.admin.setGroupPolicy('global', policy.id);
  ann = await h.user('ann');
});

describe('M5 assignment types', () => {
  test('ok/Auto is queued at enrollment, Interactive and Optional are not', async () => {
    await h.device('D1', ann);
    await h.enroll('D1');
    expect(await types('D1')).toEqual(['DeviceInformation', 'InstallProfile']);
    expect(h.counts.push).toBe(1);
    expect(await h.connect('D1')).toEqual(['DeviceInformation', 'InstallProfile']);
    expect(await record('D1', auto.identifier)).toMatchObject({
      state: 'installed',
      channel: 'policy',
      version: 1,
    });
    expect(await record('D1', interactive.identifier)).toBeUndefined();
    const view = await h.delivery.deviceProfiles('D1');
    expect(view.installed.map((v) => v.identifier)).toEqual([auto.identifier]);
    expect(view.offered.map((v) => v.identifier).sort()).toEqual([
      interactive.identifier,
      optional.identifier,
    ]);
    expect(view.policy).toMatchObject({
      id: policy.id,
      source: { kind: 'group', groupId: 'global' },
    });
  });

  test('ok/a user installs an Interactive profile; an administrator an Optional one', async () => {
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.connect('D1');
    const pending = await h.delivery.install('D1', interactive.id, 'user');
    expect(pending).toMatchObject({
      state: 'pending',
      channel: 'user',
      identifier: interactive.identifier,
    });
    expect(await types('D1')).toEqual(['InstallProfile']);
    await h.connect('D1');
    expect(await record('D1', interactive.identifier)).toMatchObject({
      state: 'installed',
      channel: 'user',
    });
    await h.delivery.install('D1', optional.id, 'admin');
    await h.connect('D1');
    expect(await record('D1', optional.identifier)).toMatchObject({
      state: 'installed',
      channel: 'admin',
    });
    expect(h.devices.get('D1')?.installed.size).toBe(3);
  });

  test.each([
    [
      'fail/an administrator installs an Interactive profile',
      'interactive',
      'admin',
      'ERR_PROFILE_INTERACTIVE',
    ],
    ['fail/an Auto profile is not offered', 'auto', 'user', 'ERR_PROFILE_NOT_OFFERED'],
    ['fail/an unassigned profile is not offered', 'other', 'admin', 'ERR_PROFILE_NOT_OFFERED'],
  ] as const)('%s', async (_name, which, channel, code) => {
    const other = await h.profile('other');
    const ids = { interactive: interactive.id, auto: auto.id, other: other.id };
    await h.device('D1', ann);
    expect(await rejectCode(h.delivery.install('D1', ids[which], channel))).toBe(code);
  });

  test('fail/Interactive where the device group does not allow it (A13)', async () => {
    await h.device('D1', ann);
    await setInteractive(false);
    expect(await rejectCode(h.delivery.install('D1', interactive.id, 'user'))).toBe(
      'ERR_INTERACTIVE_DISABLED',
    );
    expect((await h.delivery.deviceProfiles('D1')).offered.map((v) => v.identifier)).toEqual([
      optional.identifier,
    ]);
  });

  test('fail/unknown and not enrolled enrollments', async () => {
    expect(await rejectCode(h.delivery.install('nope', optional.id, 'admin'))).toBe(
      'ERR_ENROLLMENT_NOT_FOUND',
    );
    await h.device('D1', ann);
    await h.mdm.markCheckedOut('D1');
    expect(await rejectCode(h.delivery.install('D1', optional.id, 'admin'))).toBe(
      'ERR_DEVICE_NOT_ENROLLED',
    );
    expect(await rejectCode(h.delivery.reconcile('D1'))).toBe('ERR_DEVICE_NOT_ENROLLED');
  });

  test('ok/an enrollment nobody owns gets nothing queued by Orchard (no policy, no facts query)', async () => {
    await h.device('D9', undefined);
    await h.enroll('D9');
    expect(await types('D9')).toEqual([]);
    expect(h.counts.push).toBe(0);
  });
});

describe('M6 provenance', () => {
  test('ok/a new version is re-queued only where the device has it', async () => {
    const bob = await h.user('bob');
    await h.device('D1', ann);
    await h.device('D2', bob);
    for (const id of ['D1', 'D2']) {
      await h.enroll(id);
      await h.connect(id);
    }
    await h.delivery.install('D2', optional.id, 'admin');
    await h.connect('D2');
    const bumped = await h.bump(optional);
    const report = await h.delivery.apply({
      kind: 'profile-version',
      profileId: optional.id,
      version: bumped.latestVersion,
    });
    // Only D2 has it (an Optional profile reaches no other device).
    expect(report).toMatchObject({ applied: true, devices: 1, commandsQueued: 1 });
    expect(report.totals).toMatchObject({ updated: 1 });
    expect(await types('D1')).toEqual([]);
    expect(await types('D2')).toEqual(['InstallProfile']);
    await h.connect('D2');
    expect(await record('D2', optional.identifier)).toMatchObject({
      state: 'installed',
      version: 2,
      channel: 'admin',
    });
    const device = h.devices.get('D2');
    expect(device?.received.at(-1)?.PayloadUUID).toBe(
      (await h.admin.findProfileVersion(optional.id, 2))?.payloadUuid,
    );
  });

  test('ok/unassigning removes only what Orchard installed', async () => {
    const bob = await h.user('bob');
    await h.device('D1', ann);
    await h.device('D2', bob);
    await h.enroll('D1');
    await h.connect('D1');
    // D2 got the same profile from someone else: Orchard has no record of it there.
    h.devices.get('D2')?.installed.set(auto.identifier, 'FOREIGN-UUID');
    await h.admin.deleteAssignment(policy.id, auto.id);
    const report = await h.delivery.apply({
      kind: 'unassign',
      policyId: policy.id,
      profileId: auto.id,
    });
    expect(report.totals.removed).toBe(1);
    expect(await types('D1')).toEqual(['RemoveProfile']);
    expect(await types('D2')).toEqual([]);
    expect(await record('D1', auto.identifier)).toMatchObject({ state: 'removing' });
    await h.connect('D1');
    expect(await record('D1', auto.identifier)).toMatchObject({
      state: 'removed',
      reason: 'removed by Orchard',
    });
    expect(h.devices.get('D1')?.installed.has(auto.identifier)).toBe(false);
    expect(h.devices.get('D2')?.installed.get(auto.identifier)).toBe('FOREIGN-UUID');
  });

  test('ok/an install still queued is canceled, not removed', async () => {
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.admin.deleteAssignment(policy.id, auto.id);
    await h.delivery.apply({ kind: 'unassign', policyId: policy.id, profileId: auto.id });
    expect(await types('D1')).toEqual(['DeviceInformation']);
    expect(await record('D1', auto.identifier)).toMatchObject({
      state: 'removed',
      reason: 'canceled before it was sent',
    });
    expect(h.counts.cancel).toBe(1);
  });

  test('fail/remove refuses what Orchard did not install', async () => {
    await h.device('D1', ann);
    expect(await rejectCode(h.delivery.remove('D1', 'com.example.foreign', 'admin'))).toBe(
      'ERR_NOT_INSTALLED_BY_ORCHARD',
    );
    await h.enroll('D1');
    await h.connect('D1');
    const removing = await h.delivery.remove('D1', auto.identifier, 'admin');
    expect(removing).toMatchObject({ state: 'removing' });
    expect(await types('D1')).toEqual(['RemoveProfile']);
  });
});

describe('acknowledgements', () => {
  test('ok/Error keeps the device words, NotNow changes nothing', async () => {
    await h.device('D1', ann);
    await h.enroll('D1');
    const install = (await h.queued('D1')).find((c) => c.requestType === 'InstallProfile');
    if (!install) throw new Error('no InstallProfile queued');
    await h.report('D1', install.uuid, 'NotNow');
    expect(await record('D1', auto.identifier)).toMatchObject({
      state: 'pending',
      commandUuid: install.uuid,
    });
    const chain = [
      {
        ErrorCode: 4001,
        ErrorDomain: 'MCProfileErrorDomain',
        LocalizedDescription: 'The profile could not be installed.',
      },
    ];
    await h.report('D1', install.uuid, 'Error', { ErrorChain: chain });
    const failed = await record('D1', auto.identifier);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: 'The profile could not be installed.',
    });
    expect(failed?.commandUuid).toBeUndefined();
  });

  test('ok/a report for a command Orchard did not queue is ignored', async () => {
    await h.device('D1', ann);
    const uuid = await h.core.enqueue(['D1'], { RequestType: 'SecurityInfo' });
    await h.report('D1', uuid, 'Acknowledged');
    expect(await h.admin.listDeviceProfiles('D1')).toEqual([]);
  });
});

describe('M7 compatibility', () => {
  test('ok/a supervised-only profile is skipped with a reason, then sent once supervision is reported', async () => {
    const restrictions = await h.profile('restrictions', { fixture: 'restrictions' });
    await h.assign(policy, restrictions, 'auto');
    await h.device('D1', ann, { supervised: true });
    await h.enroll('D1');
    const skipped = await record('D1', restrictions.identifier);
    expect(skipped?.state).toBe('skipped');
    expect(skipped?.reason).toMatch(/supervis/);
    expect((await h.delivery.deviceProfiles('D1')).skipped.map((v) => v.identifier)).toEqual([
      restrictions.identifier,
    ]);
    // DeviceInformation answers IsSupervised: true, and the device is planned again.
    await h.connect('D1');
    expect(await h.mdm.findEnrollment('D1')).toMatchObject({
      facts: expect.objectContaining({ IsSupervised: true }),
    });
    expect(await record('D1', restrictions.identifier)).toMatchObject({ state: 'installed' });
  });
});

describe('S3 variables', () => {
  test('ok/one body per device, blocked where a variable has no value', async () => {
    const vpn = await h.profile('per-user', {
      extra: { PayloadDescription: 'Issued to $EMAIL ($SERIAL, $CUSTOM_1)' },
    });
    await h.assign(policy, vpn, 'auto');
    await h.admin.updateUser(ann.id, { custom1: 'cc-7' });
    const nomail = await h.user('carl');
    await h.device('D1', ann);
    await h.device('D2', nomail);
    const report = await h.delivery.apply({ kind: 'users', userIds: [ann.id, nomail.id] });
    expect(report.totals).toMatchObject({ added: 3, blocked: 1 });
    expect(await record('D2', vpn.identifier)).toMatchObject({
      state: 'blocked',
      reason: 'unresolved variable $CUSTOM_1',
    });
    await h.connect('D1');
    const sent = h.devices.get('D1')?.received.find((p) => p.PayloadIdentifier === vpn.identifier);
    expect(sent?.PayloadDescription).toBe('Issued to ann@example.com (F2LXK0AAHG7J, cc-7)');
  });
});

describe('S4 preview', () => {
  test('ok/a preview reports per device and touches nothing', async () => {
    const extra = await h.profile('extra');
    await h.device('D1', ann);
    const before = { ...h.counts };
    const report = await h.delivery.preview({
      kind: 'assign',
      policyId: policy.id,
      profileId: extra.id,
      assignmentType: 'auto',
      removal: 'always',
    });
    expect(report).toMatchObject({
      applied: false,
      devices: 1,
      commandsQueued: 0,
      truncated: false,
    });
    expect(report.plans[0]?.added).toEqual([extra.identifier, auto.identifier].sort());
    expect(h.counts).toEqual(before);
    expect(await h.admin.listDeviceProfiles('D1')).toEqual([]);
    expect(await types('D1')).toEqual([]);
  });

  test('ok/a not-enrolled device is planned, not queued', async () => {
    await h.device('D1', ann);
    await h.mdm.markCheckedOut('D1');
    const report = await h.delivery.apply({ kind: 'users', userIds: [ann.id] });
    expect(report).toMatchObject({ devices: 1, commandsQueued: 0 });
    expect(report.totals.added).toBe(1);
    expect(await h.admin.listDeviceProfiles('D1')).toEqual([]);
  });
});

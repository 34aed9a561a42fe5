/**
 * Issue 18 end to end, on a real daemon (SQLite) in this process with simulated devices: users
 * imported from CSV with a policy of Auto, Optional and Interactive profiles; an iPhone enrolled
 * through its user's link gets its Auto profiles acknowledged and installed, not the Interactive
 * one, and the explain call says why (M5, B1); a supervised-only profile and, on a Mac of another
 * user, an iOS-only one are skipped with reasons (M7); a profile the user installed by hand is
 * never removed, even when the policy changes (M6); a profile the user removed by hand comes back
 * at reconciliation only when it is Auto. The steps run in order and build on each other.
 */
import { describe, expect, test } from '@jest/globals';
import { createSimDevice, type SimDeviceHandle } from '../../src/sim/index.js';
import { useSimDaemon } from '../sim/daemon-support.js';
import {
  identifierOf,
  identifiersIn,
  oneProfile,
  policyApi,
  profilesOf,
  removeProfileTargets,
  settle,
  uploadProfiles,
  type ProfileRole,
} from './policies-support.js';

const sim = useSimDaemon(2);

const MANUAL = oneProfile('com.example.by-hand', 'com.apple.wifi.managed', {
  ...{ SSID_STR: 'Home', AutoJoin: true, EncryptionType: 'None' },
});
const WIFI = identifierOf('wifi');
const CELLULAR = identifierOf('cellular');
const RESTRICT = identifierOf('supervisedOnly');
const FONT = identifierOf('font');
const PASSCODE = identifierOf('passcode');

const state: {
  profiles?: Record<ProfileRole, string>;
  policy?: string;
  users?: Record<string, string>;
  iphone?: SimDeviceHandle;
  mac?: SimDeviceHandle;
} = {};

const onSim = (device: SimDeviceHandle | undefined) =>
  (device?.installedProfiles() ?? []).map((p) => p.identifier);

/** The user's personal link, then a simulated device enrolled through it. */
async function enrollFor(
  username: string,
  options: Parameters<typeof createSimDevice>[0],
): Promise<SimDeviceHandle> {
  const link = await sim.h.api('GET', `/api/v1/users/${state.users?.[username]}/enrollment-link`);
  expect(link.status).toBe(200);
  const device = createSimDevice(options);
  await device.enroll({ url: link.body.url as string });
  const owned = await sim.h.api('GET', `/api/v1/enrollments/${device.enrollmentId}`);
  expect(owned.body).toMatchObject({ userId: state.users?.[username] });
  return device;
}

describe('policies end to end', () => {
  test('ok/Interactive enabled at the group; a policy of five profiles', async () => {
    const page = await sim.h.api('PUT', '/api/v1/groups/global/settings/profile-options', {
      currentSetting: 'override',
      values: { interactiveEnabled: true },
    });
    expect(page.status).toBe(200);
    state.profiles = await uploadProfiles(sim.h, 'global');
    state.policy = await policyApi.create(sim.h, 'standard', 'global');
    for (const id of Object.values(state.profiles)) await policyApi.assign(sim.h, state.policy, id);
  });

  test('ok/users imported from CSV with the policy', async () => {
    const csv = ['username,email,policy', 'alice,alice@example.com,standard'];
    csv.push('bob,bob@example.com,standard');
    const res = await sim.h.raw(
      'POST',
      '/api/v1/users/import',
      { authorization: `Bearer ${sim.h.apiKey}`, 'content-type': 'text/csv' },
      Buffer.from(`${csv.join('\r\n')}\r\n`),
    );
    expect(res.status).toBe(200);
    const report = JSON.parse(res.body) as {
      created: number;
      rows: { username: string; userId: string }[];
    };
    expect(report.created).toBe(2);
    state.users = Object.fromEntries(report.rows.map((r) => [r.username, r.userId]));
    const alice = await sim.h.api('GET', `/api/v1/users/${state.users.alice}`);
    expect(alice.body).toMatchObject({ policy: 'standard', policyId: state.policy });
  });

  test("M5 ok/an iPhone enrolled through alice's link: Auto installed, Interactive not", async () => {
    const iphone = await enrollFor('alice', {
      ...{ platform: 'iOS', osVersion: '18.1', keys: sim.keys, manualProfiles: [MANUAL] },
    });
    state.iphone = iphone;
    await settle(iphone, async () => {
      const view = await profilesOf(sim.h, iphone.enrollmentId);
      return identifiersIn(view, 'installed').length === 2;
    });
    const view = await profilesOf(sim.h, iphone.enrollmentId);
    expect(identifiersIn(view, 'installed')).toEqual([CELLULAR, WIFI].sort());
    expect(view.installed).toEqual(
      expect.arrayContaining([expect.objectContaining({ identifier: WIFI, channel: 'policy' })]),
    );
    expect(identifiersIn(view, 'offered')).toEqual([FONT, PASSCODE].sort());
    expect(view.skipped).toEqual([
      expect.objectContaining({ identifier: RESTRICT, reason: expect.stringMatching(/supervis/) }),
    ]);
    expect(onSim(iphone)).toEqual(
      expect.arrayContaining([WIFI, CELLULAR, MANUAL.PayloadIdentifier]),
    );
    expect(onSim(iphone)).not.toContain(PASSCODE);
    expect(onSim(iphone)).not.toContain(FONT);
  });

  test('B1 ok/explain says why the Interactive profile is not installed', async () => {
    const id = state.iphone?.enrollmentId ?? '';
    const res = await sim.h.api('GET', `/api/v1/enrollments/${id}/profiles/${PASSCODE}/explain`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      enrollmentId: id,
      identifier: PASSCODE,
      decision: 'offered',
      assignment: { policyId: state.policy, assignmentType: 'interactive' },
      user: { id: state.users?.alice, username: 'alice' },
      policy: { id: state.policy, source: { kind: 'user' } },
      record: null,
    });
    expect(res.body.summary).toMatch(/interactive|user/i);
    expect(res.body.groups[0]).toMatchObject({ groupId: 'global' });
  });

  test("M7 ok/bob's Mac gets the iOS-only profile skipped with a reason", async () => {
    const mac = await enrollFor('bob', { platform: 'macOS', osVersion: '10.14.6', keys: sim.keys });
    state.mac = mac;
    await settle(mac, async () =>
      identifiersIn(await profilesOf(sim.h, mac.enrollmentId), 'installed').includes(WIFI),
    );
    const view = await profilesOf(sim.h, mac.enrollmentId);
    expect(identifiersIn(view, 'installed')).toEqual([WIFI]);
    const skipped = Object.fromEntries(
      (view.skipped as { identifier: string; reason: string }[]).map((p) => [
        p.identifier,
        p.reason,
      ]),
    );
    expect(Object.keys(skipped).sort()).toEqual([CELLULAR, RESTRICT].sort());
    expect(skipped[CELLULAR]).toMatch(/macOS/);
    const why = await sim.h.api(
      'GET',
      `/api/v1/enrollments/${mac.enrollmentId}/profiles/${CELLULAR}/explain`,
    );
    expect(why.body).toMatchObject({ decision: 'skipped', device: { platform: 'macOS' } });
    expect(why.body.compatibility).toEqual(
      expect.arrayContaining([expect.objectContaining({ ok: false })]),
    );
    expect(onSim(mac)).not.toContain(CELLULAR);
  });

  test('M6 ok/a profile the user installed by hand is never removed, even as the policy changes', async () => {
    const iphone = state.iphone as SimDeviceHandle;
    await policyApi.unassign(sim.h, state.policy ?? '', state.profiles?.cellular ?? '');
    await settle(iphone, () => Promise.resolve(!onSim(iphone).includes(CELLULAR)));
    const reconcile = await sim.h.api(
      'POST',
      `/api/v1/enrollments/${iphone.enrollmentId}/profiles/reconcile`,
    );
    expect(reconcile.status).toBe(202);
    await settle(iphone, async () => {
      const view = await profilesOf(sim.h, iphone.enrollmentId);
      return view.reconciledAt !== undefined;
    });
    expect(onSim(iphone)).toEqual(expect.arrayContaining([WIFI, MANUAL.PayloadIdentifier]));
    expect(await removeProfileTargets(sim.h, iphone.enrollmentId)).toEqual([CELLULAR]);
    expect(await removeProfileTargets(sim.h, state.mac?.enrollmentId ?? '')).toEqual([]);
    const manual = await sim.h.api(
      'GET',
      `/api/v1/enrollments/${iphone.enrollmentId}/profiles/${MANUAL.PayloadIdentifier as string}/explain`,
    );
    // Orchard has no record of it and no library profile names it: it is someone else's.
    expect([manual.status, manual.body.code]).toEqual([404, 'ERR_DEVICE_PROFILE_NOT_FOUND']);
    const refused = await sim.h.api(
      'DELETE',
      `/api/v1/enrollments/${iphone.enrollmentId}/profiles/${MANUAL.PayloadIdentifier as string}`,
    );
    expect(refused.status).toBeGreaterThanOrEqual(404);
    expect(['ERR_NOT_INSTALLED_BY_ORCHARD', 'ERR_DEVICE_PROFILE_NOT_FOUND']).toContain(
      refused.body.code,
    );
  });

  test('ok/removed by hand: the Auto profile comes back at reconciliation, the Optional one stays removed', async () => {
    const mac = state.mac as SimDeviceHandle;
    const installed = await sim.h.api('POST', `/api/v1/enrollments/${mac.enrollmentId}/profiles`, {
      profileId: state.profiles?.font,
    });
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({ identifier: FONT, channel: 'admin' });
    await settle(mac, async () =>
      identifiersIn(await profilesOf(sim.h, mac.enrollmentId), 'installed').includes(FONT),
    );
    expect(onSim(mac)).toEqual(expect.arrayContaining([WIFI, FONT]));
    for (const identifier of [WIFI, FONT]) {
      const decision = await mac.removeProfileByUser(identifier, { adminAuthenticated: true });
      expect(decision?.outcome).toBe('needs-admin-authentication');
    }
    expect(onSim(mac)).not.toEqual(expect.arrayContaining([WIFI]));
    const reconcile = await sim.h.api(
      'POST',
      `/api/v1/enrollments/${mac.enrollmentId}/profiles/reconcile`,
    );
    expect(reconcile.status).toBe(202);
    await settle(mac, () => Promise.resolve(onSim(mac).includes(WIFI)));
    const view = await profilesOf(sim.h, mac.enrollmentId);
    expect(onSim(mac)).not.toContain(FONT);
    expect(view.removed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identifier: FONT, reason: 'removed on the device' }),
      ]),
    );
    expect(identifiersIn(view, 'installed')).not.toContain(FONT);
    await settle(mac, async () =>
      identifiersIn(await profilesOf(sim.h, mac.enrollmentId), 'installed').includes(WIFI),
    );
    const again = await sim.h.api(
      'POST',
      `/api/v1/enrollments/${mac.enrollmentId}/profiles/reconcile`,
    );
    expect(again.status).toBe(202);
    await settle(
      mac,
      async () => (await profilesOf(sim.h, mac.enrollmentId)).reconciledAt !== view.reconciledAt,
    );
    expect(onSim(mac)).not.toContain(FONT);
  });
});

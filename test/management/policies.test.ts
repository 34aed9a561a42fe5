/**
 * The policy service on the memory admin store (rules M5, S4, S8, A12, A13), with a delivery
 * double that records what it is asked to preview or apply: policies owned by existing groups
 * with unique names, assignments with their defaults, Interactive only where `profile-options`
 * allows it, removal controls (a generated password kept while the control stays, `never` only
 * where a supervised device can take the profile), dry runs that store nothing, deletion refused
 * while something names the policy, and each user's one effective policy.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { createGroupService, type GroupService } from '../../src/management/groups-service.js';
import { createPolicyService } from '../../src/management/policies.js';
import {
  REMOVAL_PASSWORD_ALPHABET,
  REMOVAL_PASSWORD_LENGTH,
} from '../../src/management/delivery/removal-control.js';
import type { PolicyService } from '../../src/management/delivery/types.js';
import type { AdminStorage, UserRecord } from '../../src/storage/ports.js';
import {
  NOW,
  policyStore,
  profileContent,
  recordingDelivery,
  storeProfile,
  type EffectCall,
} from './policies-fixture.js';

let store: AdminStorage;
let groups: GroupService;
let policies: PolicyService;
let calls: EffectCall[];
let passwords: number;

const WIFI = { PayloadType: 'com.apple.wifi.managed', SSID_STR: 'corp', AutoJoin: true };
const CAMERA = { PayloadType: 'com.apple.applicationaccess', allowCamera: false };
/** An MDM payload with a Managed Apple ID: only User Enrollment takes it, no supervised device. */
const USER_ONLY = {
  PayloadType: 'com.apple.mdm',
  IdentityCertificateUUID: 'A0000000-0000-4000-8000-000000000009',
  Topic: 'com.apple.mgmt.example',
  ServerURL: 'https://mdm.example.com/mdm',
  ManagedAppleID: 'ann@example.com',
};

beforeEach(async () => {
  store = await policyStore();
  groups = createGroupService({ store, principals: store, clock: () => NOW });
  const recorded = recordingDelivery();
  calls = recorded.calls;
  let n = 0;
  passwords = 0;
  policies = createPolicyService({
    ...{ store, groups, effects: recorded.delivery, clock: () => NOW },
    uuid: () => `0000-${++n}`,
    password: () => `secret-${++passwords}`,
  });
  await storeProfile(store, 'wifi', 'global', profileContent('com.example.wifi', WIFI));
  const camera = profileContent('com.example.camera', CAMERA);
  await storeProfile(store, 'camera', 'eu', camera, 'optional');
  await storeProfile(store, 'ue', 'global', profileContent('com.example.ue', USER_ONLY));
});

/** The rejection of `promise` (fails the test when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as Record<string, unknown>,
  );
}

const interactive = (groupId: string, on: boolean) =>
  groups.writeSettings(groupId, 'profile-options', {
    currentSetting: 'override',
    values: { interactiveEnabled: on },
  });

describe('policies', () => {
  test('ok/create, get, resolve by id or name, list by group, update, delete', async () => {
    const made = await policies.create({ name: 'Standard', groupId: 'eu', description: 'base' });
    expect(made).toMatchObject({ id: 'pol_00001', name: 'Standard', groupId: 'eu' });
    expect(await policies.get(made.id)).toEqual(made);
    expect((await policies.resolve('standard')).id).toBe(made.id);
    expect((await policies.resolve(made.id)).id).toBe(made.id);
    await policies.create({ name: 'Kiosk', groupId: 'us' });
    const eu = await policies.list({ limit: 10, groupIds: ['eu'] });
    expect(eu.items.map((p) => p.name)).toEqual(['Standard']);
    const changed = await policies.update(made.id, { name: 'Base', description: null });
    expect(changed).toMatchObject({ name: 'Base' });
    expect(changed.description).toBeUndefined();
    await policies.delete(made.id);
    expect(await refusal(policies.get(made.id))).toMatchObject({
      code: 'ERR_POLICY_NOT_FOUND',
      status: 404,
    });
  });

  test.each([
    ['fail/an unknown owner group', { name: 'X', groupId: 'nowhere' }, 'ERR_GROUP_NOT_FOUND'],
    [
      'fail/a taken name in another case',
      { name: 'STANDARD', groupId: 'us' },
      'ERR_POLICY_NAME_TAKEN',
    ],
    ['fail/an empty name', { name: '', groupId: 'eu' }, 'ERR_BAD_REQUEST'],
    ['fail/a name of 129 characters', { name: 'n'.repeat(129), groupId: 'eu' }, 'ERR_BAD_REQUEST'],
    ['fail/a name with a line break', { name: 'a\nb', groupId: 'eu' }, 'ERR_BAD_REQUEST'],
  ])('%s', async (_name, input, code) => {
    await policies.create({ name: 'Standard', groupId: 'eu' });
    expect(await refusal(policies.create(input))).toMatchObject({ code });
  });

  test('fail/renaming to a taken name is 409 and changes nothing', async () => {
    await policies.create({ name: 'Standard', groupId: 'eu' });
    const other = await policies.create({ name: 'Kiosk', groupId: 'eu' });
    expect(await refusal(policies.update(other.id, { name: 'standard' }))).toMatchObject({
      code: 'ERR_POLICY_NAME_TAKEN',
      status: 409,
    });
    expect((await policies.get(other.id)).name).toBe('Kiosk');
  });

  test('fail/resolve: an unknown reference is 422 ERR_POLICY_UNKNOWN naming it', async () => {
    expect(await refusal(policies.resolve('gold'))).toMatchObject({
      code: 'ERR_POLICY_UNKNOWN',
      status: 422,
      message: 'no policy gold',
    });
  });
});

describe('M5 assignments', () => {
  test('ok/defaults: the library profile type and removal always; a re-assignment keeps what it omits', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    const first = await policies.assign(p.id, 'prf_camera', {});
    expect(first.value).toMatchObject({ assignmentType: 'optional', removal: 'always' });
    expect(first.report.applied).toBe(true);
    await policies.assign(p.id, 'prf_camera', { assignmentType: 'auto' });
    const kept = await policies.assign(p.id, 'prf_camera', {});
    expect(kept.value).toMatchObject({ assignmentType: 'auto', removal: 'always' });
    expect(kept.value?.createdAt).toEqual(first.value?.createdAt);
    expect((await policies.assignments(p.id)).map((a) => a.profileId)).toEqual(['prf_camera']);
  });

  test('ok/each applied change is stored first, then applied with the change', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    await policies.assign(p.id, 'prf_wifi', { assignmentType: 'auto' }, { limit: 5 });
    await policies.setGroupPolicy('fr', p.id);
    await policies.unassign(p.id, 'prf_wifi');
    await policies.setGroupPolicy('fr', undefined);
    expect(calls).toEqual([
      {
        op: 'apply',
        change: {
          ...{ kind: 'assign', policyId: p.id, profileId: 'prf_wifi' },
          ...{ assignmentType: 'auto', removal: 'always' },
        },
        limit: 5,
      },
      { op: 'apply', change: { kind: 'group-policy', groupId: 'fr', policyId: p.id } },
      { op: 'apply', change: { kind: 'unassign', policyId: p.id, profileId: 'prf_wifi' } },
      { op: 'apply', change: { kind: 'group-policy', groupId: 'fr' } },
    ]);
    expect(await store.listAssignments(p.id)).toEqual([]);
    expect((await store.listGroupPolicies()).has('fr')).toBe(false);
  });

  test.each([
    ['fail/an unknown policy', 'pol_none', 'prf_wifi', 'ERR_POLICY_NOT_FOUND'],
    ['fail/an unknown profile', 'own', 'prf_none', 'ERR_PROFILE_NOT_FOUND'],
  ])('%s', async (_name, policyId, profileId, code) => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    const id = policyId === 'own' ? p.id : policyId;
    expect(await refusal(policies.assign(id, profileId, {}))).toMatchObject({ code });
    expect(calls).toEqual([]);
  });

  test('fail/unassigning a profile the policy does not have is 404 ERR_ASSIGNMENT_NOT_FOUND', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    expect(await refusal(policies.unassign(p.id, 'prf_wifi'))).toMatchObject({
      code: 'ERR_ASSIGNMENT_NOT_FOUND',
      status: 404,
    });
  });

  test("ok/a user's one effective policy: their own, else the nearest group default, else none", async () => {
    const base = await policies.create({ name: 'Base', groupId: 'global' });
    const france = await policies.create({ name: 'France', groupId: 'fr' });
    const own = await policies.create({ name: 'Own', groupId: 'eu' });
    await policies.setGroupPolicy('global', base.id);
    await policies.setGroupPolicy('fr', france.id);
    const user = (groupId: string, policy?: string): UserRecord => ({
      ...{ id: 'usr_1', username: 'ann', email: 'ann@example.com', groupId, generic: false },
      ...(policy === undefined ? {} : { policy }),
      ...{ createdAt: NOW, updatedAt: NOW },
    });
    expect(await policies.effectivePolicy(user('paris'))).toEqual({
      policy: france,
      source: { kind: 'group', groupId: 'fr' },
    });
    expect((await policies.effectivePolicy(user('de'))).policy?.id).toBe(base.id);
    expect(await policies.effectivePolicy(user('paris', own.id))).toEqual({
      policy: own,
      source: { kind: 'user' },
    });
    await policies.setGroupPolicy('global', undefined);
    expect(await policies.effectivePolicy(user('us'))).toEqual({ source: { kind: 'none' } });
    const snapshot = await policies.snapshot();
    expect([...snapshot.groupPolicies]).toEqual([['fr', france.id]]);
  });

  test('fail/a default policy for an unknown group is 404, of an unknown policy 422', async () => {
    const p = await policies.create({ name: 'Base', groupId: 'global' });
    expect(await refusal(policies.setGroupPolicy('nowhere', p.id))).toMatchObject({
      code: 'ERR_GROUP_NOT_FOUND',
    });
    expect(await refusal(policies.setGroupPolicy('fr', 'pol_none'))).toMatchObject({
      code: 'ERR_POLICY_UNKNOWN',
      field: 'policyId',
    });
    expect(calls).toEqual([]);
  });
});

describe('S4 dry runs', () => {
  test('ok/a dry run previews the change and stores nothing', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    const dry = await policies.assign(
      p.id,
      'prf_wifi',
      { removal: 'with-authorization' },
      {
        dryRun: true,
      },
    );
    expect(dry).toEqual({ report: expect.objectContaining({ applied: false }) });
    expect(await store.listAssignments(p.id)).toEqual([]);
    expect(passwords).toBe(0);
    await policies.setGroupPolicy('eu', p.id, { dryRun: true });
    expect(await store.listGroupPolicies()).toEqual(new Map());
    await policies.assign(p.id, 'prf_wifi', {});
    await policies.unassign(p.id, 'prf_wifi', { dryRun: true });
    expect(await store.listAssignments(p.id)).toHaveLength(1);
    expect(calls.map((c) => `${c.op} ${c.change.kind}`)).toEqual([
      'preview assign',
      'preview group-policy',
      'apply assign',
      'preview unassign',
    ]);
  });
});

describe('A13 Interactive', () => {
  test("fail/Interactive where the policy's group disables it is 422; allowed once enabled", async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'fr' });
    const e = await refusal(policies.assign(p.id, 'prf_wifi', { assignmentType: 'interactive' }));
    expect(e).toMatchObject({ code: 'ERR_INTERACTIVE_DISABLED', status: 422, group: 'fr' });
    expect(await store.listAssignments(p.id)).toEqual([]);
    await interactive('eu', true);
    const ok = await policies.assign(p.id, 'prf_wifi', { assignmentType: 'interactive' });
    expect(ok.value?.assignmentType).toBe('interactive');
  });

  test('fail/moving a policy with Interactive profiles to a group that disables it is 422', async () => {
    await interactive('eu', true);
    const p = await policies.create({ name: 'Standard', groupId: 'fr' });
    await policies.assign(p.id, 'prf_wifi', { assignmentType: 'interactive' });
    expect(await refusal(policies.update(p.id, { groupId: 'us' }))).toMatchObject({
      code: 'ERR_INTERACTIVE_DISABLED',
      group: 'us',
    });
    expect((await policies.get(p.id)).groupId).toBe('fr');
    expect((await policies.update(p.id, { groupId: 'de' })).groupId).toBe('de');
    const plain = await policies.create({ name: 'Plain', groupId: 'fr' });
    await policies.assign(plain.id, 'prf_wifi', { assignmentType: 'auto' });
    expect((await policies.update(plain.id, { groupId: 'us' })).groupId).toBe('us');
  });
});

describe('S8 removal controls', () => {
  test('ok/with-authorization generates a password, kept while the control stays', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    const made = await policies.assign(p.id, 'prf_wifi', { removal: 'with-authorization' });
    expect(made.value).not.toHaveProperty('removalPassword');
    expect(await policies.removalPassword(p.id, 'prf_wifi')).toBe('secret-1');
    await policies.assign(p.id, 'prf_wifi', { assignmentType: 'optional' });
    expect(await policies.removalPassword(p.id, 'prf_wifi')).toBe('secret-1');
    expect((await policies.assignments(p.id))[0]).not.toHaveProperty('removalPassword');
    await policies.assign(p.id, 'prf_wifi', { removal: 'always' });
    expect(await refusal(policies.removalPassword(p.id, 'prf_wifi'))).toMatchObject({
      code: 'ERR_ASSIGNMENT_NOT_FOUND',
      status: 404,
    });
    expect((await store.listAssignments(p.id))[0]?.removalPassword).toBeUndefined();
    await policies.assign(p.id, 'prf_wifi', { removal: 'with-authorization' });
    expect(await policies.removalPassword(p.id, 'prf_wifi')).toBe('secret-2');
  });

  test('ok/the default password: 24 characters of an unambiguous alphabet, fresh each time', async () => {
    const service = createPolicyService({ store, groups, effects: recordingDelivery().delivery });
    const p = await service.create({ name: 'Standard', groupId: 'eu' });
    await service.assign(p.id, 'prf_wifi', { removal: 'with-authorization' });
    await service.assign(p.id, 'prf_camera', { removal: 'with-authorization' });
    const a = await service.removalPassword(p.id, 'prf_wifi');
    const b = await service.removalPassword(p.id, 'prf_camera');
    for (const pw of [a, b]) {
      expect(pw).toHaveLength(REMOVAL_PASSWORD_LENGTH);
      expect(Array.from(pw, (c) => REMOVAL_PASSWORD_ALPHABET.includes(c))).not.toContain(false);
      expect(pw).not.toMatch(/[0O1lI]/);
    }
    expect(a).not.toBe(b);
  });

  test('ok/never for a profile a supervised device can take', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    const done = await policies.assign(p.id, 'prf_camera', { removal: 'never' });
    expect(done.value?.removal).toBe('never');
  });

  test('fail/never for a profile no supervised device can take is 422 ERR_REMOVAL_CONTROL', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    expect(await refusal(policies.assign(p.id, 'prf_ue', { removal: 'never' }))).toMatchObject({
      code: 'ERR_REMOVAL_CONTROL',
      status: 422,
      field: 'removal',
    });
    expect(calls).toEqual([]);
    expect((await policies.assign(p.id, 'prf_ue', {})).value?.removal).toBe('always');
  });
});

describe('deleting', () => {
  test('fail/a policy named by users, groups or links is 409 ERR_POLICY_IN_USE naming the counts', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    await policies.assign(p.id, 'prf_wifi', {});
    await store.createUser({
      username: 'ann',
      email: 'a@example.com',
      groupId: 'fr',
      policy: p.id,
    });
    await policies.setGroupPolicy('fr', p.id);
    const e = await refusal(policies.delete(p.id));
    expect(e).toMatchObject({ code: 'ERR_POLICY_IN_USE', status: 409 });
    expect(e.message).toMatch(
      /1 user\(s\), 1 group\(s\) as their default policy and 0 enrollment link/,
    );
    expect((await policies.get(p.id)).id).toBe(p.id);
  });

  test('ok/a policy with assignments but nothing naming it is deleted with them', async () => {
    const p = await policies.create({ name: 'Standard', groupId: 'eu' });
    await policies.assign(p.id, 'prf_wifi', {});
    await policies.delete(p.id);
    expect(await store.findPolicy(p.id)).toBeUndefined();
    expect(await store.listAssignments(p.id)).toEqual([]);
  });

  test('fail/a group that owns a policy is not deleted (409 ERR_GROUP_NOT_EMPTY)', async () => {
    const p = await policies.create({ name: 'Paris', groupId: 'paris' });
    expect(await refusal(groups.deleteGroup('paris'))).toMatchObject({
      code: 'ERR_GROUP_NOT_EMPTY',
      group: 'paris',
    });
    await policies.delete(p.id);
    expect((await groups.deleteGroup('paris')).id).toBe('paris');
  });
});

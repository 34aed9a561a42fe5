/**
 * `/api/v1/policies` and `/api/v1/groups/{id}/policy` through the admin app on the memory store
 * (rules M5, S4, S8, A12, A13), with a delivery double recording what it is asked: policies made,
 * listed, read, changed and deleted within the caller's sight (404 outside it, 403 above its
 * scope or for a read-only caller), profiles assigned with dry runs that store nothing, removal
 * passwords never listed and read only with a write key (audited), groups' default policies.
 * The organization: Global > Sales > East, Global > Engineering.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { createAdminApi, type AdminApi } from '../../../src/http/admin/index.js';
import { createPolicyService } from '../../../src/management/policies.js';
import {
  profileContent,
  recordingDelivery,
  storeProfile,
  type EffectCall,
} from '../../management/policies-fixture.js';
import { adminsFixture, type AdminsFixture } from './admins-fixture.js';
import { callApi } from './support.js';

let f: AdminsFixture;
let app: AdminApi;
let calls: EffectCall[];

const WIFI = { PayloadType: 'com.apple.wifi.managed', SSID_STR: 'corp', AutoJoin: true };

beforeEach(async () => {
  f = await adminsFixture();
  const recorded = recordingDelivery();
  calls = recorded.calls;
  let n = 0;
  const policies = createPolicyService({
    ...{ store: f.admin, groups: f.deps.groups, effects: recorded.delivery },
    uuid: () => `p-${++n}`,
    password: () => 'Secret-Password',
  });
  app = createAdminApi({ ...f.deps, policies, delivery: recorded.delivery });
  await storeProfile(f.admin, 'wifi', 'global', profileContent('com.example.wifi', WIFI));
  await storeProfile(f.admin, 'sales', 'sales', profileContent('com.example.sales', WIFI));
  await storeProfile(f.admin, 'eng', 'eng', profileContent('com.example.eng', WIFI), 'optional');
});

const call = (key: string, method: string, path: string, body?: unknown) =>
  callApi(app, key, method, path, body);

/** Creates a policy with the owner key; its id. */
async function policy(name: string, groupId: string): Promise<string> {
  const res = await call(f.owner.key, 'POST', '/api/v1/policies', { name, groupId });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const actions = async () => (await f.admin.listAudit({ limit: 50 })).items.map((e) => e.action);

describe('policies API', () => {
  test('ok/create, read, list, patch, delete; audited', async () => {
    const made = await call(f.sales.key, 'POST', '/api/v1/policies', {
      name: 'Standard',
      groupId: 'east',
      description: 'every laptop',
    });
    expect(made).toMatchObject({
      status: 201,
      body: { id: 'pol_p1', name: 'Standard', groupId: 'east', description: 'every laptop' },
    });
    const path = '/api/v1/policies/pol_p1';
    expect((await call(f.sales.readKey, 'GET', path)).body).toMatchObject({ name: 'Standard' });
    const patched = await call(f.sales.key, 'PATCH', path, { description: null, groupId: 'sales' });
    expect(patched.body).toMatchObject({ description: null, groupId: 'sales' });
    const list = await call(f.sales.readKey, 'GET', '/api/v1/policies?groupId=sales');
    expect(list.body).toMatchObject({ items: [{ id: 'pol_p1' }], nextCursor: null });
    expect((await call(f.sales.key, 'DELETE', path)).body).toEqual({ deleted: true });
    expect((await call(f.sales.key, 'GET', path)).status).toBe(404);
    expect(await actions()).toEqual(
      expect.arrayContaining(['policy.create', 'policy.update', 'policy.delete']),
    );
  });

  test('ok/A12: a caller lists the policies owned at, below and above its scope', async () => {
    const ids = [
      await policy('Top', 'global'),
      await policy('Sales', 'sales'),
      await policy('East', 'east'),
      await policy('Eng', 'eng'),
    ];
    const listed = await call(f.sales.readKey, 'GET', '/api/v1/policies');
    expect((listed.body.items as { id: string }[]).map((p) => p.id)).toEqual(ids.slice(0, 3));
    const all = await call(f.owner.key, 'GET', '/api/v1/policies?limit=2');
    expect((all.body.items as unknown[]).length).toBe(2);
    expect(typeof all.body.nextCursor).toBe('string');
    expect((await call(f.sales.key, 'GET', '/api/v1/policies?groupId=eng')).status).toBe(404);
  });

  test('fail/A12: a policy out of sight is 404 for every route; one above the scope is 403 to change', async () => {
    const eng = await policy('Eng', 'eng');
    const top = await policy('Top', 'global');
    const routes: [string, string, unknown?][] = [
      ['GET', ''],
      ['PATCH', '', { name: 'X' }],
      ['DELETE', ''],
      ['GET', '/profiles'],
      ['PUT', '/profiles/prf_wifi', {}],
      ['DELETE', '/profiles/prf_wifi'],
      ['GET', '/profiles/prf_wifi/removal-password'],
    ];
    for (const [method, suffix, body] of routes)
      expect(
        await call(f.sales.key, method, `/api/v1/policies/${eng}${suffix}`, body),
      ).toMatchObject({
        status: 404,
        body: { code: 'ERR_POLICY_NOT_FOUND' },
      });
    expect((await call(f.sales.key, 'GET', `/api/v1/policies/${top}`)).status).toBe(200);
    for (const [method, suffix, body] of routes.filter(
      ([m, s]) => m !== 'GET' || s.endsWith('password'),
    ))
      expect(
        await call(f.sales.key, method, `/api/v1/policies/${top}${suffix}`, body),
      ).toMatchObject({
        status: 403,
        body: { code: 'ERR_ADMIN_SCOPE' },
      });
    expect(calls).toEqual([]);
  });

  test.each([
    ['a read key', () => f.sales.readKey, 'ERR_API_SCOPE'],
    ['a read-only administrator', () => f.salesReader.key, 'ERR_API_SCOPE'],
  ])('fail/%s cannot create, assign or read a removal password (403)', async (_name, key, code) => {
    const id = await policy('Sales', 'sales');
    for (const [method, path, body] of [
      ['POST', '/api/v1/policies', { name: 'X', groupId: 'sales' }],
      ['PUT', `/api/v1/policies/${id}/profiles/prf_wifi`, {}],
      ['GET', `/api/v1/policies/${id}/profiles/prf_wifi/removal-password`],
      ['PUT', '/api/v1/groups/sales/policy', { policyId: id }],
    ] as const)
      expect(await call(key(), method, path, body)).toMatchObject({ status: 403, body: { code } });
  });

  test.each([
    ['fail/a taken name (409)', { name: 'SALES', groupId: 'east' }, 409, 'ERR_POLICY_NAME_TAKEN'],
    ['fail/a group out of sight (404)', { name: 'X', groupId: 'eng' }, 404, 'ERR_GROUP_NOT_FOUND'],
    [
      'fail/a group above the scope (403)',
      { name: 'X', groupId: 'global' },
      403,
      'ERR_ADMIN_SCOPE',
    ],
  ])('%s', async (_name, body, status, code) => {
    await policy('Sales', 'sales');
    expect(await call(f.sales.key, 'POST', '/api/v1/policies', body)).toMatchObject({
      status,
      body: { code },
    });
  });

  test('fail/a policy in use is not deleted (409 ERR_POLICY_IN_USE)', async () => {
    const id = await policy('Sales', 'sales');
    await call(f.sales.key, 'PUT', '/api/v1/groups/east/policy', { policyId: id });
    const res = await call(f.sales.key, 'DELETE', `/api/v1/policies/${id}`);
    expect(res).toMatchObject({ status: 409, body: { code: 'ERR_POLICY_IN_USE' } });
    expect(res.body.message).toMatch(/1 group\(s\)/);
  });
});

describe('M5, S4, S8: the profiles of a policy', () => {
  test('ok/assign, list (no password), read the password (audited), unassign; each answers its report', async () => {
    const id = await policy('Sales', 'sales');
    const base = `/api/v1/policies/${id}/profiles`;
    const put = await call(f.sales.key, 'PUT', `${base}/prf_sales`, {
      assignmentType: 'optional',
      removal: 'with-authorization',
    });
    expect(put).toMatchObject({
      status: 200,
      body: {
        assignment: {
          ...{ policyId: id, profileId: 'prf_sales', name: 'sales' },
          ...{ identifier: 'com.example.sales', assignmentType: 'optional' },
          removal: 'with-authorization',
        },
        report: { applied: true, devices: 0, plans: [] },
      },
    });
    expect(JSON.stringify(put.body)).not.toContain('Secret-Password');
    const listed = await call(f.sales.readKey, 'GET', base);
    expect(listed.body.items).toEqual([expect.objectContaining({ profileId: 'prf_sales' })]);
    expect(JSON.stringify(listed.body)).not.toContain('Secret-Password');
    const secret = await call(f.sales.key, 'GET', `${base}/prf_sales/removal-password`);
    expect(secret.body).toEqual({
      policyId: id,
      profileId: 'prf_sales',
      password: 'Secret-Password',
    });
    const removed = await call(f.sales.key, 'DELETE', `${base}/prf_sales`);
    expect(removed).toMatchObject({ status: 200, body: { report: { applied: true } } });
    expect((await call(f.sales.key, 'GET', base)).body.items).toEqual([]);
    expect(await actions()).toEqual(
      expect.arrayContaining(['policy.assign', 'policy.removal-password.read', 'policy.unassign']),
    );
    expect(calls.map((c) => `${c.op} ${c.change.kind}`)).toEqual([
      'apply assign',
      'apply unassign',
    ]);
  });

  test('ok/S4: dry runs answer applied false and store nothing (PUT body, DELETE query)', async () => {
    const id = await policy('Sales', 'sales');
    const base = `/api/v1/policies/${id}/profiles/prf_wifi`;
    const dry = await call(f.sales.key, 'PUT', base, { dryRun: true });
    expect(dry).toMatchObject({
      status: 200,
      body: { assignment: null, report: { applied: false } },
    });
    expect(await f.admin.listAssignments(id)).toEqual([]);
    await call(f.sales.key, 'PUT', base, {});
    expect((await call(f.sales.key, 'DELETE', `${base}?dryRun=true`)).body).toMatchObject({
      report: { applied: false },
    });
    expect((await call(f.sales.key, 'DELETE', `${base}?dryRun=false&x=1`)).body).toMatchObject({
      code: 'ERR_BAD_REQUEST',
      field: 'x',
    });
    expect(await f.admin.listAssignments(id)).toHaveLength(1);
    expect(calls.map((c) => `${c.op} ${c.change.kind}`)).toEqual([
      'preview assign',
      'apply assign',
      'preview unassign',
    ]);
    expect((await actions()).filter((a) => a.startsWith('policy.'))).toEqual([
      'policy.assign',
      'policy.create',
    ]);
  });

  test.each([
    ['fail/a profile out of sight (404)', 'prf_eng', {}, 404, 'ERR_PROFILE_NOT_FOUND'],
    ['fail/an unknown profile (404)', 'prf_none', {}, 404, 'ERR_PROFILE_NOT_FOUND'],
    [
      'fail/A13: Interactive where the group disables it (422)',
      'prf_wifi',
      { assignmentType: 'interactive' },
      422,
      'ERR_INTERACTIVE_DISABLED',
    ],
  ])('%s', async (_name, profileId, body, status, code) => {
    const id = await policy('Sales', 'sales');
    const res = await call(
      f.sales.key,
      'PUT',
      `/api/v1/policies/${id}/profiles/${profileId}`,
      body,
    );
    expect(res).toMatchObject({ status, body: { code } });
    expect(calls).toEqual([]);
  });

  test('fail/S8: no removal password for an assignment that has none (404)', async () => {
    const id = await policy('Sales', 'sales');
    await call(f.sales.key, 'PUT', `/api/v1/policies/${id}/profiles/prf_wifi`, {});
    const res = await call(
      f.sales.key,
      'GET',
      `/api/v1/policies/${id}/profiles/prf_wifi/removal-password`,
    );
    expect(res).toMatchObject({ status: 404, body: { code: 'ERR_ASSIGNMENT_NOT_FOUND' } });
  });
});

describe("M5: groups' default policies", () => {
  test('ok/set, read (own and effective), preview and clear', async () => {
    const id = await policy('Sales', 'sales');
    const set = await call(f.sales.key, 'PUT', '/api/v1/groups/sales/policy', { policyId: id });
    expect(set).toMatchObject({ status: 200, body: { report: { applied: true } } });
    const east = await call(f.sales.readKey, 'GET', '/api/v1/groups/east/policy');
    expect(east.body).toMatchObject({
      groupId: 'east',
      policy: null,
      effective: { policy: { id, name: 'Sales' }, sourceGroupId: 'sales' },
    });
    const dry = await call(f.sales.key, 'PUT', '/api/v1/groups/sales/policy', {
      policyId: null,
      dryRun: true,
    });
    expect(dry.body).toMatchObject({ report: { applied: false } });
    expect((await f.admin.listGroupPolicies()).get('sales')).toBe(id);
    await call(f.sales.key, 'PUT', '/api/v1/groups/sales/policy', { policyId: null });
    expect((await call(f.sales.key, 'GET', '/api/v1/groups/sales/policy')).body).toMatchObject({
      policy: null,
      effective: { policy: null, sourceGroupId: null },
    });
    expect(calls.map((c) => c.change)).toEqual([
      { kind: 'group-policy', groupId: 'sales', policyId: id },
      { kind: 'group-policy', groupId: 'sales' },
      { kind: 'group-policy', groupId: 'sales' },
    ]);
    expect((await actions()).filter((a) => a === 'group.policy.write')).toHaveLength(2);
  });

  test.each([
    ['fail/an unknown policy (422)', 'sales', 'pol_none', 422, 'ERR_POLICY_UNKNOWN'],
    ['fail/a policy out of sight (422)', 'sales', 'eng', 422, 'ERR_POLICY_UNKNOWN'],
    ['fail/a group out of sight (404)', 'eng', 'sales', 404, 'ERR_GROUP_NOT_FOUND'],
    ['fail/a group above the scope (403)', 'global', 'sales', 403, 'ERR_ADMIN_SCOPE'],
  ])('%s', async (_name, groupId, which, status, code) => {
    const ids: Record<string, string> = {
      sales: await policy('Sales', 'sales'),
      eng: await policy('Eng', 'eng'),
    };
    const res = await call(f.sales.key, 'PUT', `/api/v1/groups/${groupId}/policy`, {
      policyId: ids[which] ?? which,
    });
    expect(res).toMatchObject({ status, body: { code } });
    expect(calls).toEqual([]);
  });
});

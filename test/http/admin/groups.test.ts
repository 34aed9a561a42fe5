/**
 * `/api/v1/groups` through the admin app on the memory admin store: groups, effective settings,
 * writes with their reports and audit, and the refusals an attacker would try (writes at a locked
 * group, read-only keys, other scopes, unknown pages, bad values, cycles). The tree:
 *
 *   global ─┬─ eu ── fr ── paris
 *           └─ us
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { createApiKey } from '../../../src/admin/api-keys.js';
import { createAdminApi, type AdminApi } from '../../../src/http/admin/index.js';
import { createGroupService } from '../../../src/management/groups-service.js';
import { createMemoryAdminStorage } from '../../../src/storage/memory/index.js';
import type { AdminRole, AdminStorage, ApiKeyScope } from '../../../src/storage/ports.js';
import type { EffectCall } from '../../management/policies-fixture.js';
import { recordingDelivery } from '../../management/policies-fixture.js';
import { callApi, trappedDeps } from './support.js';

const AT = new Date('2026-12-07T00:00:00Z');

interface Fixture {
  admin: AdminStorage;
  app: AdminApi;
  /** What delivery was asked to do (a moved group's users get their new effective policy). */
  delivery: EffectCall[];
  keys: { owner: string; ownerRead: string; eu: string; euReader: string; us: string };
}

async function keyOf(admin: AdminStorage, role: AdminRole, groupId: string, scope: ApiKeyScope) {
  const p = await admin.createPrincipal({ name: `${role} at ${groupId}`, role, groupId });
  return (await createApiKey(admin, 'key', scope, p.id)).key;
}

async function fixture(): Promise<Fixture> {
  const admin = createMemoryAdminStorage({ clock: () => AT });
  const { revision } = await admin.loadManagement();
  const group = (id: string, parentId: string) => ({
    id,
    name: id.toUpperCase(),
    parentId,
    createdAt: AT,
  });
  await admin.applyManagement(
    {
      putGroups: [
        group('eu', 'global'),
        group('fr', 'eu'),
        group('paris', 'fr'),
        group('us', 'global'),
      ],
    },
    revision,
  );
  let n = 0;
  const { delivery, calls } = recordingDelivery();
  const deps = trappedDeps(admin, {
    delivery,
    groups: createGroupService(
      { store: admin, principals: admin, clock: () => AT },
      { newId: () => `og_${++n}` },
    ),
  });
  return {
    admin,
    delivery: calls,
    app: createAdminApi(deps),
    keys: {
      owner: (await createApiKey(admin, 'owner', 'write')).key,
      ownerRead: (await createApiKey(admin, 'owner read', 'read')).key,
      eu: await keyOf(admin, 'full', 'eu', 'write'),
      euReader: await keyOf(admin, 'read-only', 'eu', 'write'),
      us: await keyOf(admin, 'full', 'us', 'write'),
    },
  };
}

let f: Fixture;
beforeEach(async () => {
  f = await fixture();
});

const call = (key: string, method: string, path: string, body?: unknown) =>
  callApi(f.app, key, method, path, body);

const settings = (id: string, page: string) => `/api/v1/groups/${id}/settings/${page}`;

describe('groups API', () => {
  test('ok/lists the groups a caller can see, with their paths', async () => {
    const all = await call(f.keys.owner, 'GET', '/api/v1/groups');
    expect(all.status).toBe(200);
    const items = all.body.items as { id: string; path: string[] }[];
    expect(items.map((g) => g.id)).toEqual(['global', 'eu', 'us', 'fr', 'paris']);
    expect(items.find((g) => g.id === 'paris')?.path).toEqual(['Global', 'EU', 'FR', 'PARIS']);
    const eu = await call(f.keys.eu, 'GET', '/api/v1/groups');
    expect((eu.body.items as { id: string }[]).map((g) => g.id)).toEqual([
      'global',
      'eu',
      'fr',
      'paris',
    ]);
  });

  test('ok/creates, reads, renames, moves and deletes a group', async () => {
    const made = await call(f.keys.eu, 'POST', '/api/v1/groups', { name: 'Lyon', parentId: 'fr' });
    expect(made).toMatchObject({
      status: 201,
      body: { id: 'og_1', parentId: 'fr', path: ['Global', 'EU', 'FR', 'Lyon'] },
    });
    expect((await call(f.keys.eu, 'GET', '/api/v1/groups/og_1')).body).toMatchObject({
      name: 'Lyon',
    });
    const moved = await call(f.keys.eu, 'PATCH', '/api/v1/groups/og_1', {
      name: 'Lyon 2',
      parentId: 'eu',
    });
    expect(moved).toMatchObject({
      status: 200,
      body: {
        applied: true,
        group: { name: 'Lyon 2', parentId: 'eu', path: ['Global', 'EU', 'Lyon 2'] },
      },
    });
    expect((await call(f.keys.eu, 'DELETE', '/api/v1/groups/og_1')).status).toBe(200);
    expect((await call(f.keys.eu, 'GET', '/api/v1/groups/og_1')).body.code).toBe(
      'ERR_GROUP_NOT_FOUND',
    );
    const actions = (await f.admin.listAudit({ limit: 10 })).items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['group.create', 'group.update', 'group.delete']),
    );
  });

  test('ok/reads effective settings of every page and of one', async () => {
    const all = await call(f.keys.eu, 'GET', '/api/v1/groups/paris/settings');
    expect((all.body.items as { page: string }[]).map((p) => p.page)).toEqual([
      'profile-options',
      'enrollment',
      'self-service',
    ]);
    const one = await call(f.keys.eu, 'GET', settings('paris', 'profile-options'));
    expect(one).toMatchObject({
      status: 200,
      body: {
        values: { interactiveEnabled: false },
        sourceGroupId: 'global',
        currentSetting: 'inherit',
        childPermission: 'inherit-or-override',
        dormant: false,
        lockedBy: null,
        writable: true,
        stored: null,
      },
    });
    expect(
      (await call(f.keys.eu, 'GET', settings('global', 'profile-options'))).body.writable,
    ).toBe(false);
  });

  test('ok/moving a group asks delivery to re-evaluate its subtree; renames and dry runs do not', async () => {
    await call(f.keys.owner, 'PATCH', '/api/v1/groups/fr', { name: 'France' });
    await call(f.keys.owner, 'PATCH', '/api/v1/groups/fr', { parentId: 'us', dryRun: true });
    await call(f.keys.owner, 'PATCH', '/api/v1/groups/fr', { parentId: 'eu' });
    expect(f.delivery).toEqual([]);
    const moved = await call(f.keys.owner, 'PATCH', '/api/v1/groups/fr', { parentId: 'us' });
    expect(moved.status).toBe(200);
    expect(f.delivery).toEqual([
      { op: 'apply', change: { kind: 'groups', groupIds: ['fr', 'paris'] } },
    ]);
  });

  test('fail/a group that owns a policy is not deleted (409 ERR_GROUP_NOT_EMPTY)', async () => {
    await f.admin.createPolicy({
      id: 'pol_p',
      name: 'P',
      groupId: 'paris',
      createdAt: AT,
      updatedAt: AT,
    });
    const res = await call(f.keys.owner, 'DELETE', '/api/v1/groups/paris');
    expect(res).toMatchObject({
      status: 409,
      body: { code: 'ERR_GROUP_NOT_EMPTY', group: 'paris' },
    });
    expect(res.body.message).toMatch(/1 policy/);
    await f.admin.deletePolicy('pol_p');
    expect((await call(f.keys.owner, 'DELETE', '/api/v1/groups/paris')).status).toBe(200);
  });

  test('ok/writes with a report and an audit entry listing suppressed groups (A6); a dry run applies nothing (A7)', async () => {
    await call(f.keys.eu, 'PUT', settings('fr', 'self-service'), {
      currentSetting: 'override',
      values: { erase: true },
    });
    const dry = await call(f.keys.eu, 'PUT', settings('eu', 'self-service'), {
      currentSetting: 'override',
      childPermission: 'inherit-only',
      dryRun: true,
    });
    expect(dry.body).toMatchObject({ applied: false, report: { suppressed: ['fr'] } });
    expect((await call(f.keys.eu, 'GET', settings('fr', 'self-service'))).body.dormant).toBe(false);
    const done = await call(f.keys.eu, 'PUT', settings('eu', 'self-service'), {
      currentSetting: 'override',
      childPermission: 'inherit-only',
    });
    expect(done).toMatchObject({
      status: 200,
      body: {
        applied: true,
        settings: { sourceGroupId: 'eu', childPermission: 'inherit-only' },
        report: { suppressed: ['fr'] },
      },
    });
    const [entry] = (await f.admin.listAudit({ limit: 1 })).items;
    expect(entry).toMatchObject({
      action: 'group.settings.write',
      target: 'eu',
      detail: { page: 'self-service', suppressed: ['fr'] },
    });
    const fr = await call(f.keys.eu, 'GET', settings('fr', 'self-service'));
    expect(fr.body).toMatchObject({
      dormant: true,
      lockedBy: 'eu',
      writable: false,
      stored: { values: { erase: true } },
    });
  });

  test.each([
    [
      'fail/write at a group locked by an ancestor',
      'eu',
      'fr',
      { currentSetting: 'override' },
      409,
      'ERR_LOCKED_BY_ANCESTOR',
      'eu',
    ],
    [
      'fail/read-only administrator',
      'euReader',
      'fr',
      { currentSetting: 'override' },
      403,
      'ERR_API_SCOPE',
      undefined,
    ],
    [
      'fail/read key',
      'ownerRead',
      'fr',
      { currentSetting: 'override' },
      403,
      'ERR_API_SCOPE',
      undefined,
    ],
    [
      'fail/a group above the scope',
      'eu',
      'global',
      { values: { interactiveEnabled: true } },
      403,
      'ERR_ADMIN_SCOPE',
      'global',
    ],
    [
      'fail/a group out of sight',
      'us',
      'fr',
      { currentSetting: 'override' },
      404,
      'ERR_GROUP_NOT_FOUND',
      'fr',
    ],
    [
      'fail/bad values',
      'owner',
      'us',
      { currentSetting: 'override', values: { interactiveEnabled: 1 } },
      422,
      'ERR_SETTINGS_VALUES',
      undefined,
    ],
    [
      'fail/values while inheriting',
      'owner',
      'us',
      { values: { interactiveEnabled: true } },
      409,
      'ERR_NOT_OVERRIDING',
      'global',
    ],
    [
      'fail/the root cannot inherit',
      'owner',
      'global',
      { currentSetting: 'inherit' },
      409,
      'ERR_GROUP_ROOT',
      'global',
    ],
    ['fail/unknown field', 'owner', 'us', { mode: 'override' }, 400, 'ERR_BAD_REQUEST', undefined],
  ])('%s', async (_name, who, at, body, status, code, group) => {
    await call(f.keys.owner, 'PUT', settings('eu', 'profile-options'), {
      currentSetting: 'override',
      childPermission: 'inherit-only',
    });
    const res = await call(
      f.keys[who as keyof Fixture['keys']],
      'PUT',
      settings(at, 'profile-options'),
      body,
    );
    expect([res.status, res.body.code, res.body.group]).toEqual([status, code, group]);
    if (code === 'ERR_SETTINGS_VALUES')
      expect((res.body.issues as unknown[]).length).toBeGreaterThan(0);
  });

  test.each([
    ['fail/unknown page', 'GET', settings('fr', 'colours'), undefined, 404, 'ERR_SETTINGS_PAGE'],
    [
      'fail/unknown page on write',
      'PUT',
      settings('fr', 'colours'),
      { currentSetting: 'override' },
      404,
      'ERR_SETTINGS_PAGE',
    ],
    ['fail/cycle', 'PATCH', '/api/v1/groups/eu', { parentId: 'paris' }, 409, 'ERR_GROUP_CYCLE'],
    [
      'fail/moving the root (owner)',
      'PATCH',
      '/api/v1/groups/global',
      { parentId: 'us' },
      409,
      'ERR_GROUP_ROOT',
    ],
    [
      'fail/moving to a parent out of scope',
      'PATCH',
      '/api/v1/groups/fr',
      { parentId: 'us' },
      404,
      'ERR_GROUP_NOT_FOUND',
    ],
    [
      'fail/creating above the scope',
      'POST',
      '/api/v1/groups',
      { name: 'X', parentId: 'global' },
      403,
      'ERR_ADMIN_SCOPE',
    ],
    [
      'fail/deleting a group with children',
      'DELETE',
      '/api/v1/groups/fr',
      undefined,
      409,
      'ERR_GROUP_NOT_EMPTY',
    ],
    [
      'fail/deleting the scope group',
      'DELETE',
      '/api/v1/groups/eu',
      undefined,
      409,
      'ERR_GROUP_NOT_EMPTY',
    ],
    [
      'fail/empty name',
      'POST',
      '/api/v1/groups',
      { name: '', parentId: 'eu' },
      400,
      'ERR_BAD_REQUEST',
    ],
  ])('%s', async (name, method, path, body, status, code) => {
    const key = name.endsWith('(owner)') ? f.keys.owner : f.keys.eu;
    const res = await call(key, method, path, body);
    expect([res.status, res.body.code]).toEqual([status, code]);
  });

  test('ok/the routes appear in the OpenAPI document', async () => {
    const doc = (await f.app.request('/api/v1/openapi.json')).json() as Promise<{
      paths: Record<string, Record<string, unknown>>;
    }>;
    const { paths } = await doc;
    expect(Object.keys(paths['/api/v1/groups/{id}/settings/{page}'] ?? {})).toEqual(['get', 'put']);
    expect(Object.keys(paths['/api/v1/groups/{id}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ]);
  });
});

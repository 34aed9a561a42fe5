/**
 * `/api/v1/admins` through the admin API (rules A4 and A12 for administrators): what a Sales
 * administrator may see and do, attacker-shaped refusals each with its code (out of sight is 404
 * so existence is not revealed; in sight but not editable is 403), the owner's immutability and
 * the audit of every change.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { adminsFixture, type AdminsFixture } from './admins-fixture.js';

let f: AdminsFixture;

beforeEach(async () => {
  f = await adminsFixture();
});

const ids = (body: Record<string, unknown>): string[] =>
  (body.items as { id: string }[]).map((i) => i.id);

describe('a Sales administrator', () => {
  test('ok/sees the administrators of Global and Sales (A12), not of Engineering', async () => {
    const res = await f.call(f.sales.key, 'GET', '/api/v1/admins');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(
      expect.arrayContaining(['owner', f.root.id, f.sales.id, f.salesReader.id]),
    );
    expect(ids(res.body)).not.toContain(f.eng.id);
    expect((await f.call(f.sales.key, 'GET', '/api/v1/admins/owner')).status).toBe(200);
  });

  test('ok/creates an administrator below Sales, gives it a key, and that key works there', async () => {
    const made = await f.call(f.sales.key, 'POST', '/api/v1/admins', {
      name: 'East lead',
      role: 'full',
      groupId: 'east',
    });
    expect(made).toMatchObject({
      status: 201,
      body: { name: 'East lead', role: 'full', groupId: 'east', disabledAt: null },
    });
    const id = made.body.id as string;
    const key = await f.call(f.sales.key, 'POST', `/api/v1/admins/${id}/api-keys`, {
      name: 'east',
      scope: 'write',
    });
    expect(key).toMatchObject({ status: 201, body: { principalId: id, scope: 'write' } });
    const east = key.body.key as string;
    const seen = await f.call(east, 'GET', '/api/v1/admins');
    expect(ids(seen.body)).toEqual(expect.arrayContaining(['owner', f.sales.id, id]));
    expect(ids(seen.body)).not.toContain(f.eng.id);
    const listed = await f.call(f.sales.key, 'GET', `/api/v1/admins/${id}/api-keys`);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: key.body.id })]);
  });

  test.each([
    ['ok/sees Global (an ancestor owns it)', 'global', 200, undefined],
    ['ok/sees Sales', 'sales', 200, undefined],
    ['ok/sees East below Sales', 'east', 200, undefined],
    ['fail/does not see the sibling Engineering (404, not 403)', 'eng', 404, 'ERR_GROUP_NOT_FOUND'],
  ])('%s through the groups routes', async (_name, id, status, code) => {
    const res = await f.call(f.sales.key, 'GET', `/api/v1/groups/${id}`);
    expect(res.status).toBe(status);
    if (code !== undefined) expect(res.body.code).toBe(code);
  });

  test('ok/revokes a key of an administrator below it; its key then opens nothing', async () => {
    const made = await f.call(f.sales.key, 'POST', `/api/v1/admins/${f.salesReader.id}/api-keys`, {
      name: 'ro',
      scope: 'read',
    });
    const path = `/api/v1/admins/${f.salesReader.id}/api-keys/${made.body.id as string}`;
    expect(await f.call(f.sales.key, 'DELETE', path)).toMatchObject({ status: 200 });
    const again = await f.call(f.sales.key, 'DELETE', path);
    expect(again).toMatchObject({ status: 404, body: { code: 'ERR_NOT_FOUND' } });
    const res = await f.call(made.body.key as string, 'GET', '/api/v1/admins');
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_API_KEY_INVALID' } });
  });

  test.each([
    ["fail/a sibling's administrator's key", 'eng', 404, 'ERR_ADMIN_NOT_FOUND'],
    ["fail/a Global administrator's key", 'root', 403, 'ERR_ADMIN_SCOPE'],
    [
      "fail/another administrator's key named under one in scope",
      'salesReader',
      404,
      'ERR_NOT_FOUND',
    ],
  ] as const)('%s is not revoked', async (_name, who, status, code) => {
    const victim = (await f.admin.listApiKeys()).find((k) => k.principalId === f.root.id);
    const path = `/api/v1/admins/${f[who].id}/api-keys/${victim?.id ?? 'none'}`;
    expect(await f.call(f.sales.key, 'DELETE', path)).toMatchObject({ status, body: { code } });
    expect(
      (await f.admin.listApiKeys()).find((k) => k.id === victim?.id)?.revokedAt,
    ).toBeUndefined();
  });

  test('ok/writes at Sales and below: renames and demotes a peer, moves it down', async () => {
    const res = await f.call(f.sales.key, 'PATCH', `/api/v1/admins/${f.salesReader.id}`, {
      name: 'Renamed',
      groupId: 'east',
    });
    expect(res).toMatchObject({ status: 200, body: { name: 'Renamed', groupId: 'east' } });
  });

  test.each([
    [
      "fail/reading a sibling's administrator",
      'GET',
      'eng',
      '',
      undefined,
      404,
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      "fail/listing a sibling's administrator's keys",
      'GET',
      'eng',
      '/api-keys',
      undefined,
      404,
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      "fail/a key for a sibling's administrator",
      'POST',
      'eng',
      '/api-keys',
      { name: 'k', scope: 'read' },
      404,
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      "fail/renaming a sibling's administrator",
      'PATCH',
      'eng',
      '',
      { name: 'x' },
      404,
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      "fail/disabling a sibling's administrator",
      'DELETE',
      'eng',
      '',
      undefined,
      404,
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      'fail/changing a Global administrator',
      'PATCH',
      'root',
      '',
      { role: 'read-only' },
      403,
      'ERR_ADMIN_SCOPE',
    ],
    ['fail/disabling the owner', 'DELETE', 'owner', '', undefined, 403, 'ERR_ADMIN_SCOPE'],
    [
      "fail/listing a Global administrator's keys",
      'GET',
      'root',
      '/api-keys',
      undefined,
      403,
      'ERR_ADMIN_SCOPE',
    ],
    [
      'fail/promoting itself to Global',
      'PATCH',
      'sales',
      '',
      { groupId: 'global' },
      403,
      'ERR_ADMIN_SCOPE',
    ],
    [
      'fail/moving itself to a sibling',
      'PATCH',
      'sales',
      '',
      { groupId: 'eng' },
      404,
      'ERR_GROUP_NOT_FOUND',
    ],
    [
      'fail/moving a peer to a sibling',
      'PATCH',
      'salesReader',
      '',
      { groupId: 'eng' },
      404,
      'ERR_GROUP_NOT_FOUND',
    ],
    ['fail/demoting itself', 'PATCH', 'sales', '', { role: 'read-only' }, 409, 'ERR_ADMIN_SELF'],
    ['fail/disabling itself', 'DELETE', 'sales', '', undefined, 409, 'ERR_ADMIN_SELF'],
    [
      'fail/a write key for a read-only administrator',
      'POST',
      'salesReader',
      '/api-keys',
      { name: 'k', scope: 'write' },
      422,
      'ERR_ADMIN_READ_ONLY',
    ],
  ] as const)('%s', async (_name, method, who, tail, body, status, code) => {
    const id = who === 'owner' ? 'owner' : f[who].id;
    const res = await f.call(f.sales.key, method, `/api/v1/admins/${id}${tail}`, body);
    expect(res).toMatchObject({ status, body: { code } });
  });

  test.each([
    ['fail/at Global', 'global', 403, 'ERR_ADMIN_SCOPE'],
    ['fail/at the sibling Engineering', 'eng', 404, 'ERR_GROUP_NOT_FOUND'],
    ['fail/at an unknown group', 'nowhere', 404, 'ERR_GROUP_NOT_FOUND'],
  ])('%s: no administrator is created', async (_name, groupId, status, code) => {
    const res = await f.call(f.sales.key, 'POST', '/api/v1/admins', {
      name: 'Up',
      role: 'full',
      groupId,
    });
    expect(res).toMatchObject({ status, body: { code } });
    expect((await f.admin.listPrincipals()).map((p) => p.name)).not.toContain('Up');
  });

  test('fail/with its read key it writes nothing', async () => {
    const res = await f.call(f.sales.readKey, 'POST', '/api/v1/admins', {
      name: 'x',
      role: 'full',
      groupId: 'east',
    });
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_API_SCOPE' } });
  });

  test.each([
    ['fail/the device list', 'GET', '/api/v1/enrollments'],
    ['fail/the audit log', 'GET', '/api/v1/audit'],
    ['fail/a key for itself through the unscoped route', 'POST', '/api/v1/api-keys'],
  ])('%s: devices and keys are not owned by groups yet (403)', async (_name, method, path) => {
    const body = method === 'POST' ? { name: 'k', scope: 'read' } : undefined;
    const res = await f.call(f.sales.key, method, path, body);
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_ADMIN_SCOPE' } });
  });
});

describe('the owner', () => {
  test('ok/creates, changes and disables administrators anywhere, each audited', async () => {
    const made = await f.call(f.owner.key, 'POST', '/api/v1/admins', {
      name: 'Eng 2',
      role: 'read-only',
      groupId: 'eng',
    });
    const id = made.body.id as string;
    const key = await f.call(f.owner.key, 'POST', `/api/v1/admins/${id}/api-keys`, {
      name: 'ro',
      scope: 'read',
    });
    expect(key.status).toBe(201);
    const moved = await f.call(f.owner.key, 'PATCH', `/api/v1/admins/${id}`, {
      role: 'full',
      groupId: 'sales',
    });
    expect(moved.body).toMatchObject({ role: 'full', groupId: 'sales' });
    const gone = await f.call(f.owner.key, 'DELETE', `/api/v1/admins/${id}`);
    expect(gone).toMatchObject({ status: 200, body: { id, disabledAt: expect.any(String) } });
    const revoked = await f.call(f.owner.key, 'GET', `/api/v1/admins/${id}/api-keys`);
    expect(revoked.body.items).toEqual([
      expect.objectContaining({ revokedAt: expect.any(String) }),
    ]);
    const audit = await f.call(f.owner.key, 'GET', '/api/v1/audit');
    const actions = (audit.body.items as { action: string; target: string }[])
      .filter((e) => e.target === id || e.target === key.body.id)
      .map((e) => e.action);
    expect(actions).toEqual(['admin.disable', 'admin.update', 'api-key.create', 'admin.create']);
  });

  test('ok/a key made through POST /api/v1/api-keys belongs to the caller', async () => {
    const mine = await f.call(f.owner.key, 'POST', '/api/v1/api-keys', {
      name: 'o',
      scope: 'read',
    });
    expect(mine.body).toMatchObject({ principalId: 'owner' });
    const root = await f.call(f.root.key, 'POST', '/api/v1/api-keys', { name: 'r', scope: 'read' });
    expect(root.body).toMatchObject({ principalId: f.root.id });
  });

  test.each([
    ['fail/it cannot disable itself', f0('owner'), 'DELETE', undefined, 409, 'ERR_ADMIN_OWNER'],
    [
      'fail/it cannot change itself',
      f0('owner'),
      'PATCH',
      { role: 'read-only' },
      409,
      'ERR_ADMIN_OWNER',
    ],
    [
      'fail/a Global administrator cannot disable it',
      f0('root'),
      'DELETE',
      undefined,
      409,
      'ERR_ADMIN_OWNER',
    ],
  ] as const)('%s', async (_name, who, method, body, status, code) => {
    const res = await f.call(who(), method, '/api/v1/admins/owner', body);
    expect(res).toMatchObject({ status, body: { code } });
    expect((await f.admin.findPrincipal('owner'))?.disabledAt).toBeUndefined();
  });

  test("fail/nobody else creates the owner's keys", async () => {
    const res = await f.call(f.root.key, 'POST', '/api/v1/admins/owner/api-keys', {
      name: 'mine now',
      scope: 'write',
    });
    expect(res).toMatchObject({ status: 409, body: { code: 'ERR_ADMIN_OWNER' } });
  });
});

/** The key of a fixture administrator, read when the test runs (the fixture is made per test). */
function f0(who: 'owner' | 'root'): () => string {
  return () => f[who].key;
}

describe('validation', () => {
  test.each([
    ['fail/an unknown role', { name: 'a', role: 'admin', groupId: 'sales' }, 'role'],
    ['fail/no name', { role: 'full', groupId: 'sales' }, 'name'],
    ['fail/a bad group id', { name: 'a', role: 'full', groupId: '../x' }, 'groupId'],
    ['fail/an extra field', { name: 'a', role: 'full', groupId: 'sales', keys: 1 }, 'keys'],
  ])('%s', async (_name, body, field) => {
    const res = await f.call(f.owner.key, 'POST', '/api/v1/admins', body);
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_BAD_REQUEST', field } });
  });
});

describe('a group deleted between the scope check and the write', () => {
  test('fail/creating an administrator there is 404 ERR_GROUP_NOT_FOUND, not a 500', async () => {
    const doomed = await f.deps.groups.createGroup({ name: 'Doomed', parentId: 'global' });
    const id = doomed.group.id;
    const create = f.admin.createPrincipal.bind(f.admin);
    // The race, made deterministic: the group goes right before the store write.
    f.admin.createPrincipal = async (input) => {
      await f.deps.groups.deleteGroup(id);
      return create(input);
    };
    const res = await f.call(f.owner.key, 'POST', '/api/v1/admins', {
      name: 'Late',
      role: 'full',
      groupId: id,
    });
    expect([res.status, res.body.code, res.body.group]).toEqual([404, 'ERR_GROUP_NOT_FOUND', id]);
  });
});

/**
 * Scope over the whole route table, so a new route cannot forget it: every route without
 * `scoped: true` refuses an administrator scoped below the root (403 `ERR_ADMIN_SCOPE`); a
 * read-only administrator writes nothing even with a write-scoped key; a disabled
 * administrator's keys open nothing. All refused before a handler touches a dependency.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { createApiKey } from '../../../src/admin/api-keys.js';
import { ROUTES } from '../../../src/http/admin/table.js';
import { createAdminApi, type AdminApi } from '../../../src/http/admin/index.js';
import { adminsFixture, fill, type AdminsFixture } from './admins-fixture.js';
import { callApi } from './support.js';

let f: AdminsFixture;

beforeAll(async () => {
  f = await adminsFixture();
});

const keyed = ROUTES.filter((r) => r.auth !== 'public');
const unscoped = keyed
  .filter((r) => r.scoped !== true)
  .map((r) => [r.method, r.path, r.auth] as const);
const writes = keyed.filter((r) => r.auth === 'write').map((r) => [r.method, r.path] as const);
const all = keyed.map((r) => [r.method, r.path] as const);

test('ok/the table has unscoped, scoped and write routes to check', () => {
  expect(unscoped.length).toBeGreaterThan(10);
  expect(keyed.filter((r) => r.scoped === true).length).toBeGreaterThanOrEqual(7);
  expect(writes.length).toBeGreaterThan(5);
});

describe.each(unscoped)('%s %s without scoped: true', (method, path, auth) => {
  test('fail/refuses a Sales writer (403 ERR_ADMIN_SCOPE)', async () => {
    const res = await f.call(f.sales.key, method, fill(path));
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_ADMIN_SCOPE' } });
  });

  test(`fail/refuses a Sales read key (403 ${auth === 'read' ? 'ERR_ADMIN_SCOPE' : 'ERR_API_SCOPE'})`, async () => {
    const res = await f.call(f.sales.readKey, method, fill(path));
    const code = auth === 'read' ? 'ERR_ADMIN_SCOPE' : 'ERR_API_SCOPE';
    expect(res).toMatchObject({ status: 403, body: { code } });
  });
});

describe.each(writes)('%s %s (a write route)', (method, path) => {
  test.each([
    ['at Sales', () => f.salesReader.key],
    ['at Global', () => f.rootReader.key],
  ])('fail/a read-only administrator %s with a write key is refused (403)', async (_at, key) => {
    const res = await f.call(key(), method, fill(path));
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_API_SCOPE' } });
  });
});

describe('a disabled administrator', () => {
  let revoked: string;
  let live: string;
  let racing: AdminApi;

  beforeAll(async () => {
    const p = await f.admin.createPrincipal({ name: 'Leaver', role: 'full', groupId: 'global' });
    const made = await f.call(f.owner.key, 'POST', `/api/v1/admins/${p.id}/api-keys`, {
      name: 'k',
      scope: 'write',
    });
    revoked = made.body.key as string;
    expect((await f.call(f.owner.key, 'DELETE', `/api/v1/admins/${p.id}`)).status).toBe(200);
    // A key still active while its administrator is already disabled (a race between the two
    // writes, or a store that revokes late): the app checks the administrator too.
    const q = await f.admin.createPrincipal({ name: 'Racer', role: 'full', groupId: 'global' });
    live = (await createApiKey(f.admin, 'racing', 'write', q.id)).key;
    const admin = {
      ...f.admin,
      async findPrincipal(id: string) {
        const found = await f.admin.findPrincipal(id);
        return found && id === q.id ? { ...found, disabledAt: new Date(0) } : found;
      },
    };
    racing = createAdminApi({ ...f.deps, admin });
  });

  test.each(all)('fail/%s %s refuses its keys (403 ERR_API_KEY_INVALID)', async (method, path) => {
    for (const [app, key] of [
      [f.app, revoked],
      [racing, live],
    ] as const) {
      const res = await callApi(app, key, method, fill(path));
      expect(res).toMatchObject({ status: 403, body: { code: 'ERR_API_KEY_INVALID' } });
    }
  });
});

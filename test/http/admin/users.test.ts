/**
 * The user routes through the admin API on the memory store (rule M9): create, show, change,
 * delete and list within the caller's scope (404 outside it, 403 for a read-only caller, 409 on
 * a taken username), and CSV import as `text/csv` or JSON `{csv}` with its per-row report,
 * `atomic=true`, 422 for an unreadable file and invitations attempted for `send_invite` rows.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { mintTokenSecret } from '../../../src/admin/enrollment-links.js';
import { createAdminApi, type AdminApi } from '../../../src/http/admin/index.js';
import { createUserLinks } from '../../../src/management/user-links.js';
import { adminsFixture, type AdminsFixture } from './admins-fixture.js';

const AT = new Date('2026-01-01T00:00:00Z');

let f: AdminsFixture;
let app: AdminApi;

/** The fixture's app with a real link service that has no mailer (invitations answer 503). */
beforeEach(async () => {
  f = await adminsFixture();
  const userLinks = createUserLinks({
    store: f.admin,
    groups: f.deps.groups,
    mint: () => mintTokenSecret(),
    publicUrl: () => 'https://mdm.example.com',
    clock: () => new Date(),
  });
  app = createAdminApi({ ...f.deps, userLinks });
  for (const [name, groupId] of [
    ['std', 'sales'],
    ['engonly', 'eng'],
  ] as const)
    await f.admin.createPolicy({ id: `pol_${name}`, name, groupId, createdAt: AT, updatedAt: AT });
});

/** Posts a CSV file as `text/csv`. */
async function importCsv(key: string, csv: string, query = '') {
  const res = await app.request(`/api/v1/users/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const call = (key: string, method: string, path: string, body?: unknown) =>
  f.call(key, method, path, body);

const BOB = { username: 'bob', email: 'bob@example.com', groupId: 'east' };

describe('users API', () => {
  test('ok/create, show, patch (null clears), list, delete; audited', async () => {
    const made = await call(f.sales.key, 'POST', '/api/v1/users', { ...BOB, policy: 'std' });
    expect(made).toMatchObject({
      status: 201,
      body: { username: 'bob', policy: 'std', policyId: 'pol_std' },
    });
    expect((await f.admin.findUser(made.body.id as string))?.policy).toBe('pol_std');
    const id = made.body.id as string;
    expect((await call(f.sales.readKey, 'GET', `/api/v1/users/${id}`)).body).toMatchObject({
      email: 'bob@example.com',
      firstName: null,
    });
    const patched = await call(f.sales.key, 'PATCH', `/api/v1/users/${id}`, {
      policy: null,
      firstName: 'Bob',
      groupId: 'sales',
    });
    expect(patched.body).toMatchObject({
      policy: null,
      policyId: null,
      firstName: 'Bob',
      groupId: 'sales',
    });
    const page = await call(f.sales.key, 'GET', '/api/v1/users?groupId=sales&limit=10');
    expect(page.body).toMatchObject({ items: [{ id }], nextCursor: null });
    expect((await call(f.sales.key, 'DELETE', `/api/v1/users/${id}`)).status).toBe(200);
    expect((await call(f.sales.key, 'GET', `/api/v1/users/${id}`)).status).toBe(404);
    const actions = (await f.admin.listAudit({ limit: 10 })).items.map((e) => e.action);
    expect(actions).toEqual(['user.delete', 'user.update', 'user.create']);
  });

  test.each([
    ['fail/taken username (409)', { ...BOB, username: 'BOB' }, 409, 'ERR_USERNAME_TAKEN'],
    ['fail/invalid email (422)', { ...BOB, username: 'x', email: 'x' }, 422, 'ERR_USER_INVALID'],
    ['fail/unknown field (400)', { ...BOB, username: 'x', phone: '1' }, 400, 'ERR_BAD_REQUEST'],
    [
      'fail/group out of sight (404)',
      { ...BOB, username: 'x', groupId: 'eng' },
      404,
      'ERR_GROUP_NOT_FOUND',
    ],
    [
      'fail/unknown policy (422)',
      { ...BOB, username: 'x', policy: 'gold' },
      422,
      'ERR_POLICY_UNKNOWN',
    ],
    [
      'fail/policy owned out of sight (422)',
      { ...BOB, username: 'x', policy: 'pol_engonly' },
      422,
      'ERR_POLICY_UNKNOWN',
    ],
    [
      'fail/ancestor group (403)',
      { ...BOB, username: 'x', groupId: 'global' },
      403,
      'ERR_ADMIN_SCOPE',
    ],
  ])('%s', async (_name, body, status, code) => {
    await call(f.owner.key, 'POST', '/api/v1/users', BOB);
    expect(await call(f.sales.key, 'POST', '/api/v1/users', body)).toMatchObject({
      status,
      body: { code },
    });
  });

  test('fail/out of scope is 404 for every route; read-only is 403', async () => {
    const eng = await call(f.owner.key, 'POST', '/api/v1/users', { ...BOB, groupId: 'eng' });
    const top = await call(f.owner.key, 'POST', '/api/v1/users', {
      ...BOB,
      username: 't',
      groupId: 'global',
    });
    for (const id of [eng.body.id as string, top.body.id as string]) {
      for (const [method, body] of [
        ['GET'],
        ['PATCH', { email: 'x@example.com' }],
        ['DELETE'],
      ] as const)
        expect(await call(f.sales.key, method, `/api/v1/users/${id}`, body)).toMatchObject({
          status: 404,
          body: { code: 'ERR_USER_NOT_FOUND' },
        });
    }
    expect((await call(f.sales.key, 'GET', '/api/v1/users')).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await call(f.sales.key, 'GET', '/api/v1/users?groupId=global')).status).toBe(403);
    expect((await call(f.sales.key, 'GET', '/api/v1/users?groupId=eng')).status).toBe(404);
    const mine = await call(f.sales.key, 'POST', '/api/v1/users', BOB);
    const res = await call(f.salesReader.key, 'PATCH', `/api/v1/users/${mine.body.id as string}`, {
      email: 'y@example.com',
    });
    expect(res.status).toBe(403);
  });
});

const CSV = [
  'username,email,first_name,og,policy,send_invite',
  'bob,bob@example.com,Bob,east,std,yes',
  'carol,carol@example.com,Carol,,,no',
  'dan,not-mail,Dan,,,',
  'erin,erin@example.com,Erin,eng,,',
].join('\r\n');

describe('POST /api/v1/users/import', () => {
  test('ok/text/csv: a per-row report; a second run is all unchanged', async () => {
    const first = await importCsv(f.sales.key, `\uFEFF${CSV}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ applied: true, created: 2, refused: 2 });
    const rows = first.body.rows as Record<string, unknown>[];
    expect(rows.map((r) => [r.line, r.username, r.outcome])).toEqual([
      [2, 'bob', 'created'],
      [3, 'carol', 'created'],
      [4, 'dan', 'refused'],
      [5, 'erin', 'refused'],
    ]);
    // No mailer: the invitation is attempted and its refusal reported on the row.
    expect(rows[0]?.invitation).toMatch(/ERR_MAIL_DISABLED/);
    expect(rows[1]?.invitation).toBeUndefined();
    expect(await f.admin.findUserByUsername('carol')).toMatchObject({ groupId: 'sales' });
    const second = await importCsv(f.sales.key, CSV);
    expect(second.body).toMatchObject({ created: 0, updated: 0, unchanged: 2, refused: 2 });
    const audit = (await f.admin.listAudit({ limit: 1 })).items[0];
    expect(audit).toMatchObject({ action: 'user.import', detail: { unchanged: 2, refused: 2 } });
  });

  test('ok/JSON {csv}, atomic=true refuses the whole file; groupId places new users', async () => {
    const atomic = await call(f.sales.key, 'POST', '/api/v1/users/import?atomic=true', {
      csv: CSV,
    });
    expect(atomic).toMatchObject({ status: 200, body: { applied: false, created: 0, refused: 4 } });
    expect(await f.admin.findUserByUsername('bob')).toBeUndefined();
    const clean = 'username,email\nfay,fay@example.com\n';
    const placed = await call(
      f.sales.key,
      'POST',
      '/api/v1/users/import?atomic=true&groupId=east',
      {
        csv: clean,
      },
    );
    expect(placed.body).toMatchObject({ applied: true, created: 1 });
    expect(await f.admin.findUserByUsername('fay')).toMatchObject({ groupId: 'east' });
  });

  test.each([
    ['fail/missing email column (422)', 'username\nbob\n', 422, 'ERR_USER_CSV'],
    ['fail/unknown column (422)', 'username,email,phone\n', 422, 'ERR_USER_CSV'],
    ['fail/not CSV (422)', 'username,email\n"bob,b@example.com\n', 422, 'ERR_USER_CSV'],
  ])('%s', async (_name, csv, status, code) => {
    expect(await importCsv(f.sales.key, csv)).toMatchObject({ status, body: { code } });
  });

  test.each([
    ['fail/a read key (403)', () => f.sales.readKey, '', 403],
    ['fail/a read-only administrator (403)', () => f.salesReader.key, '', 403],
    ['fail/a default group out of sight (404)', () => f.sales.key, '?groupId=eng', 404],
    ['fail/bad atomic (400)', () => f.sales.key, '?atomic=yes', 400],
  ])('%s', async (_name, key, query, status) => {
    expect((await importCsv(key(), CSV, query)).status).toBe(status);
    expect(await f.admin.findUserByUsername('bob')).toBeUndefined();
  });
});

/**
 * Validation from the route schemas keeps the admin API's refusals: `ERR_BAD_REQUEST` naming the
 * `field` at fault for every body-taking route, `ERR_BAD_JSON` and 415 for malformed or foreign
 * bodies, strict paths, 405 versus 404, and 403 (never 401) for key problems. Every case is
 * refused before a handler touches a dependency (the fixture's dependencies throw if used).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Hono } from 'hono';
import { adminApiFixture, type AdminApiFixture } from './support.js';

let fixture: AdminApiFixture;

beforeAll(async () => {
  fixture = await adminApiFixture();
});

afterAll(() => {
  fixture.close();
});

async function call(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fixture.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${fixture.writeKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const CMD = '/api/v1/enrollments/E1/commands';
const REENROLL = '/api/v1/enrollments/E1/identity/reenrollment';
const REVOKE = '/api/v1/certificates/0A/revoke';

describe.each([
  // route, body, field
  ['fail/a command that is null', CMD, 'null', 'body'],
  ['fail/a command that is an array', CMD, '[1,2]', 'body'],
  ['fail/a command without RequestType', CMD, '{"Queries":[]}', 'body'],
  ['fail/a command whose RequestType is a number', CMD, '{"RequestType":1}', 'body'],
  ['fail/a command with a bad typed value', CMD, '{"RequestType":"X","A":{"$data":1}}', 'A'],
  [
    'fail/a command with a fractional date',
    CMD,
    '{"RequestType":"X","At":{"$date":"2024-01-01T00:00:00.5Z"}}',
    'At',
  ],
  ['fail/a batch that is null', '/api/v1/commands', 'null', 'body'],
  [
    'fail/a batch without ids',
    '/api/v1/commands',
    '{"command":{"RequestType":"ProfileList"}}',
    'enrollmentIds',
  ],
  [
    'fail/a batch with no ids',
    '/api/v1/commands',
    '{"enrollmentIds":[],"command":{"RequestType":"ProfileList"}}',
    'enrollmentIds',
  ],
  [
    'fail/a batch with a bad id',
    '/api/v1/commands',
    '{"enrollmentIds":["a b"],"command":{"RequestType":"ProfileList"}}',
    'enrollmentIds[]',
  ],
  [
    'fail/a batch whose command has no RequestType',
    '/api/v1/commands',
    '{"enrollmentIds":["E1"],"command":{}}',
    'command',
  ],
  [
    'fail/a batch with both ids and a target',
    '/api/v1/commands',
    '{"enrollmentIds":["E1"],"target":{"kind":"enrolled"},"command":{"RequestType":"X"}}',
    'target',
  ],
  [
    'fail/a batch with a target of an unknown kind',
    '/api/v1/commands',
    '{"target":{"kind":"everyone"},"command":{"RequestType":"X"}}',
    'target.kind',
  ],
  [
    'fail/a batch with a stranger',
    '/api/v1/commands',
    '{"enrollmentIds":["E1"],"command":{"RequestType":"X"},"x":1}',
    'x',
  ],
  ['fail/a window of 10 s', REENROLL, '{"expiresInSeconds":10}', 'expiresInSeconds'],
  ['fail/a window of 1.5 s', REENROLL, '{"expiresInSeconds":61.5}', 'expiresInSeconds'],
  ['fail/a window with a stranger', REENROLL, '{"until":1}', 'until'],
  ['fail/a window that is a string', REENROLL, '"x"', 'body'],
  ['fail/an unknown revocation reason', REVOKE, '{"reason":"lost"}', 'reason'],
  ['fail/a revocation with a stranger', REVOKE, '{"why":"x"}', 'why'],
  ['fail/a link that is null', '/api/v1/enrollment-tokens', 'null', 'body'],
  ['fail/a link with a stranger', '/api/v1/enrollment-tokens', '{"color":"red"}', 'color'],
  [
    'fail/a link of -1 s',
    '/api/v1/enrollment-tokens',
    '{"expiresInSeconds":-1}',
    'expiresInSeconds',
  ],
  [
    'fail/a link of 1e400 s',
    '/api/v1/enrollment-tokens',
    '{"expiresInSeconds":1e400}',
    'expiresInSeconds',
  ],
  [
    'fail/a link with a string singleUse',
    '/api/v1/enrollment-tokens',
    '{"singleUse":"y"}',
    'singleUse',
  ],
  ['fail/a link for an empty user', '/api/v1/enrollment-tokens', '{"user":""}', 'user'],
  [
    'fail/a link for a long user',
    '/api/v1/enrollment-tokens',
    `{"user":"${'u'.repeat(129)}"}`,
    'user',
  ],
  ['fail/a key without a body', '/api/v1/api-keys', undefined, 'body'],
  ['fail/a key without a name', '/api/v1/api-keys', '{"scope":"read"}', 'name'],
  [
    'fail/a key with a long name',
    '/api/v1/api-keys',
    `{"name":"${'n'.repeat(65)}","scope":"read"}`,
    'name',
  ],
  ['fail/a key with an admin scope', '/api/v1/api-keys', '{"name":"x","scope":"admin"}', 'scope'],
  [
    'fail/a key with __proto__',
    '/api/v1/api-keys',
    '{"name":"x","scope":"read","__proto__":{}}',
    '__proto__',
  ],
  ['fail/a push with a body', '/api/v1/enrollments/E1/push', '{"now":true}', 'body'],
  ['fail/a renewal with a body', '/api/v1/enrollments/E1/identity/renew', '{"x":1}', 'body'],
])('%s', (_name, path, body, field) => {
  test('is 400 ERR_BAD_REQUEST naming the field', async () => {
    const res = await call('POST', path, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST', field });
    expect(typeof res.body.message).toBe('string');
  });
});

describe('query and path parameters', () => {
  test.each([
    ['/api/v1/enrollments?limit=0', 'limit'],
    ['/api/v1/enrollments?limit=1001', 'limit'],
    ['/api/v1/enrollments?enrolled=maybe', 'enrolled'],
    ['/api/v1/enrollments?sort=id', 'sort'],
    [`/api/v1/audit?cursor=${'x'.repeat(513)}`, 'cursor'],
    ['/api/v1/commands/u?encoding=xml', 'encoding'],
    ['/api/v1/certificates?enrollmentId=a%20b', 'enrollmentId'],
    ['/api/v1/enrollments/a%20b', 'id'],
    ['/api/v1/certificates/xyz', 'serial'],
  ])('fail/GET %s names %s', async (path, field) => {
    const res = await call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST', field });
  });
});

describe('bodies, methods, paths and keys', () => {
  test.each([
    ['fail/malformed JSON', 'POST', '/api/v1/api-keys', '{"name":', {}, 400, 'ERR_BAD_JSON'],
    [
      'fail/text/plain',
      'POST',
      '/api/v1/api-keys',
      '{}',
      { 'content-type': 'text/plain' },
      415,
      'ERR_UNSUPPORTED_MEDIA',
    ],
    [
      'fail/a body past 1 MiB',
      'POST',
      '/api/v1/api-keys',
      ' '.repeat(1024 * 1024 + 1),
      {},
      413,
      'ERR_BODY_TOO_LARGE',
    ],
    ['fail/a DELETE with a body', 'DELETE', '/api/v1/api-keys/x', '{}', {}, 400, 'ERR_BAD_REQUEST'],
    ['fail/PUT on a route', 'PUT', '/api/v1/enrollments', undefined, {}, 405, 'ERR_METHOD'],
    ['fail/an unknown route', 'GET', '/api/v1/nothing', undefined, {}, 404, 'ERR_NOT_FOUND'],
    ['fail/a double slash', 'GET', '/api/v1//enrollments', undefined, {}, 404, 'ERR_NOT_FOUND'],
    [
      'fail/an encoded static segment',
      'GET',
      '/api/%76%31/enrollments',
      undefined,
      {},
      404,
      'ERR_NOT_FOUND',
    ],
    ['fail/a semicolon', 'GET', '/api/v1/enrollments;x', undefined, {}, 404, 'ERR_NOT_FOUND'],
    [
      'fail/no key',
      'GET',
      '/api/v1/enrollments',
      undefined,
      { authorization: '' },
      403,
      'ERR_API_KEY_MISSING',
    ],
    [
      'fail/a wrong key',
      'GET',
      '/api/v1/enrollments',
      undefined,
      { authorization: 'Bearer orch_x' },
      403,
      'ERR_API_KEY_INVALID',
    ],
  ])('%s', async (_name, method, path, body, headers, status, code) => {
    const res = await call(method, path, body, headers);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code });
  });

  test('fail/a read key cannot write', async () => {
    const res = await call('POST', '/api/v1/api-keys', '{"name":"x","scope":"read"}', {
      authorization: `Bearer ${fixture.readKey}`,
    });
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_API_SCOPE' } });
  });

  test('ok/a valid body reaches the handler and is audited', async () => {
    const res = await call('POST', '/api/v1/api-keys', '{"name":"ci","scope":"read"}');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'ci', scope: 'read', revokedAt: null });
    const audit = await call('GET', '/api/v1/audit?limit=1');
    expect(audit.body.items).toEqual([
      expect.objectContaining({ action: 'api-key.create', target: res.body.id }),
    ]);
  });
});

describe('embedding', () => {
  test('ok/mounted in another Hono app under a prefix, with the same strict paths', async () => {
    const host = new Hono();
    host.route('/admin', fixture.app);
    const auth = { authorization: `Bearer ${fixture.writeKey}` };
    const ok = await host.request('/admin/api/v1/api-keys', { headers: auth });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    expect((await host.request('/admin/api/v1//api-keys', { headers: auth })).status).toBe(404);
    expect((await host.request('/admin/api/v1/api-keys', { method: 'PUT' })).status).toBe(405);
  });
});

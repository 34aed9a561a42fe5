/**
 * Every admin route declares its authentication, and the running daemon enforces exactly that:
 * no key, an empty key, a wrong key and a revoked key are refused with 403 JSON on every
 * non-public route; a read key cannot write; path variants never reach a handler unauthenticated.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ROUTES } from '../../src/http/admin/index.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let readKey: string;
let revokedKey: string;

beforeAll(async () => {
  h = await startHarness();
  readKey = (await h.api('POST', '/api/v1/api-keys', { name: 'reader', scope: 'read' })).body.key;
  const revoked = (await h.api('POST', '/api/v1/api-keys', { name: 'gone', scope: 'write' })).body;
  revokedKey = revoked.key;
  expect((await h.api('DELETE', `/api/v1/api-keys/${revoked.id}`)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await h.close();
});

const concrete = (path: string): string => path.replace(/\{\w+\}/g, 'probe-id');
const PUBLIC = ['GET /api/v1/openapi.json'];

describe('route table', () => {
  test('ok/every route declares public, read or write, and only the allow-list is public', () => {
    expect(ROUTES.length).toBeGreaterThanOrEqual(14);
    for (const r of ROUTES) expect(['public', 'read', 'write']).toContain(r.auth);
    expect(ROUTES.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.path}`)).toEqual(
      PUBLIC,
    );
    for (const r of ROUTES) if (r.method !== 'GET') expect(r.auth).toBe('write');
  });
});

const guarded = ROUTES.filter((r) => r.auth !== 'public').map(
  (r) => [`${r.method} ${r.path}`, r] as const,
);

describe.each(guarded)('%s', (_name, route) => {
  const path = concrete(route.path);
  const body = route.method === 'POST' ? Buffer.from('{}') : undefined;
  const type = body ? { 'content-type': 'application/json' } : {};

  test.each([
    ['no Authorization header', {}, 'ERR_API_KEY_MISSING'],
    ['an empty bearer', { authorization: 'Bearer ' }, 'ERR_API_KEY_MISSING'],
    ['a bare scheme', { authorization: 'Bearer' }, 'ERR_API_KEY_MISSING'],
    [
      'a wrong key',
      { authorization: 'Bearer orch_wrongwrongwrongwrongwrongwrongwrong' },
      'ERR_API_KEY_INVALID',
    ],
    ['Basic auth', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 'ERR_API_KEY_MISSING'],
  ])('fail/%s is refused with 403', async (_what, headers: Record<string, string>, code) => {
    const res = await h.raw(route.method, path, { ...headers, ...type }, body);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code });
  });

  test('fail/a revoked key is refused', async () => {
    const res = await h.raw(
      route.method,
      path,
      { authorization: `Bearer ${revokedKey}`, ...type },
      body,
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_API_KEY_INVALID' });
  });

  test(`${route.auth === 'write' ? 'fail' : 'ok'}/a read key ${route.auth === 'write' ? 'cannot write' : 'may read'}`, async () => {
    const res = await h.raw(
      route.method,
      path,
      { authorization: `Bearer ${readKey}`, ...type },
      body,
    );
    if (route.auth === 'write') {
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_API_SCOPE' });
    } else expect(res.status).not.toBe(403);
  });
});

describe('path variants', () => {
  const variants = (p: string): string[] => [
    `/${p}`,
    p.replace('/api/v1/', '/api/v1//'),
    `${p}/`,
    p.replace('/api/v1/', '/api/v1/./'),
    p.replace('/api/v1/', '/api/v1/x/../'),
    p.replace('/v1/', '/%76%31/'),
    `${p};.json`,
    `${p}%2f`,
    p.toUpperCase(),
    `${p}%00`,
    `${p}.`,
  ];
  const paths = [...new Set(guarded.map(([, r]) => concrete(r.path)))];

  test.each(paths)('fail/variants of %s never succeed without a key', async (p) => {
    for (const v of variants(p)) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await h.raw(method, v);
        expect([403, 404, 405]).toContain(res.status);
        expect(res.status).not.toBe(401);
        expect(JSON.parse(res.body)).toHaveProperty('code');
      }
    }
  });

  test('ok/the public route answers without a key', async () => {
    const res = await h.api('GET', '/api/v1/openapi.json', undefined, null);
    expect(res.status).toBe(200);
  });
});

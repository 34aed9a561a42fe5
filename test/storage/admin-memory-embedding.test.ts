/**
 * An embedder runs the admin API without SQLite: the memory admin and CA stores from the public
 * entry behind `createAdminApi`, with every other dependency a trap that throws when touched.
 */
import { expect, test } from '@jest/globals';
import { createAdminApi, createApiKey } from '../../src/http/admin/index.js';
import { createMemoryAdminStorage, createMemoryCaStorage } from '../../src/index.js';
import { trappedDeps } from '../http/admin/support.js';

test('ok/keys, the audit log and the CA listing work on the memory stores', async () => {
  let tick = Date.UTC(2026, 0, 1);
  const admin = createMemoryAdminStorage({ clock: () => new Date((tick += 1000)) });
  const ca = createMemoryCaStorage();
  const deps = trappedDeps(admin, { certificates: ca.certificates, pushEnabled: false });

  const app = createAdminApi(deps);
  const headers = { authorization: `Bearer ${(await createApiKey(admin, 'root', 'write')).key}` };
  const created = await app.request('/api/v1/api-keys', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ci', scope: 'read' }),
  });
  expect(created.status).toBe(201);
  const listed = (await (await app.request('/api/v1/api-keys', { headers })).json()) as {
    items: { name: string }[];
  };
  expect(listed.items.map((k) => k.name)).toEqual(['root', 'ci']);
  const audit = (await (await app.request('/api/v1/audit', { headers })).json()) as {
    items: { action: string }[];
  };
  expect(audit.items.map((e) => e.action)).toEqual(['api-key.create']);
  const certificates = await app.request('/api/v1/certificates', { headers });
  expect(await certificates.json()).toEqual({ items: [], nextCursor: null });
  const wrong = await app.request('/api/v1/api-keys', { headers: { authorization: 'Bearer x' } });
  expect(wrong.status).toBe(403);
  admin.close();
  ca.close();
});

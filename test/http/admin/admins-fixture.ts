/**
 * The admin API over the memory admin store with a small organization: Global > Sales > East and
 * Global > Engineering, an administrator of each kind and a key for each. Dependencies other than
 * the admin store throw when touched, so a refusal provably happens before any handler works.
 */
import { createAdminApi, type AdminApi, type AdminApiDeps } from '../../../src/http/admin/index.js';
import { createApiKey } from '../../../src/admin/api-keys.js';
import { createMemoryAdminStorage } from '../../../src/storage/memory/index.js';
import type { AdminRole, AdminStorage, ApiKeyScope } from '../../../src/storage/ports.js';
import { callApi, trappedDeps } from './support.js';

const AT = new Date('2026-01-01T00:00:00Z');

/** An administrator of the fixture and a key of its. */
export interface Actor {
  id: string;
  key: string;
}

/** The app, its store and the fixture's administrators. */
export interface AdminsFixture {
  app: AdminApi;
  /** What the app runs on, to build another app over the same store. */
  deps: AdminApiDeps;
  admin: AdminStorage;
  /** The built-in owner, with a write key. */
  owner: Actor;
  /** A full administrator scoped at Global. */
  root: Actor;
  /** A full administrator scoped at Sales (write key) and a read key of the same one. */
  sales: Actor & { readKey: string };
  /** A full administrator scoped at Engineering. */
  eng: Actor;
  /** A read-only administrator scoped at Sales holding a write-scoped key (made behind the API). */
  salesReader: Actor;
  /** A read-only administrator scoped at Global holding a write-scoped key. */
  rootReader: Actor;
  /** Calls the API with `key`; JSON body when given. */
  call(
    key: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function actor(
  admin: AdminStorage,
  name: string,
  role: AdminRole,
  groupId: string,
  scope: ApiKeyScope = 'write',
): Promise<Actor> {
  const p = await admin.createPrincipal({ name, role, groupId });
  return { id: p.id, key: (await createApiKey(admin, `${name} key`, scope, p.id)).key };
}

/** Creates the fixture; each call gets its own store. */
export async function adminsFixture(): Promise<AdminsFixture> {
  const admin = createMemoryAdminStorage();
  const { revision } = await admin.loadManagement();
  await admin.applyManagement(
    {
      putGroups: [
        { id: 'sales', name: 'Sales', parentId: 'global', createdAt: AT },
        { id: 'east', name: 'East', parentId: 'sales', createdAt: AT },
        { id: 'eng', name: 'Engineering', parentId: 'global', createdAt: AT },
      ],
    },
    revision,
  );
  const deps = trappedDeps(admin);
  const app = createAdminApi(deps);
  const sales = await actor(admin, 'Sales', 'full', 'sales');
  return {
    app,
    deps,
    admin,
    owner: { id: 'owner', key: (await createApiKey(admin, 'owner key', 'write')).key },
    root: await actor(admin, 'Root', 'full', 'global'),
    sales: {
      ...sales,
      readKey: (await createApiKey(admin, 'sales read', 'read', sales.id)).key,
    },
    eng: await actor(admin, 'Engineering', 'full', 'eng'),
    salesReader: await actor(admin, 'Sales reader', 'read-only', 'sales'),
    rootReader: await actor(admin, 'Root reader', 'read-only', 'global'),
    call: (key, method, path, body) => callApi(app, key, method, path, body),
  };
}

/** `template` with each `{param}` filled with a value every parameter grammar accepts. */
export function fill(template: string): string {
  return template.replace(/\{\w+\}/g, 'A1');
}

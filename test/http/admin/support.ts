/**
 * The admin API app on a real SQLite admin store in memory, with every other dependency a trap
 * that throws when touched: what the validation tests use to show a refusal happens before any
 * handler runs.
 */
import {
  createAdminApi,
  createApiKey,
  type AdminApi,
  type AdminApiDeps,
} from '../../../src/http/admin/index.js';
import { createGroupService } from '../../../src/management/groups-service.js';
import { createUserService } from '../../../src/management/users.js';
import { openSqliteAdminStore } from '../../../src/storage/sqlite/index.js';

/** A dependency no test should reach. */
export function trap(name: string): never {
  return new Proxy(
    {},
    {
      get(_target, key) {
        throw new Error(`${name}.${String(key)} was used`);
      },
    },
  ) as never;
}

/**
 * Admin API dependencies over `admin`: the given `parts`, a group service and a user service on
 * `admin` unless given, and a trap for every other part.
 */
export function trappedDeps(
  admin: AdminApiDeps['admin'],
  parts: Partial<AdminApiDeps> = {},
): AdminApiDeps {
  const groups = parts.groups ?? createGroupService({ store: admin, principals: admin });
  return {
    admin,
    core: trap('core'),
    storage: trap('storage'),
    enrollment: trap('enrollment'),
    identity: trap('identity'),
    ca: trap('ca'),
    certificates: trap('certificates'),
    groups,
    users: createUserService({ store: admin, groups }),
    profiles: trap('profiles'),
    userLinks: trap('userLinks'),
    policies: trap('policies'),
    delivery: trap('delivery'),
    pushEnabled: true,
    ...parts,
  };
}

/** Calls `app` with `key`, a JSON body when given; the status and the JSON answer. */
export async function callApi(
  app: AdminApi,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The app and keys of each scope. */
export interface AdminApiFixture {
  app: AdminApi;
  writeKey: string;
  readKey: string;
  close(): void;
}

/** Creates the app over an in-memory admin store and trap dependencies. */
export async function adminApiFixture(): Promise<AdminApiFixture> {
  const admin = openSqliteAdminStore({ path: ':memory:' });
  return {
    app: createAdminApi(trappedDeps(admin)),
    writeKey: (await createApiKey(admin, 'writer', 'write')).key,
    readKey: (await createApiKey(admin, 'reader', 'read')).key,
    close: () => {
      admin.close();
    },
  };
}

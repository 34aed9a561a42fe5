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
import { openSqliteAdminStore } from '../../../src/storage/sqlite/index.js';

/** A dependency no test should reach. */
function trap(name: string): never {
  return new Proxy(
    {},
    {
      get(_target, key) {
        throw new Error(`${name}.${String(key)} was used`);
      },
    },
  ) as never;
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
  const deps: AdminApiDeps = {
    admin,
    core: trap('core'),
    storage: trap('storage'),
    enrollment: trap('enrollment'),
    identity: trap('identity'),
    ca: trap('ca'),
    certificates: trap('certificates'),
    groups: createGroupService({ store: admin, principals: admin }),
    profiles: trap('profiles'),
    pushEnabled: true,
  };
  return {
    app: createAdminApi(deps),
    writeKey: (await createApiKey(admin, 'writer', 'write')).key,
    readKey: (await createApiKey(admin, 'reader', 'read')).key,
    close: () => {
      admin.close();
    },
  };
}

/**
 * The daemon's admin state under its old names: the ports live in `storage/ports.ts` (API keys,
 * audit log, enrollment links, settings) and their SQLite tables in `storage/sqlite/admin.ts`,
 * under the one schema of the database file. Kept so the daemon's modules need not move at once.
 */
import type { AdminStorage } from '../storage/ports.js';
import { openSqliteAdminStore } from '../storage/sqlite/index.js';

export type { AdminPage } from './admin-store-util.js';
export type { ApiKeyRecord, ApiKeyScope, AuditEntry } from '../storage/ports.js';

/** The daemon's admin state: every administrative port, `transaction` and `close`. */
export type AdminStore = AdminStorage;

/**
 * Opens (creating and migrating as needed) the admin tables in the SQLite file at `path`, on a
 * connection of their own. Throws StorageError when the file cannot be opened or migrated.
 */
export function openAdminStore(path: string, clock: () => Date = () => new Date()): AdminStore {
  return openSqliteAdminStore({ path, clock });
}

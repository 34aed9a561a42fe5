/**
 * The SQLite storage adapter (`orchard-mdm/sqlite`), on better-sqlite3: one database file in WAL
 * mode with one versioned schema for every store (MDM storage, certificate authority, SCEP
 * challenges, admin tables), prepared statements, indexed next-command lookup.
 * `openSqliteDatabase` opens every store on one connection; `createSqliteStorage`,
 * `openSqliteCaStorage` and `openSqliteAdminStore` open one kind on a connection of its own.
 */
import { openSqliteConnection } from './connection.js';
import {
  checkStorageOptions,
  sqliteMdmStorage,
  type SqliteStorage,
  type SqliteStorageOptions,
} from './mdm.js';

export { openSqliteAcmeStore, type SqliteAcmeStore, type SqliteAcmeStoreOptions } from './acme.js';
export {
  openSqliteAcmeClientIdStore,
  type SqliteAcmeClientIdStoreOptions,
} from './acme-identifiers.js';
export {
  DEFAULT_LEASE_MS,
  openSqliteCoordination,
  type SqliteCoordinationOptions,
} from './coordination.js';
export { MIGRATIONS } from './migrations.js';
export type { Migration } from './migrations.js';
export type { ResealResult } from './sealed-secrets.js';
export { openSealedStorage, rotateSecrets } from './sealed-open.js';
export type { RotationResult } from './sealed-open.js';
export type { SqliteStorage, SqliteStorageOptions } from './mdm.js';
export {
  openSqliteAdminStore,
  openSqliteCaStorage,
  openSqliteDatabase,
  type SqliteAdminStoreOptions,
  type SqliteCaStorage,
  type SqliteCaStorageOptions,
  type SqliteDatabase,
} from './database.js';
export type {
  AdminStorage,
  ApiKeyRecord,
  ApiKeyScope,
  ApiKeyStore,
  AuditEntry,
  AuditLog,
  CertificateStore,
  ChallengeStore,
  Coordination,
  EnrollmentLinkStore,
  EnrollmentTokenRecord,
  NewEnrollmentToken,
  SettingsStore,
} from '../ports.js';

/**
 * Opens (creating and migrating as needed) an `MdmStorage` in a SQLite file, on a
 * connection of its own. Throws StorageError when the file cannot be opened or migrated or its
 * schema is newer than this code, TypeError on an empty path. After `close()` every call rejects
 * with StorageError.
 */
export function createSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  checkStorageOptions(options);
  const { ctx, release } = openSqliteConnection(options).part();
  return sqliteMdmStorage(ctx, release, options);
}
export { openSqliteTableSource, type SqliteTableSource } from './export.js';
export type { TableCopyReport, TableSource } from '../copy-format.js';

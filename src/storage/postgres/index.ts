/**
 * The PostgreSQL storage adapter (`orchard-mdm/postgres`), on `pg` (chosen by measurement: less
 * client CPU per query than `postgres`; see the README's design notes): one database with one
 * versioned schema for every store, named prepared statements, a pool that reconnects by itself,
 * `FOR UPDATE SKIP LOCKED` where daemons race. Several daemons may share one database.
 */
export {
  createPostgresStorage,
  openPostgresAdminStore,
  openPostgresCaStorage,
  openPostgresDatabase,
  type PostgresCaStorage,
  type PostgresDatabase,
  type PostgresPartOptions,
} from './database.js';
export type { PostgresStorage, PostgresStorageOptions } from './mdm.js';
export type { PgConnection, PgPoolOptions } from './connection.js';
export { PG_MIGRATIONS, type MigrationOutcome, type PgMigration } from './migrations.js';
export {
  openSealedPostgres,
  rotatePostgresSecrets,
  type PostgresRotationResult,
} from './sealed-open.js';
export { sharedFiles, type SharedFile, type SharedFileStore } from './shared-files.js';
export { pgCoordination, type PgCoordination, type PgCoordinationOptions } from './coordination.js';
export { copyIntoPostgres, migratePostgres, type CopyIntoPostgresOptions } from './copy.js';
export type { TableCopyReport, TableSource } from '../copy-format.js';

/**
 * Opening Orchard's SQLite database: every store on one connection (`openSqliteDatabase`, what
 * the daemon does), or one kind of store on a connection of its own. Whichever opens the file
 * first migrates it, to the one schema every store shares.
 */
import type {
  AcmeClientIdStore,
  AcmeStore,
  AdminStorage,
  CertificateStore,
  ChallengeStore,
} from '../ports.js';
import { sqliteAcmeStore } from './acme.js';
import { sqliteAcmeClientIdStore } from './acme-identifiers.js';
import { sqliteAdminStorage } from './admin.js';
import { sqliteCertificateStore, sqliteChallengeStore } from './ca.js';
import { openSqliteConnection, type SqliteConnection } from './connection.js';
import {
  checkStorageOptions,
  sqliteMdmStorage,
  type SqliteStorage,
  type SqliteStorageOptions,
} from './mdm.js';

/** Options of {@link openSqliteCaStorage}. */
export interface SqliteCaStorageOptions {
  /** Database file (created when absent) or `:memory:`. */
  path: string;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
}

/** The stores {@link openSqliteCaStorage} returns, and a `close`. */
export interface SqliteCaStorage {
  certificates: CertificateStore;
  challenges: ChallengeStore;
  close(): void;
}

/** Options of {@link openSqliteAdminStore}. */
export interface SqliteAdminStoreOptions {
  /** Database file (created when absent) or `:memory:`. */
  path: string;
  /** Stamps created, revoked and audit times; default `() => new Date()`. */
  clock?: () => Date;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
}

/** Every store of the database on one connection; `close` closes them all. */
export interface SqliteDatabase {
  /** The MDM storage (check-ins, commands, bindings, outbox, sealed secrets). */
  storage: SqliteStorage;
  /** The certificate authority's records and the one-time SCEP challenges. */
  ca: SqliteCaStorage;
  /** API keys, audit log, enrollment links and settings. */
  admin: AdminStorage;
  /** The ACME server's nonces, accounts, orders, authorizations and challenges. */
  acme: AcmeStore & { close(): void };
  /** The one-time ACME ClientIdentifiers and the attested device of each ACME certificate. */
  acmeIdentifiers: AcmeClientIdStore & { close(): void };
  /** Closes every store, then the connection (each store's own `close` also works). */
  close(): Promise<void>;
}

function caPart(connection: SqliteConnection): SqliteCaStorage {
  const { ctx, release } = connection.part();
  return {
    certificates: sqliteCertificateStore(ctx),
    challenges: sqliteChallengeStore(ctx),
    close: release,
  };
}

function adminPart(connection: SqliteConnection): AdminStorage {
  const { ctx, release } = connection.part();
  return sqliteAdminStorage(ctx, release);
}

/**
 * Opens (creating and migrating as needed) every store of the SQLite database on one
 * connection, all on `options.clock`. Throws as `createSqliteStorage` does.
 */
export function openSqliteDatabase(options: SqliteStorageOptions): SqliteDatabase {
  checkStorageOptions(options);
  const connection = openSqliteConnection(options);
  const { ctx, release } = connection.part();
  const storage = sqliteMdmStorage(ctx, release, options);
  const ca = caPart(connection);
  const admin = adminPart(connection);
  const acmePart = connection.part();
  const acme = { ...sqliteAcmeStore(acmePart.ctx), close: acmePart.release };
  const idsPart = connection.part();
  const acmeIdentifiers = { ...sqliteAcmeClientIdStore(idsPart.ctx), close: idsPart.release };
  return {
    storage,
    ca,
    admin,
    acme,
    acmeIdentifiers,
    async close() {
      ca.close();
      admin.close();
      acme.close();
      acmeIdentifiers.close();
      await storage.close();
    },
  };
}

/**
 * Opens (creating and migrating as needed) the CA and challenge stores of a SQLite file on a
 * connection of their own, WAL mode. They read no sealed value, so a database that seals device
 * secrets opens without its keyring. Throws `StorageError` when the file cannot be opened or
 * migrated. Import it from `orchard-mdm/sqlite`.
 */
export function openSqliteCaStorage(options: SqliteCaStorageOptions): SqliteCaStorage {
  return caPart(openSqliteConnection({ ...options, checkSecrets: false, fileMode: null }));
}

/**
 * Opens (creating and migrating as needed) the admin stores of a SQLite file on a connection of
 * their own (the offline CLI's way in while the daemon runs). Throws StorageError when the file
 * cannot be opened or migrated.
 */
export function openSqliteAdminStore(options: SqliteAdminStoreOptions): AdminStorage {
  return adminPart(openSqliteConnection({ ...options, checkSecrets: false, fileMode: null }));
}

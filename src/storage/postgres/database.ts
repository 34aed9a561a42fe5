/**
 * Opening Orchard's PostgreSQL database: every store on one pool (`openPostgresDatabase`, what
 * the daemon does), or one kind of store on a pool of its own. Whichever opens the database
 * first migrates it (under an advisory lock), to the one schema every store shares.
 */
import type {
  AcmeClientIdStore,
  AcmeStore,
  AdminStorage,
  CertificateStore,
  ChallengeStore,
} from '../ports.js';
import { pgAcmeStore } from './acme.js';
import { pgAcmeClientIdStore } from './acme-identifiers.js';
import { pgAdminStorage } from './admin.js';
import { pgCertificateStore, pgChallengeStore } from './ca.js';
import { openPostgresConnection, type PgConnection, type PgPoolOptions } from './connection.js';
import {
  checkPostgresOptions,
  pgMdmStorage,
  type PostgresStorage,
  type PostgresStorageOptions,
} from './mdm.js';

/** Options of {@link openPostgresCaStorage}, {@link openPostgresAdminStore} and {@link openPostgresAcmeStore}. */
export interface PostgresPartOptions {
  /** `postgres://user@host:port/database`. */
  url: string;
  /** Stamps the rows these stores write; default `() => new Date()`. */
  clock?: () => Date;
  /** Pool settings. */
  pool?: PgPoolOptions;
}

/** The CA stores and a `close`. */
export interface PostgresCaStorage {
  certificates: CertificateStore;
  challenges: ChallengeStore;
  /** Releases the stores (ends the pool when nothing else uses it). */
  close(): Promise<void>;
}

/** Every store of the database on one pool; `close` closes them all. */
export interface PostgresDatabase {
  /** The MDM storage (check-ins, commands, bindings, outbox, sealed secrets). */
  storage: PostgresStorage;
  /** The certificate authority's records and the one-time SCEP challenges. */
  ca: PostgresCaStorage;
  /** API keys, audit log, enrollment links, settings, management, web sessions. */
  admin: AdminStorage;
  /** The ACME server's nonces, accounts, orders, authorizations and challenges. */
  acme: AcmeStore & { close(): Promise<void> };
  /** The one-time ACME ClientIdentifiers and the attested device of each ACME certificate. */
  acmeIdentifiers: AcmeClientIdStore & { close(): Promise<void> };
  /** The pool's connection (coordination: LISTEN/NOTIFY, advisory locks). */
  connection: PgConnection;
  /** Closes every store, then the pool. */
  close(): Promise<void>;
}

function caPart(connection: PgConnection): PostgresCaStorage {
  const { ctx, release } = connection.part();
  return {
    certificates: pgCertificateStore(ctx),
    challenges: pgChallengeStore(ctx),
    close: release,
  };
}

function adminPart(connection: PgConnection): {
  admin: AdminStorage;
  release: () => Promise<void>;
} {
  const { ctx, release } = connection.part();
  return {
    admin: pgAdminStorage(ctx, () => {
      void release();
    }),
    release,
  };
}

/**
 * Opens (creating tables and migrating as needed) every store of the PostgreSQL database on one
 * pool, all on `options.clock`. Rejects with StorageError when the database cannot be reached or
 * migrated, SecretsError for a keyring that does not fit, TypeError for bad options.
 */
export async function openPostgresDatabase(
  options: PostgresStorageOptions,
): Promise<PostgresDatabase> {
  checkPostgresOptions(options);
  const connection = await openPostgresConnection(options);
  const { ctx, release } = connection.part();
  const storage = pgMdmStorage(ctx, release, options);
  const ca = caPart(connection);
  const admin = adminPart(connection);
  const acmePart = connection.part();
  const acme = { ...pgAcmeStore(acmePart.ctx), close: acmePart.release };
  const idsPart = connection.part();
  const acmeIdentifiers = { ...pgAcmeClientIdStore(idsPart.ctx), close: idsPart.release };
  return {
    storage,
    ca,
    admin: admin.admin,
    acme,
    acmeIdentifiers,
    connection,
    async close() {
      await ca.close();
      await admin.release();
      await acme.close();
      await acmeIdentifiers.close();
      await storage.close();
    },
  };
}

/** Opens the MDM storage alone on a pool of its own. Rejects as {@link openPostgresDatabase}. */
export async function createPostgresStorage(
  options: PostgresStorageOptions,
): Promise<PostgresStorage> {
  checkPostgresOptions(options);
  const connection = await openPostgresConnection(options);
  const { ctx, release } = connection.part();
  return pgMdmStorage(ctx, release, options);
}

/** Opens the CA and challenge stores on a pool of their own (they read no sealed value). */
export async function openPostgresCaStorage(
  options: PostgresPartOptions,
): Promise<PostgresCaStorage> {
  return caPart(await openPostgresConnection({ ...options, checkSecrets: false }));
}

/**
 * Opens the admin stores on a pool of their own (the offline CLI's way in while daemons run).
 * `close()` returns at once; the pool ends in the background.
 */
export async function openPostgresAdminStore(options: PostgresPartOptions): Promise<AdminStorage> {
  return adminPart(await openPostgresConnection({ ...options, checkSecrets: false })).admin;
}

/** Opens the ACME store on a pool of its own (it reads no sealed value). */
export async function openPostgresAcmeStore(
  options: PostgresPartOptions,
): Promise<AcmeStore & { close(): Promise<void> }> {
  const { ctx, release } = (
    await openPostgresConnection({ ...options, checkSecrets: false })
  ).part();
  return { ...pgAcmeStore(ctx), close: release };
}

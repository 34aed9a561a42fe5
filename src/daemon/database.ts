/**
 * The daemon's database, SQLite or PostgreSQL (`--database`), opened with its secrets key file,
 * and the key material every daemon on a shared PostgreSQL database must have alike: the CA and
 * the profile-signing identity travel through the database, sealed with the shared secrets key,
 * and are written into each daemon's data directory at start.
 */
import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import {
  ConfigError,
  secretsKeyLocation,
  type AdminStorage,
  type CertificateStore,
  type ChallengeStore,
  type Logger,
  type MdmStorage,
  type RetentionOptions,
  type SecretsKeyFile,
} from '../index.js';
import type { ClientIdentifierDeps, OrchardAcmeDeps } from '../server/index.js';
// PostgreSQL's modules (and its driver) load only when the database is PostgreSQL.
import type { PostgresDatabase, SharedFile } from '../storage/postgres/index.js';
import { openSealedStorage, type SqliteStorage } from '../storage/sqlite/index.js';
import type { DaemonConfig } from './config.js';
import { describeDatabase } from './config-values.js';

/** The stores of the daemon's database, whichever engine holds them. */
export interface DaemonDatabase {
  /** `sqlite` or `postgres`. */
  kind: DaemonConfig['database']['kind'];
  storage: MdmStorage;
  ca: { certificates: CertificateStore; challenges: ChallengeStore };
  admin: AdminStorage;
  /** The ACME server's nonces, accounts and orders (shared by every daemon on PostgreSQL). */
  acme: OrchardAcmeDeps['store'];
  /** The one-time ACME ClientIdentifiers enrollment profiles carry, and attested devices. */
  acmeIdentifiers: ClientIdentifierDeps['store'];
  /** The secrets key file every sealed value is under. */
  secrets: SecretsKeyFile;
  /** The PostgreSQL database (coordination between daemons); absent on SQLite. */
  postgres?: PostgresDatabase;
  /**
   * Reads everything an idle poll needs in one statement (SQLite, where the CA and the MDM
   * storage share one file); absent elsewhere, where every poll takes the full path.
   */
  probeIdle?: SqliteStorage['probeIdleNow'];
  /** Closes every store. */
  close(): Promise<void>;
}

/** The directories of the data directory whose files every daemon shares. */
const SHARED_DIRS = ['ca', 'signing'];

async function filesUnder(dataDir: string): Promise<SharedFile[]> {
  const out: SharedFile[] = [];
  for (const top of SHARED_DIRS) {
    let names: string[];
    try {
      names = await readdir(join(dataDir, top), { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names.sort()) {
      const path = join(dataDir, top, name);
      try {
        out.push({
          name: relative(dataDir, path).split(sep).join('/'),
          content: await readFile(path),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EISDIR') continue;
        throw error;
      }
    }
  }
  return out;
}

function safeName(name: string): boolean {
  return /^(ca|signing)\/[A-Za-z0-9._/-]+$/.test(name) && !name.split('/').includes('..');
}

/**
 * Makes the data directory's `ca/` and `signing/` the ones the PostgreSQL database holds: under
 * an advisory lock, the first daemon uploads what its data directory has (after creating it with
 * `create`), later ones write the stored files where theirs are missing. A data directory
 * holding a different file than the database is refused (ConfigError naming `--data-dir`):
 * silently replacing a CA would strand every device it enrolled.
 */
export async function shareKeyMaterial(
  database: PostgresDatabase,
  secrets: SecretsKeyFile,
  dataDir: string,
  create: () => Promise<void>,
  clock: () => Date,
): Promise<'uploaded' | 'downloaded' | 'unchanged'> {
  const { sharedFiles } = await import('../storage/postgres/index.js');
  const store = sharedFiles(database, secrets.keyring);
  return store.withLock('key-material', async () => {
    const stored = await store.list();
    if (stored.length === 0) {
      await create();
      await store.putIfAbsent(await filesUnder(dataDir), clock());
      return 'uploaded';
    }
    const local = new Map((await filesUnder(dataDir)).map((f) => [f.name, f.content]));
    let wrote = false;
    for (const file of stored) {
      if (!safeName(file.name)) continue;
      const mine = local.get(file.name);
      if (mine !== undefined) {
        if (Buffer.compare(Buffer.from(mine), Buffer.from(file.content)) !== 0)
          throw new ConfigError(
            '--data-dir',
            `${join(dataDir, file.name)} differs from the one the database shares; move the data directory's ca/ and signing/ away (the database's are the ones its devices trust)`,
          );
        continue;
      }
      const path = join(dataDir, ...file.name.split('/'));
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, file.content, { mode: 0o600, flag: 'wx' });
      wrote = true;
    }
    return wrote ? 'downloaded' : 'unchanged';
  });
}

/**
 * Opens the database of `config` with its secrets key file, all on `clock`. Throws ConfigError
 * naming the flag for a key file that does not fit, StorageError when the database cannot be
 * opened or reached.
 */
export async function openDaemonDatabase(
  config: DaemonConfig,
  options: { clock: () => Date; retention?: RetentionOptions },
  logger: Logger,
): Promise<DaemonDatabase> {
  const at = secretsKeyLocation(config);
  const retention = options.retention === undefined ? {} : { retention: options.retention };
  if (config.database.kind === 'postgres') {
    const { openSealedPostgres } = await import('../storage/postgres/index.js');
    const { database, secrets } = await openSealedPostgres(
      at,
      { url: config.database.url, clock: options.clock, ...retention },
      logger,
    );
    logger.info({ database: describeDatabase(config.database) }, 'database opened');
    return {
      kind: 'postgres',
      storage: database.storage,
      ca: database.ca,
      admin: database.admin,
      acme: database.acme,
      acmeIdentifiers: database.acmeIdentifiers,
      secrets,
      postgres: database,
      close: () => database.close(),
    };
  }
  const { database, storage, secrets } = await openSealedStorage(
    at,
    { path: config.database.path, clock: options.clock, ...retention },
    logger,
  );
  return {
    kind: 'sqlite',
    storage,
    probeIdle: (q) => storage.probeIdleNow(q),
    ca: database.ca,
    admin: database.admin,
    acme: database.acme,
    acmeIdentifiers: database.acmeIdentifiers,
    secrets,
    close: () => database.close(),
  };
}

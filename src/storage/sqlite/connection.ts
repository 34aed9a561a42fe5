/**
 * The one connection to Orchard's SQLite database: opened in WAL mode, migrated to the one
 * versioned schema, and shared by every store opened on it. Each store gets a context of its own
 * (so closing one makes only its calls fail); the connection closes with the last of them.
 */
import Database from 'better-sqlite3';
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import { SecretsError, StorageError } from '../../errors.js';
import type { SqliteContext } from './db.js';
import { isFilePath, prepareDatabaseFile, setCompanionModes } from './file-mode.js';
import { migrate } from './migrations.js';
import { prepareSealedSecrets } from './sealed-secrets.js';

/** How to open the connection. */
export interface SqliteConnectionOptions {
  /** Database file, created when absent; `:memory:` for a throw-away database. */
  path: string;
  /** Source of the timestamps the stores write themselves; default `() => new Date()`. */
  clock?: () => Date;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
  /** Page cache per connection in KiB; default 65536 (64 MiB). */
  cacheSizeKiB?: number;
  /** Keyring of the sealed device secrets (see `SqliteStorageOptions.secrets`). */
  secrets?: SecretsKeyring;
  /**
   * Whether the keyring is checked against the database (stores that read sealed values);
   * stores that read none (CA, admin) open a sealed database without its keyring. Default true.
   */
  checkSecrets?: boolean;
  /** Mode of the database file and its companions; `null` leaves modes to the umask. */
  fileMode?: number | null;
}

/** An open connection; `part()` hands a store its context and its `release`. */
export interface SqliteConnection {
  /** A context for one more store; the last `release()` closes the connection. */
  part(): { ctx: SqliteContext; release: () => void };
}

function configure(db: Database.Database, options: SqliteConnectionOptions, now: number): void {
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only power loss can drop
  // the last transactions.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${-Math.max(1024, Math.floor(options.cacheSizeKiB ?? 65_536))}`);
  migrate(db, now);
  if (options.checkSecrets !== false) prepareSealedSecrets(db, options.secrets, now);
}

function openDatabase(options: SqliteConnectionOptions, now: number): Database.Database {
  const mode = options.fileMode === undefined ? 0o600 : options.fileMode;
  const onDisk = mode !== null && isFilePath(options.path);
  if (onDisk) prepareDatabaseFile(options.path, mode);
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    configure(db, options, now);
    if (onDisk) setCompanionModes(options.path, mode);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens (creating and migrating as needed) the database. Throws StorageError when the file
 * cannot be opened or migrated or its schema is newer than this code (`detail.schemaVersion`),
 * SecretsError for a keyring that does not fit, TypeError on an empty path.
 */
export function openSqliteConnection(options: SqliteConnectionOptions): SqliteConnection {
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('path must be a non-empty string');
  }
  const clock = options.clock ?? (() => new Date());
  let db: Database.Database;
  try {
    db = openDatabase(options, clock().getTime());
  } catch (error) {
    if (error instanceof StorageError || error instanceof SecretsError) throw error;
    throw new StorageError(`cannot open SQLite database ${options.path}`, { cause: error });
  }
  const statements = new Map<string, Database.Statement>();
  let users = 0;
  return {
    part() {
      users += 1;
      const ctx: SqliteContext = { db, clock, closed: false, statements };
      if (options.secrets !== undefined) ctx.secrets = options.secrets;
      const release = (): void => {
        if (ctx.closed) return;
        ctx.closed = true;
        users -= 1;
        if (users > 0) return;
        statements.clear();
        db.close();
      };
      return { ctx, release };
    },
  };
}

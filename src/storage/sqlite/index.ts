/**
 * The SQLite storage adapter (`orchard-mdm/sqlite`), on better-sqlite3: one file, WAL mode,
 * versioned migrations, prepared statements, indexed next-command lookup.
 */
import Database from 'better-sqlite3';
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import { SecretsError, StorageError } from '../../errors.js';
import type { MdmStorage, RetentionOptions } from '../ports.js';
import { startRetentionSweep } from '../support.js';
import { sqliteCheckin } from './checkin.js';
import { sqliteCommands } from './commands.js';
import type { SqliteContext } from './db.js';
import { op } from './db.js';
import { isFilePath, prepareDatabaseFile, setCompanionModes } from './file-mode.js';
import { createLastSeenBuffer } from './last-seen.js';
import { migrate } from './migrations.js';
import { sqliteOutbox } from './outbox.js';
import { sqliteCertBindings } from './cert-bindings.js';
import { prepareSealedSecrets, resealSecrets, type ResealResult } from './sealed-secrets.js';
import { sqliteDeviceSecrets } from './secrets.js';

export { MIGRATIONS } from './migrations.js';
export type { Migration } from './migrations.js';
export type { ResealResult } from './sealed-secrets.js';
export { openSqliteCaStorage } from '../../identity/ca/sqlite.js';
export type { SqliteCaStorage, SqliteCaStorageOptions } from '../../identity/ca/sqlite.js';

/** Options of {@link createSqliteStorage}. */
export interface SqliteStorageOptions {
  /** Database file, created when absent; `:memory:` for a throw-away database. */
  path: string;
  /** Periodic purge of finished rows; none by default. */
  retention?: RetentionOptions;
  /** Source of the timestamps the store writes itself; default `() => new Date()`. */
  clock?: () => Date;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
  /**
   * `touchLastSeen` writes are buffered and flushed in one transaction this often (ms), and on
   * `close()`; reads still see them at once. 0 writes through. Default 1000.
   */
  lastSeenFlushMs?: number;
  /** Page cache per connection in KiB; default 65536 (64 MiB) keeps hot indexes in memory. */
  cacheSizeKiB?: number;
  /**
   * Seals device secrets at rest (AES-256-GCM, each bound to its row): UnlockTokens, command
   * bodies, device results and webhook event payloads. The first open with a keyring seals plain
   * values in place; from then on the database refuses to open without it, or with a keyring
   * lacking a key it was sealed with (SecretsError `ERR_SECRETS_KEY_MISMATCH`). Give the core the
   * same keyring (`sealerFor(keyring, 'bootstrap-token')`) for bootstrap tokens.
   */
  secrets?: SecretsKeyring;
  /**
   * Mode of the database file and its `-wal`/`-shm` companions, set whatever the umask (an
   * existing file is changed to it); default 0o600. `null` leaves modes to the umask.
   */
  fileMode?: number | null;
}

/** The SQLite {@link MdmStorage}, plus what only this adapter can do. */
export interface SqliteStorage extends MdmStorage {
  /**
   * Re-seals every sealed value not yet under the current secrets key, in one transaction (after
   * adding a key: `orchard secrets rotate`). Rejects with TypeError without
   * `secrets`, and with SecretsError, changing nothing, when a stored value does not open.
   */
  resealSecrets(): Promise<ResealResult>;
}

function open(options: SqliteStorageOptions, now: number): Database.Database {
  const mode = options.fileMode === undefined ? 0o600 : options.fileMode;
  const onDisk = mode !== null && isFilePath(options.path);
  if (onDisk) prepareDatabaseFile(options.path, mode);
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only power loss can drop
    // the last transactions.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${-Math.max(1024, Math.floor(options.cacheSizeKiB ?? 65_536))}`);
    migrate(db, now);
    prepareSealedSecrets(db, options.secrets, now);
    if (onDisk) setCompanionModes(options.path, mode);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens (creating and migrating as needed) an {@link MdmStorage} in a SQLite file. Throws
 * StorageError when the file cannot be opened or migrated or its schema is newer than this
 * code, TypeError on an empty path. After `close()` every call rejects with StorageError.
 */
export function createSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('path must be a non-empty string');
  }
  const flushMs = options.lastSeenFlushMs ?? 1000;
  if (!Number.isFinite(flushMs) || flushMs < 0) throw new TypeError('lastSeenFlushMs must be >= 0');
  const clock = options.clock ?? (() => new Date());
  let db: Database.Database;
  try {
    db = open(options, clock().getTime());
  } catch (error) {
    if (error instanceof StorageError || error instanceof SecretsError) throw error;
    throw new StorageError(`cannot open SQLite database ${options.path}`, { cause: error });
  }
  const ctx: SqliteContext = { db, clock, closed: false, statements: new Map() };
  if (options.secrets !== undefined) ctx.secrets = options.secrets;
  const lastSeen = createLastSeenBuffer(ctx, flushMs);
  const commands = sqliteCommands(ctx);
  const outbox = sqliteOutbox(ctx);
  const stopSweep = startRetentionSweep({ ...commands, ...outbox }, options.retention, clock);
  return {
    ...sqliteCheckin(ctx, lastSeen),
    ...sqliteDeviceSecrets(ctx),
    ...sqliteCertBindings(ctx),
    ...commands,
    ...outbox,
    resealSecrets: () => op(ctx, () => resealSecrets(ctx)),
    close() {
      if (ctx.closed) return Promise.resolve();
      stopSweep();
      lastSeen.stop();
      try {
        lastSeen.flush();
      } catch {
        // the store is closing; a last-seen instant is not worth failing close() for
      }
      ctx.closed = true;
      ctx.statements.clear();
      db.close();
      return Promise.resolve();
    },
  };
}

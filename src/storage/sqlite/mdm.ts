/** The MDM storage ports over a SQLite connection context, and their options. */
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import type { MdmStorage, RetentionOptions } from '../ports.js';
import { startRetentionSweep } from '../support.js';
import { sqliteCertBindings } from './cert-bindings.js';
import { sqliteCheckin } from './checkin.js';
import { sqliteCommands } from './commands.js';
import { op, type SqliteContext } from './db.js';
import { sqliteIdleProbe, type IdleProbe } from './idle.js';
import { createLastSeenBuffer } from './last-seen.js';
import { sqliteOutbox } from './outbox.js';
import { resealSecrets, type ResealResult } from './sealed-secrets.js';
import { sqliteDeviceSecrets } from './secrets.js';

/** Options of `createSqliteStorage` and `openSqliteDatabase`. */
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
export interface SqliteStorage extends MdmStorage, IdleProbe {
  /**
   * Re-seals every sealed value not yet under the current secrets key, in one transaction (after
   * adding a key: `orchard secrets rotate`). Rejects with TypeError without
   * `secrets`, and with SecretsError, changing nothing, when a stored value does not open.
   */
  resealSecrets(): Promise<ResealResult>;
}

/**
 * The MDM storage over one part of a connection (see `openSqliteDatabase`); `release` gives the
 * part back when the storage closes.
 */
export function sqliteMdmStorage(
  ctx: SqliteContext,
  release: () => void,
  options: Pick<SqliteStorageOptions, 'retention' | 'lastSeenFlushMs'>,
): SqliteStorage {
  const flushMs = options.lastSeenFlushMs ?? 1000;
  const lastSeen = createLastSeenBuffer(ctx, flushMs);
  const commands = sqliteCommands(ctx);
  const outbox = sqliteOutbox(ctx);
  const stopSweep = startRetentionSweep({ ...commands, ...outbox }, options.retention, ctx.clock);
  return {
    ...sqliteCheckin(ctx, lastSeen),
    ...sqliteDeviceSecrets(ctx),
    ...sqliteCertBindings(ctx),
    ...sqliteIdleProbe(ctx),
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
      release();
      return Promise.resolve();
    },
  };
}

/** Throws TypeError for options no store can open with. */
export function checkStorageOptions(options: SqliteStorageOptions): void {
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('path must be a non-empty string');
  }
  const flushMs = options.lastSeenFlushMs ?? 1000;
  if (!Number.isFinite(flushMs) || flushMs < 0) throw new TypeError('lastSeenFlushMs must be >= 0');
}

/** The MDM storage ports over a PostgreSQL context, and their options. */
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import type { MdmStorage, RetentionOptions } from '../ports.js';
import { startRetentionSweep } from '../support.js';
import { pgCertBindings } from './cert-bindings.js';
import { pgCheckin } from './checkin.js';
import { pgCommands } from './commands.js';
import type { PgPoolOptions } from './connection.js';
import { op, type PgContext } from './db.js';
import { createPgLastSeen } from './last-seen.js';
import { pgOutbox } from './outbox.js';
import { resealSecrets, type ResealResult } from './sealed-secrets.js';
import { pgDeviceSecrets } from './secrets.js';

/** Options of `openPostgresDatabase` and `createPostgresStorage`. */
export interface PostgresStorageOptions {
  /** `postgres://user@host:port/database`. */
  url: string;
  /** Periodic purge of finished rows; none by default. */
  retention?: RetentionOptions;
  /** Source of the timestamps the store writes itself; default `() => new Date()`. */
  clock?: () => Date;
  /**
   * `touchLastSeen` writes are buffered and flushed in one statement this often (ms), and on
   * `close()`; reads through this store see them at once. 0 writes through. Default 1000.
   */
  lastSeenFlushMs?: number;
  /**
   * Seals device secrets at rest (AES-256-GCM, each bound to its row), as the SQLite adapter
   * does; every daemon on the database must be given the same key file.
   */
  secrets?: SecretsKeyring;
  /** Pool settings (connections, timeouts). */
  pool?: PgPoolOptions;
  /** `application_name` shown in `pg_stat_activity`; default `orchard`. */
  applicationName?: string;
}

/** The PostgreSQL {@link MdmStorage}, plus what only an adapter can do. */
export interface PostgresStorage extends MdmStorage {
  /**
   * Re-seals every sealed value not yet under the current secrets key, in one transaction.
   * Rejects with TypeError without `secrets`, with SecretsError (changing nothing) when a stored
   * value does not open.
   */
  resealSecrets(): Promise<ResealResult>;
}

/** Throws TypeError for options no store can open with. */
export function checkPostgresOptions(options: PostgresStorageOptions): void {
  if (typeof options.url !== 'string' || !/^postgres(ql)?:\/\/./.test(options.url))
    throw new TypeError('url must be a postgres:// URL');
  const flushMs = options.lastSeenFlushMs ?? 1000;
  if (!Number.isFinite(flushMs) || flushMs < 0) throw new TypeError('lastSeenFlushMs must be >= 0');
}

/** The MDM storage over one part of a pool; `release` gives the part back when it closes. */
export function pgMdmStorage(
  ctx: PgContext,
  release: () => Promise<void>,
  options: Pick<PostgresStorageOptions, 'retention' | 'lastSeenFlushMs'>,
): PostgresStorage {
  const lastSeen = createPgLastSeen(ctx, options.lastSeenFlushMs ?? 1000);
  const commands = pgCommands(ctx);
  const outbox = pgOutbox(ctx);
  const stopSweep = startRetentionSweep({ ...commands, ...outbox }, options.retention, ctx.clock);
  return {
    ...pgCheckin(ctx, lastSeen),
    ...pgDeviceSecrets(ctx),
    ...pgCertBindings(ctx),
    ...commands,
    ...outbox,
    resealSecrets: () => op(ctx, () => resealSecrets(ctx)),
    async close() {
      if (ctx.closed) return;
      stopSweep();
      lastSeen.stop();
      // the store is closing; a last-seen instant is not worth failing close() for
      await lastSeen.flush().catch(() => undefined);
      await release();
    },
  };
}

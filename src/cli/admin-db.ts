/**
 * Opening the daemon's admin tables from the offline subcommands (`orchard apikey`, `admins`,
 * `users`, `enroll`): the same `--data-dir`/`--database` flags and `ORCHARD_*` variables as `orchard serve`.
 * SQLite and PostgreSQL both allow this while daemons run.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { resolveDatabase, type RawValues } from '../daemon/index.js';
import { openSqliteAdminStore, type AdminStorage } from '../storage/sqlite/index.js';
import { ConfigError } from '../index.js';
import { attributeConfigError } from './config-errors.js';

/** Adds `--data-dir` and `--database` to a subcommand. */
export function withDatabaseOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'state directory of the daemon [env ORCHARD_DATA_DIR]')
    .option('--database <url>', 'sqlite:PATH or postgres://... [env ORCHARD_DATABASE]');
}

/**
 * Opens the admin store named by the options. Rejects with ConfigError, naming the flag or the
 * `ORCHARD_*` variable the bad value came from, when the value is invalid or the SQLite file does
 * not exist; StorageError when PostgreSQL cannot be reached.
 */
export async function openAdminFromOptions(
  options: RawValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<AdminStorage> {
  try {
    const location = resolveDatabase(options, env);
    if (location.kind === 'postgres') {
      const { openPostgresAdminStore } = await import('../storage/postgres/index.js');
      return await openPostgresAdminStore({ url: location.url });
    }
    const { path } = location;
    if (!existsSync(path)) {
      const given = options.database ?? env.ORCHARD_DATABASE;
      throw new ConfigError(
        given === undefined ? '--data-dir' : '--database',
        `no database at ${path}; start orchard serve once first`,
      );
    }
    return openSqliteAdminStore({ path });
  } catch (error) {
    if (error instanceof ConfigError) throw attributeConfigError(error, options, env);
    throw error;
  }
}

/** Runs `fn` on the admin store the options name, closing it afterwards; resolves `fn`'s exit code. */
export async function withAdminStore(
  options: RawValues,
  fn: (store: AdminStorage) => Promise<number>,
): Promise<number> {
  const store = await openAdminFromOptions(options);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** The audit actor of a CLI change. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

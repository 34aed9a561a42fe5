/**
 * Opening the daemon's admin tables from the offline subcommands (`orchard apikey`, `admins`,
 * `users`, `enroll`): the same `--data-dir`/`--database` flags and `ORCHARD_*` variables as `orchard serve`.
 * SQLite allows this while the daemon runs.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { resolveDatabasePath, type RawValues } from '../daemon/index.js';
import { openSqliteAdminStore, type AdminStorage } from '../storage/sqlite/index.js';
import { ConfigError } from '../index.js';
import { attributeConfigError } from './config-errors.js';

/** Adds `--data-dir` and `--database` to a subcommand. */
export function withDatabaseOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'state directory of the daemon [env ORCHARD_DATA_DIR]')
    .option('--database <url>', 'sqlite:PATH [env ORCHARD_DATABASE]');
}

/**
 * Opens the admin store named by the options. Throws ConfigError, naming the flag or the
 * `ORCHARD_*` variable the bad value came from, when the value is invalid or the database does
 * not exist.
 */
export function openAdminFromOptions(
  options: RawValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AdminStorage {
  try {
    const path = resolveDatabasePath(options, env);
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
  const store = openAdminFromOptions(options);
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

/**
 * `orchard db migrate` (bring the database `--database` names to this version's schema; what
 * `orchard serve` does at start, for operators who upgrade before starting daemons) and
 * `orchard db copy --from sqlite:PATH --to postgres://...` (move an installation to PostgreSQL in
 * one transaction, every row read back and compared). Both print JSON.
 */
import type { Command } from 'commander';
import { resolveDatabase, type RawValues } from '../daemon/index.js';
import { ConfigError } from '../index.js';
import { MIGRATIONS, openSqliteCaStorage, openSqliteTableSource } from '../storage/sqlite/index.js';
import { withDatabaseOptions } from './admin-db.js';
import { attributeConfigError } from './config-errors.js';
import { runAction, UsageProblem } from './input.js';

async function migrate(opts: RawValues): Promise<number> {
  let location;
  try {
    location = resolveDatabase(opts);
  } catch (error) {
    if (error instanceof ConfigError) throw attributeConfigError(error, opts);
    throw error;
  }
  if (location.kind === 'postgres') {
    const { migratePostgres } = await import('../storage/postgres/index.js');
    const outcome = await migratePostgres(location.url);
    process.stdout.write(`${JSON.stringify({ database: 'postgres', ...outcome })}\n`);
    return 0;
  }
  let from: number;
  try {
    const source = openSqliteTableSource(location.path);
    from = source.schemaVersion;
    source.close();
  } catch (error) {
    const detail = (error as { detail?: { schemaVersion?: unknown } }).detail;
    if (typeof detail?.schemaVersion !== 'number') throw error;
    from = detail.schemaVersion;
  }
  // The CA stores open (and migrate) a sealed file without its key: no sealed value is read.
  openSqliteCaStorage({ path: location.path }).close();
  const to = MIGRATIONS.at(-1)?.version ?? 0;
  process.stdout.write(
    `${JSON.stringify({ database: 'sqlite', path: location.path, from, to })}\n`,
  );
  return 0;
}

interface CopyOptions {
  from?: string;
  to?: string;
  replace?: boolean;
}

async function copy(opts: CopyOptions): Promise<number> {
  const from = /^sqlite:(.+)$/.exec(opts.from ?? '')?.[1];
  if (from === undefined) throw new UsageProblem('--from must be sqlite:PATH');
  if (!/^postgres(ql)?:\/\/./.test(opts.to ?? ''))
    throw new UsageProblem('--to must be a postgres:// URL');
  const { copyIntoPostgres } = await import('../storage/postgres/index.js');
  const source = openSqliteTableSource(from);
  try {
    const reports = await copyIntoPostgres(source.tables(), {
      url: opts.to as string,
      ...(opts.replace === true ? { replace: true } : {}),
      onTable: (r) => {
        process.stderr.write(
          `${r.table}: ${String(r.source)} rows, ${r.verified ? 'verified' : 'MISMATCH'}\n`,
        );
      },
    });
    const rows = reports.reduce((n, r) => n + r.source, 0);
    process.stdout.write(
      `${JSON.stringify({ tables: reports.length, rows, verified: reports.every((r) => r.verified), reports })}\n`,
    );
    process.stderr.write(
      'orchard db copy: done; start the daemons with --database on the new URL and the same --secrets-key-file and data directory (its ca/ and signing/ are shared through the database at the first start)\n',
    );
    return 0;
  } finally {
    source.close();
  }
}

/** Registers `orchard db` on the program. */
export function registerDb(program: Command): void {
  const db = program
    .command('db')
    .description('the database: migrate it, or copy it to PostgreSQL');
  withDatabaseOptions(
    db
      .command('migrate')
      .description("bring the database to this version's schema (what serve does at start)"),
  ).action((opts: RawValues, command: Command) => runAction(command, () => migrate(opts)));
  db.command('copy')
    .description('copy a SQLite installation into an empty PostgreSQL database, checking every row')
    .requiredOption('--from <url>', 'sqlite:PATH of the installation (stop its daemon first)')
    .requiredOption('--to <url>', 'postgres://USER@HOST:PORT/DB (created and empty)')
    .option('--replace', 'replace the data the target already holds')
    .action((opts: CopyOptions, command: Command) => runAction(command, () => copy(opts)));
}

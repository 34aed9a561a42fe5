/**
 * Reading a SQLite database table by table for `orchard db copy`: every table Orchard created,
 * with its rows as SQLite stores them (numbers, strings, Buffers, null), streamed in batches.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import type { TableSource } from '../copy-format.js';
import { migrate, MIGRATIONS } from './migrations.js';

/**
 * Tables of SQLite's own or of its bookkeeping that no other engine has, and the coordination
 * tables (rate buckets, job leases, notification topics: state of the running processes only).
 */
const NOT_COPIED = new Set([
  ...['schema_migrations', 'sqlite_sequence', 'orchard_ca_meta'],
  ...['orchard_rate_buckets', 'orchard_job_leases', 'orchard_notify_topics'],
]);

/** An open SQLite database to read tables from. */
export interface SqliteTableSource {
  /** The schema version of the file. */
  schemaVersion: number;
  /** Every table to copy. */
  tables(): TableSource[];
  close(): void;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function tableSource(db: Database.Database, table: string): TableSource {
  const columns = (
    db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string }[]
  ).map((c) => c.name);
  const count = db
    .prepare(`SELECT COUNT(*) FROM ${quote(table)}`)
    .pluck()
    .get() as number;
  return {
    table,
    columns,
    count,
    *batches(size) {
      const select = db
        .prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}`)
        .raw(true);
      let batch: unknown[][] = [];
      for (const row of select.iterate() as Iterable<unknown[]>) {
        batch.push(row);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

/**
 * Opens `path` for reading tables. With `migrateFirst` it is opened read-write and brought to
 * this code's schema first (what the daemon does at start); otherwise read-only, and a file whose
 * schema is older than this code is refused (StorageError) so a copy never mixes versions.
 */
export function openSqliteTableSource(
  path: string,
  options: { migrateFirst?: boolean; now?: number } = {},
): SqliteTableSource {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: options.migrateFirst !== true, fileMustExist: true });
  } catch (error) {
    throw new StorageError(`cannot open SQLite database ${path}`, { cause: error });
  }
  try {
    if (options.migrateFirst === true) migrate(db, options.now ?? Date.now());
    const version =
      (db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number | null) ??
      0;
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (version !== latest)
      throw new StorageError(
        `${path} is at schema version ${version}, this Orchard at ${latest}: start this version of orchard serve on it once before copying`,
        { detail: { schemaVersion: version } },
      );
    return {
      schemaVersion: version,
      tables: () =>
        (
          db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .pluck()
            .all() as string[]
        )
          .filter((t) => !NOT_COPIED.has(t) && !t.startsWith('sqlite_'))
          .map((t) => tableSource(db, t)),
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    if (error instanceof StorageError) throw error;
    throw new StorageError(`cannot read SQLite database ${path}`, { cause: error });
  }
}

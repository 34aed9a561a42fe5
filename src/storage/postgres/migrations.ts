/**
 * The one versioned schema of Orchard's PostgreSQL database. Each migration runs once, in its
 * own transaction under an advisory lock (of several daemons starting together one migrates, the
 * others wait and find it done), and is recorded in `orchard_schema_migrations`. Times are
 * `timestamptz`, bytes `bytea`, structured values `jsonb`; every timestamp comes from the
 * store's clock, never from the database's `now()`.
 */
import type pg from 'pg';
import { StorageError } from '../../errors.js';
import { ADMIN_SCHEMA } from './schema-admin.js';
import { MANAGEMENT_SCHEMA } from './schema-management.js';
import { MDM_SCHEMA } from './schema-mdm.js';
import { POLICIES_SCHEMA } from './schema-policies.js';
import { QUEUE_SCHEMA } from './schema-queue.js';
import { SHARED_FILES_SCHEMA } from './shared-files.js';

/** One schema change. Versions are consecutive from 1 and never edited once released. */
export interface PgMigration {
  version: number;
  name: string;
  /** The change (DDL and constant rows; may hold several statements). */
  sql: string;
}

/** Every migration, oldest first. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: [MDM_SCHEMA, QUEUE_SCHEMA, ADMIN_SCHEMA, MANAGEMENT_SCHEMA, POLICIES_SCHEMA].join('\n'),
  },
  {
    version: 2,
    name: 'files every daemon shares (CA, signing identity), sealed',
    sql: SHARED_FILES_SCHEMA,
  },
];

/** The advisory lock key every migrating daemon takes (`hashtext('orchard-migrate')`). */
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('orchard-migrate'))";

async function currentVersion(client: pg.PoolClient): Promise<number> {
  const result = await client.query<{ v: number | null }>(
    'SELECT MAX(version)::int AS v FROM orchard_schema_migrations',
  );
  return result.rows[0]?.v ?? 0;
}

/** What {@link migratePostgres} did. */
export interface MigrationOutcome {
  /** Version before. */
  from: number;
  /** Version after (the newest this code knows). */
  to: number;
}

/**
 * Applies every migration newer than the database's version, each in one transaction under the
 * advisory lock (a failure rolls that migration back and leaves the earlier ones applied).
 * Throws StorageError (with `detail.schemaVersion`) when the database is newer than this code.
 */
export async function migrateSchema(
  pool: pg.Pool,
  now: Date,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<MigrationOutcome> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(LOCK);
    await client.query(`CREATE TABLE IF NOT EXISTS orchard_schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
    await client.query('COMMIT');
    const from = await currentVersion(client);
    const latest = migrations.at(-1)?.version ?? 0;
    if (from > latest) {
      throw new StorageError(
        `database schema version ${from} is newer than this Orchard (${latest}); upgrade Orchard or restore a backup`,
        { detail: { schemaVersion: from, supportedVersion: latest } },
      );
    }
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      await client.query('BEGIN');
      try {
        await client.query(LOCK);
        if ((await currentVersion(client)) < migration.version) {
          await client.query(migration.sql);
          await client.query(
            'INSERT INTO orchard_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
            [migration.version, migration.name, now],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
    return { from, to: latest };
  } finally {
    client.release();
  }
}

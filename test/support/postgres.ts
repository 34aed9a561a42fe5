/**
 * The local PostgreSQL for tests (127.0.0.1:5432, user postgres, trust auth; `ORCHARD_TEST_PG`
 * overrides the server URL): a database of its own per test file, created on first use and
 * dropped by `drop()`, and a reset that empties every table between tests (the seeds come back
 * at the next open, stamped by the test's clock). A test that needs PostgreSQL and cannot reach
 * it fails; it never skips.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests use, without a database name. */
export const PG_SERVER = (
  process.env.ORCHARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432'
).replace(/\/+$/, '');

/** A database made for one test file. */
export interface TestDatabase {
  /** Its name. */
  name: string;
  /** Its URL, for `openPostgresDatabase({ url })` and `--database`. */
  url: string;
  /** Empties every Orchard table (keeps the schema and its version), resets sequences. */
  reset(): Promise<void>;
  /** Runs one statement on it (for assertions on raw rows). */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops it (ends every connection to it first). */
  drop(): Promise<void>;
}

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database named `orchard_t_<label>_<random>` and resolves its handle. Tables
 * appear when an Orchard store first opens it.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `orchard_t_${safe}_${randomBytes(4).toString('hex')}`;
  await onServer((c) => c.query(`CREATE DATABASE ${name}`));
  const url = `${PG_SERVER}/${name}`;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  return {
    name,
    url,
    async reset() {
      const tables = await admin.query<{ t: string }>(
        `SELECT quote_ident(tablename) AS t FROM pg_tables
          WHERE schemaname = 'public' AND tablename <> 'orchard_schema_migrations'`,
      );
      if (tables.rows.length === 0) return;
      await admin.query(
        `TRUNCATE ${tables.rows.map((r) => r.t).join(', ')} RESTART IDENTITY CASCADE`,
      );
    },
    async query<R>(text: string, values: unknown[] = []) {
      return (await admin.query(text, values)).rows as R[];
    },
    async drop() {
      await admin.end();
      await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

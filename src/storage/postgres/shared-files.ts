/**
 * Files every daemon on one PostgreSQL database shares: the CA's keys and certificates and the
 * profile-signing identity, sealed with the shared secrets key (purpose `shared-file`, bound to
 * the file's name). A daemon materialises them in its data directory at start, so any instance
 * can sign and issue as the others do; the first daemon uploads what it generated or found.
 */
import type pg from 'pg';
import type { SecretsKeyring } from '../../crypto/secrets-key.js';
import { query, run } from './db.js';
import type { PostgresDatabase } from './database.js';

/** One shared file: a relative path (`ca/ca.key`) and its bytes. */
export interface SharedFile {
  name: string;
  content: Uint8Array;
}

/** The shared files of a database. */
export interface SharedFileStore {
  /**
   * Runs `fn` holding a session advisory lock named `name` (other daemons calling it wait), on a
   * connection of its own, and releases the lock however `fn` ends.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Every stored file, opened. Throws SecretsError when one does not open with the keyring. */
  list(): Promise<SharedFile[]>;
  /** Stores the files not stored yet (an existing name keeps its content); stamps `now`. */
  putIfAbsent(files: readonly SharedFile[], now: Date): Promise<void>;
}

/** The migration 2 DDL: the shared files table. */
export const SHARED_FILES_SCHEMA = `
CREATE TABLE orchard_shared_files (
  name text PRIMARY KEY,
  content bytea NOT NULL,
  created_at timestamptz NOT NULL
);
`;

/** The shared files of `database`, sealed with `keyring`. */
export function sharedFiles(database: PostgresDatabase, keyring: SecretsKeyring): SharedFileStore {
  const pool: pg.Pool = database.connection.pool;
  return {
    async withLock(name, fn) {
      const client = await pool.connect();
      const onError = (): void => undefined;
      client.on('error', onError);
      try {
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [`orchard-${name}`]);
        try {
          return await fn();
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`orchard-${name}`]);
        }
      } finally {
        client.off('error', onError);
        client.release(true);
      }
    },
    async list() {
      const rows = await query<{ name: string; content: Uint8Array }>(
        pool,
        'SELECT name, content FROM orchard_shared_files ORDER BY name',
      );
      return rows.map((r) => ({
        name: r.name,
        content: keyring.open('shared-file', r.name, r.content),
      }));
    },
    async putIfAbsent(files, now) {
      for (const file of files) {
        await run(
          pool,
          `INSERT INTO orchard_shared_files (name, content, created_at) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO NOTHING`,
          [file.name, keyring.seal('shared-file', file.name, file.content), now],
        );
      }
    },
  };
}

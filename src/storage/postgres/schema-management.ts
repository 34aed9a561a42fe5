/** PostgreSQL schema (migration 1 part): groups, settings, principals, profile library, users, owners. Owner: area D. */
import type pg from 'pg';

/** The DDL of this area, in migration 1. */
export const MANAGEMENT_SCHEMA = '';

/**
 * Inserts the rows every database has (the root group `global`, the built-in `owner`
 * administrator, the management revision) stamped `now`, when absent (idempotent; runs at
 * every open, so a truncated test database is seeded again with the test's clock).
 */
export async function seedManagement(pool: pg.Pool, now: Date): Promise<void> {
  void pool;
  void now;
  return Promise.resolve();
}

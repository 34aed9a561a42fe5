/**
 * Migration 13's schema: coordination between the processes sharing one SQLite file (`orchard
 * serve --workers N`, or several daemons on one file): shared rate-limit token buckets, leases of
 * singleton jobs, and a version per notification topic. Nothing here is data to keep: `orchard db
 * copy` leaves these tables behind. Kept apart from `migrations.ts` for size.
 */

/** The tables of `sqliteCoordination` (`src/storage/sqlite/coordination.ts`). */
export const COORDINATION_SCHEMA = `
CREATE TABLE orchard_rate_buckets (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  tokens REAL NOT NULL,
  at_ms REAL NOT NULL,
  taken INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX orchard_rate_buckets_at ON orchard_rate_buckets (at_ms);

CREATE TABLE orchard_job_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE orchard_notify_topics (
  topic TEXT PRIMARY KEY,
  version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX orchard_notify_topics_version ON orchard_notify_topics (version);
`;

/**
 * Migration 12's schema: the one-time ACME ClientIdentifiers (by SHA-256 digest, never the value)
 * and the attested device of each certificate issued on one (issue 22). PostgreSQL's migration 4
 * has the same tables and columns, so `orchard db copy` moves rows as they are.
 */

/** The tables. Kept in the database so every daemon on it shares them. */
export const ACME_IDENTIFIERS_SCHEMA = `
CREATE TABLE orchard_acme_client_ids (
  digest TEXT PRIMARY KEY,
  enrollment_id TEXT NOT NULL,
  expected_udid TEXT,
  expected_serial TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  account_id TEXT,
  used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX orchard_acme_client_ids_expires ON orchard_acme_client_ids (expires_at);

CREATE TABLE orchard_acme_attested_devices (
  certificate_serial TEXT PRIMARY KEY,
  serial TEXT,
  udid TEXT,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX orchard_acme_attested_devices_expires ON orchard_acme_attested_devices (expires_at);
`;

/**
 * PostgreSQL schema of the one-time ACME ClientIdentifiers and attested devices (migration 4).
 * Tables, columns, keys and indexes are SQLite's migration 12
 * (src/storage/sqlite/migrations-acme-identifiers.ts) so `orchard db copy` moves rows as they are.
 */

/** The migration 4 DDL. */
export const ACME_IDENTIFIERS_SCHEMA = `
CREATE TABLE orchard_acme_client_ids (
  digest text PRIMARY KEY,
  enrollment_id text NOT NULL,
  expected_udid text,
  expected_serial text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  account_id text,
  used_at timestamptz
);
CREATE INDEX orchard_acme_client_ids_expires ON orchard_acme_client_ids (expires_at);

CREATE TABLE orchard_acme_attested_devices (
  certificate_serial text PRIMARY KEY,
  serial text,
  udid text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX orchard_acme_attested_devices_expires ON orchard_acme_attested_devices (expires_at);
`;

/**
 * Migration 11's schema: the ACME server's nonces, accounts, orders, authorizations and
 * challenges (issue 22). Kept apart from `migrations.ts` for size; released migrations are never
 * edited.
 */

/** The tables. Nonces and orders live here so several daemons on one database share them. */
export const ACME_SCHEMA = `
CREATE TABLE orchard_acme_nonces (
  value TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX orchard_acme_nonces_expires ON orchard_acme_nonces (expires_at);

CREATE TABLE orchard_acme_accounts (
  id TEXT PRIMARY KEY,
  thumbprint TEXT NOT NULL UNIQUE,
  jwk TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
  contact TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE orchard_acme_orders (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
  identifiers TEXT NOT NULL,
  authorization_ids TEXT NOT NULL,
  enrollment_id TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  error TEXT,
  certificate_serial TEXT
);
CREATE INDEX orchard_acme_orders_expires ON orchard_acme_orders (expires_at);

CREATE TABLE orchard_acme_authorizations (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  identifier_type TEXT NOT NULL,
  identifier_value TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
  expires_at INTEGER NOT NULL,
  bound_key BLOB,
  attested_serial TEXT,
  attested_udid TEXT
);
CREATE INDEX orchard_acme_authorizations_order ON orchard_acme_authorizations (order_id);

CREATE TABLE orchard_acme_challenges (
  id TEXT PRIMARY KEY,
  authorization_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  token TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
  validated_at INTEGER,
  error TEXT
);
CREATE INDEX orchard_acme_challenges_authorization
  ON orchard_acme_challenges (authorization_id, seq);
`;

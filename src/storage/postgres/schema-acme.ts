/**
 * PostgreSQL schema of the ACME server (migration 3): nonces, accounts, orders, authorizations
 * and challenges. Tables, columns, keys and indexes are SQLite's migration 11
 * (src/storage/sqlite/migrations-acme.ts) so `orchard db copy` moves rows as they are; times are
 * `timestamptz`, JSON text is `jsonb`, bytes are `bytea`. The account's `jwk` stays `text`: it is
 * the key as the client sent it, and jsonb would reorder its members.
 */

/** The migration 3 DDL. Nonces and orders live here so every daemon on the database shares them. */
export const ACME_SCHEMA = `
CREATE TABLE orchard_acme_nonces (
  value text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX orchard_acme_nonces_expires ON orchard_acme_nonces (expires_at);

CREATE TABLE orchard_acme_accounts (
  id text PRIMARY KEY,
  thumbprint text NOT NULL,
  jwk text NOT NULL,
  status text NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
  contact jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT orchard_acme_accounts_thumbprint UNIQUE (thumbprint)
);

CREATE TABLE orchard_acme_orders (
  id text PRIMARY KEY,
  account_id text NOT NULL,
  status text NOT NULL
    CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
  identifiers jsonb NOT NULL,
  authorization_ids jsonb NOT NULL,
  enrollment_id text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  error jsonb,
  certificate_serial text
);
CREATE INDEX orchard_acme_orders_expires ON orchard_acme_orders (expires_at);

CREATE TABLE orchard_acme_authorizations (
  id text PRIMARY KEY,
  order_id text NOT NULL,
  account_id text NOT NULL,
  identifier_type text NOT NULL,
  identifier_value text NOT NULL,
  status text NOT NULL
    CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
  expires_at timestamptz NOT NULL,
  bound_key bytea,
  attested_serial text,
  attested_udid text
);
CREATE INDEX orchard_acme_authorizations_order ON orchard_acme_authorizations (order_id);

CREATE TABLE orchard_acme_challenges (
  id text PRIMARY KEY,
  authorization_id text NOT NULL,
  account_id text NOT NULL,
  seq integer NOT NULL,
  type text NOT NULL,
  token text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
  validated_at timestamptz,
  error jsonb
);
CREATE INDEX orchard_acme_challenges_authorization
  ON orchard_acme_challenges (authorization_id, seq);
`;

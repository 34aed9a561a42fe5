/**
 * Migration 10's schema: the portal's and console's browser sessions (only the token's hash is
 * stored), passwords of users and administrators, and one-time password-setup tokens. Kept
 * apart from `migrations.ts` for size; released migrations are never edited.
 */

/** The tables. Sessions live here so several daemons on one database share them. */
export const WEB_SCHEMA = `
CREATE TABLE orchard_web_sessions (
  id_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('portal', 'console')),
  subject_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE INDEX orchard_web_sessions_subject ON orchard_web_sessions (kind, subject_id);
CREATE INDEX orchard_web_sessions_expires ON orchard_web_sessions (expires_at);

CREATE TABLE orchard_passwords (
  subject TEXT NOT NULL CHECK (subject IN ('user', 'admin')),
  subject_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (subject, subject_id)
);

CREATE TABLE orchard_password_setup_tokens (
  hash TEXT PRIMARY KEY,
  subject TEXT NOT NULL CHECK (subject IN ('user', 'admin')),
  subject_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX orchard_password_setup_tokens_subject
  ON orchard_password_setup_tokens (subject, subject_id);
`;

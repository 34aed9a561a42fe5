/**
 * Migration 8's schema: users (usernames unique case-insensitively), who each enrollment belongs
 * to, and the enrollment-link fields of personal and generic links. Kept apart from
 * `migrations.ts` for size; released migrations are never edited.
 */

/** The tables and columns. Links made before kinds existed are `single`. */
export const USERS_SCHEMA = `
CREATE TABLE orchard_users (
  id TEXT PRIMARY KEY,
  -- NOCASE folds ASCII letters only; the memory adapter folds the same way.
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  group_id TEXT NOT NULL REFERENCES orchard_groups (id),
  policy TEXT,
  managed_apple_id TEXT,
  custom1 TEXT,
  custom2 TEXT,
  custom3 TEXT,
  generic INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX orchard_users_group ON orchard_users (group_id, id);

CREATE TABLE orchard_enrollment_owners (
  enrollment_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES orchard_users (id) ON DELETE CASCADE,
  group_id TEXT NOT NULL REFERENCES orchard_groups (id) ON DELETE CASCADE,
  link_id TEXT,
  assigned_at INTEGER NOT NULL
);
CREATE INDEX orchard_enrollment_owners_user ON orchard_enrollment_owners (user_id, assigned_at);
CREATE INDEX orchard_enrollment_owners_group ON orchard_enrollment_owners (group_id);

ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'single'
  CHECK (kind IN ('single', 'personal', 'generic'));
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN user_id TEXT;
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN group_id TEXT;
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN policy TEXT;
-- Sealed with the secrets key (purpose enrollment-link, bound to the link id) when there is one.
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN secret BLOB;
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN rotated_at INTEGER;
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN sent_at INTEGER;
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN opened_at INTEGER;
ALTER TABLE orchard_admin_enrollment_tokens ADD COLUMN enrolled_at INTEGER;
-- One active personal link per user, whatever the adapter's own check missed.
CREATE UNIQUE INDEX orchard_admin_enrollment_tokens_personal
  ON orchard_admin_enrollment_tokens (user_id) WHERE kind = 'personal' AND revoked_at IS NULL;
CREATE INDEX orchard_admin_enrollment_tokens_group
  ON orchard_admin_enrollment_tokens (group_id) WHERE group_id IS NOT NULL;
`;

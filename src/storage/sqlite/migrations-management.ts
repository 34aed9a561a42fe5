/**
 * Migration 7's schema: organization groups and their settings records with one revision row
 * (optimistic locking across daemons), administrators, API keys' owners, and the profile library.
 * Kept apart from `migrations.ts` for size; released migrations are never edited.
 */
import type Database from 'better-sqlite3';

/** The tables; `"values"`-like names are avoided so the SQL needs no quoting. */
export const MANAGEMENT_SCHEMA = `
CREATE TABLE orchard_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- Deferred: one change may delete or insert a parent and its child in either order; the
  -- adapter checks the whole tree before it writes, this is the backstop at commit.
  parent_id TEXT REFERENCES orchard_groups (id) DEFERRABLE INITIALLY DEFERRED,
  created_at INTEGER NOT NULL
);
CREATE INDEX orchard_groups_parent ON orchard_groups (parent_id);

CREATE TABLE orchard_group_settings (
  group_id TEXT NOT NULL REFERENCES orchard_groups (id) ON DELETE CASCADE,
  page TEXT NOT NULL,
  values_json TEXT NOT NULL,
  child_permission TEXT NOT NULL
    CHECK (child_permission IN ('inherit-only', 'override-only', 'inherit-or-override')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, page)
);

CREATE TABLE orchard_management_revision (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL
);
INSERT INTO orchard_management_revision (id, revision) VALUES (1, 0);

CREATE TABLE orchard_principals (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('read-only', 'full')),
  -- No foreign key: a disabled administrator may keep the id of a group deleted since.
  group_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
);
CREATE INDEX orchard_principals_group ON orchard_principals (group_id);

ALTER TABLE orchard_admin_api_keys ADD COLUMN principal_id TEXT NOT NULL DEFAULT 'owner';
CREATE INDEX orchard_admin_api_keys_principal ON orchard_admin_api_keys (principal_id);

CREATE TABLE orchard_library_profiles (
  id TEXT PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES orchard_groups (id),
  identifier TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  assignment_type TEXT NOT NULL CHECK (assignment_type IN ('auto', 'optional', 'interactive')),
  latest_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX orchard_library_profiles_group ON orchard_library_profiles (group_id, id);

CREATE TABLE orchard_library_profile_versions (
  profile_id TEXT NOT NULL REFERENCES orchard_library_profiles (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  payload_uuid TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  content BLOB NOT NULL,
  uploaded_signer TEXT,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (profile_id, version)
);
`;

/** Seeds the root group and the owner, stamped `now` (the opening store's clock). */
export function seedManagement(db: Database.Database, now: number): void {
  db.prepare(
    "INSERT INTO orchard_groups (id, name, parent_id, created_at) VALUES ('global', 'Global', NULL, ?)",
  ).run(now);
  db.prepare(
    `INSERT INTO orchard_principals (id, name, role, group_id, created_at)
     VALUES ('owner', 'Owner', 'full', 'global', ?)`,
  ).run(now);
}

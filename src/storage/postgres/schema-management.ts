/** PostgreSQL schema (migration 1 part): groups, settings, principals, profile library, users, owners. Owner: area D. */
import type pg from 'pg';

/**
 * The DDL of this area, in migration 1: SQLite's migrations 7 and 8 (and its index of users by
 * policy) with PostgreSQL types. Ids, pages and policy ids are `COLLATE "C"`, so lists and
 * keyset cursors order by bytes as SQLite's BINARY does (area E's ids are "C" too). Usernames are unique by `lower(username COLLATE "C")`, which
 * folds ASCII letters only, as SQLite's NOCASE does.
 */
export const MANAGEMENT_SCHEMA = `
CREATE TABLE orchard_groups (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  -- Deferred: one change may delete or insert a parent and its child in either order.
  parent_id text COLLATE "C" REFERENCES orchard_groups (id) DEFERRABLE INITIALLY DEFERRED,
  created_at timestamptz NOT NULL
);
CREATE INDEX orchard_groups_parent ON orchard_groups (parent_id);

CREATE TABLE orchard_group_settings (
  group_id text COLLATE "C" NOT NULL REFERENCES orchard_groups (id) ON DELETE CASCADE,
  page text COLLATE "C" NOT NULL,
  values_json jsonb NOT NULL,
  child_permission text NOT NULL
    CHECK (child_permission IN ('inherit-only', 'override-only', 'inherit-or-override')),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (group_id, page)
);

CREATE TABLE orchard_management_revision (
  id integer PRIMARY KEY CHECK (id = 1),
  revision bigint NOT NULL
);

CREATE TABLE orchard_principals (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('read-only', 'full')),
  -- No foreign key: a disabled administrator may keep the id of a group deleted since.
  group_id text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);
CREATE INDEX orchard_principals_group ON orchard_principals (group_id);
CREATE INDEX orchard_principals_created ON orchard_principals (created_at, id);

CREATE TABLE orchard_library_profiles (
  id text COLLATE "C" PRIMARY KEY,
  group_id text COLLATE "C" NOT NULL REFERENCES orchard_groups (id),
  identifier text NOT NULL UNIQUE,
  name text NOT NULL,
  assignment_type text NOT NULL CHECK (assignment_type IN ('auto', 'optional', 'interactive')),
  latest_version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX orchard_library_profiles_group ON orchard_library_profiles (group_id, id);

CREATE TABLE orchard_library_profile_versions (
  profile_id text COLLATE "C" NOT NULL
    REFERENCES orchard_library_profiles (id) ON DELETE CASCADE,
  version integer NOT NULL,
  payload_uuid text NOT NULL,
  sha256 text NOT NULL,
  content bytea NOT NULL,
  uploaded_signer text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (profile_id, version)
);

CREATE TABLE orchard_users (
  id text COLLATE "C" PRIMARY KEY,
  username text NOT NULL,
  email text NOT NULL,
  first_name text,
  last_name text,
  group_id text COLLATE "C" NOT NULL REFERENCES orchard_groups (id),
  policy text COLLATE "C",
  managed_apple_id text,
  custom1 text,
  custom2 text,
  custom3 text,
  generic boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- SQLite's UNIQUE COLLATE NOCASE: lower() under "C" folds ASCII letters only; being "C", the
-- index also answers the generic users' LIKE prefix.
CREATE UNIQUE INDEX orchard_users_username ON orchard_users ((lower(username COLLATE "C")));
CREATE INDEX orchard_users_group ON orchard_users (group_id, id);
CREATE INDEX orchard_users_policy ON orchard_users (policy) WHERE policy IS NOT NULL;

CREATE TABLE orchard_enrollment_owners (
  enrollment_id text COLLATE "C" PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL REFERENCES orchard_users (id) ON DELETE CASCADE,
  group_id text COLLATE "C" NOT NULL REFERENCES orchard_groups (id) ON DELETE CASCADE,
  link_id text,
  assigned_at timestamptz NOT NULL
);
CREATE INDEX orchard_enrollment_owners_user
  ON orchard_enrollment_owners (user_id, assigned_at, enrollment_id);
CREATE INDEX orchard_enrollment_owners_group ON orchard_enrollment_owners (group_id);
`;

/**
 * Inserts the rows every database has (the root group `global`, the built-in `owner`
 * administrator, the management revision) stamped `now`, when absent (idempotent; runs at
 * every open, so a truncated test database is seeded again with the test's clock).
 */
export async function seedManagement(pool: pg.Pool, now: Date): Promise<void> {
  await pool.query(
    `INSERT INTO orchard_groups (id, name, parent_id, created_at)
     VALUES ('global', 'Global', NULL, $1) ON CONFLICT (id) DO NOTHING`,
    [now],
  );
  await pool.query(
    `INSERT INTO orchard_principals (id, name, role, group_id, created_at)
     VALUES ('owner', 'Owner', 'full', 'global', $1) ON CONFLICT (id) DO NOTHING`,
    [now],
  );
  await pool.query(
    `INSERT INTO orchard_management_revision (id, revision) VALUES (1, 0)
     ON CONFLICT (id) DO NOTHING`,
  );
}

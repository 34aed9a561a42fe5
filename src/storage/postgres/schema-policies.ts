/**
 * PostgreSQL schema (migration 1 part): policies, assignments, group default policies, device
 * profiles, reconcile records. Owner: area E.
 */

/**
 * The DDL of this area, in migration 1: SQLite's migration 9 with PostgreSQL types. Ids and
 * identifiers are `COLLATE "C"` so lists and keyset cursors order by bytes as SQLite's BINARY
 * does; constraints are named so the adapter can tell which one a write broke. The indexes of
 * users and links by policy are created here only when the earlier parts did not.
 */
export const POLICIES_SCHEMA = `
CREATE TABLE orchard_policies (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  -- The name folded by the adapter (policyNameKey), so every adapter agrees on which names clash.
  name_key text NOT NULL,
  description text,
  group_id text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT orchard_policies_name_key UNIQUE (name_key),
  CONSTRAINT orchard_policies_group_fk FOREIGN KEY (group_id) REFERENCES orchard_groups (id)
);
CREATE INDEX orchard_policies_group ON orchard_policies (group_id, id);

CREATE TABLE orchard_policy_assignments (
  policy_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  assignment_type text NOT NULL CHECK (assignment_type IN ('auto', 'optional', 'interactive')),
  removal text NOT NULL CHECK (removal IN ('always', 'with-authorization', 'never')),
  -- Sealed with the secrets key (purpose removal-password, bound to policy and profile).
  removal_password bytea,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (policy_id, profile_id),
  CONSTRAINT orchard_policy_assignments_policy_fk FOREIGN KEY (policy_id)
    REFERENCES orchard_policies (id) ON DELETE CASCADE,
  CONSTRAINT orchard_policy_assignments_profile_fk FOREIGN KEY (profile_id)
    REFERENCES orchard_library_profiles (id) ON DELETE CASCADE
);
CREATE INDEX orchard_policy_assignments_profile
  ON orchard_policy_assignments (profile_id, policy_id);

-- No foreign key to the policy: references are the policy service's to check, as for users.
CREATE TABLE orchard_group_policies (
  group_id text COLLATE "C" PRIMARY KEY,
  policy_id text COLLATE "C" NOT NULL,
  CONSTRAINT orchard_group_policies_group_fk FOREIGN KEY (group_id)
    REFERENCES orchard_groups (id) ON DELETE CASCADE
);
CREATE INDEX orchard_group_policies_policy ON orchard_group_policies (policy_id);

CREATE TABLE orchard_device_profiles (
  enrollment_id text COLLATE "C" NOT NULL,
  identifier text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  payload_uuid text,
  state text NOT NULL CHECK (state IN
    ('pending', 'installed', 'failed', 'skipped', 'blocked', 'removing', 'removed')),
  reason text,
  channel text NOT NULL CHECK (channel IN ('policy', 'admin', 'user')),
  command_uuid text,
  installed_at timestamptz,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (enrollment_id, identifier)
);
CREATE INDEX orchard_device_profiles_profile
  ON orchard_device_profiles (profile_id, enrollment_id, identifier);
CREATE INDEX orchard_device_profiles_command
  ON orchard_device_profiles (enrollment_id, command_uuid) WHERE command_uuid IS NOT NULL;

CREATE TABLE orchard_profile_reconcile (
  enrollment_id text COLLATE "C" PRIMARY KEY,
  command_uuid text,
  queued_at timestamptz,
  reconciled_at timestamptz
);

CREATE INDEX IF NOT EXISTS orchard_users_policy ON orchard_users (policy) WHERE policy IS NOT NULL;
CREATE INDEX IF NOT EXISTS orchard_admin_enrollment_tokens_policy
  ON orchard_admin_enrollment_tokens (policy) WHERE policy IS NOT NULL;
`;

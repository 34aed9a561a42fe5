/**
 * Migration 9's schema: policies (names unique case-insensitively through a key column the
 * adapter computes), their profile assignments (removal passwords sealed at rest), the groups'
 * default policies, what Orchard sent to each enrollment, and reconciliation times. Its data step
 * turns the policy names users and links held before policies existed into policies of the root
 * group. Kept apart from `migrations.ts` for size; released migrations are never edited.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { policyNameKey } from '../policies-check.js';

/** The tables and indexes. */
export const POLICIES_SCHEMA = `
CREATE TABLE orchard_policies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- The name folded by the adapter (policyNameKey), so both adapters agree on which names clash.
  name_key TEXT NOT NULL UNIQUE,
  description TEXT,
  group_id TEXT NOT NULL REFERENCES orchard_groups (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX orchard_policies_group ON orchard_policies (group_id, id);

CREATE TABLE orchard_policy_assignments (
  policy_id TEXT NOT NULL REFERENCES orchard_policies (id) ON DELETE CASCADE,
  profile_id TEXT NOT NULL REFERENCES orchard_library_profiles (id) ON DELETE CASCADE,
  assignment_type TEXT NOT NULL CHECK (assignment_type IN ('auto', 'optional', 'interactive')),
  removal TEXT NOT NULL CHECK (removal IN ('always', 'with-authorization', 'never')),
  -- Sealed with the secrets key (purpose removal-password, bound to policy and profile).
  removal_password BLOB,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (policy_id, profile_id)
);
CREATE INDEX orchard_policy_assignments_profile
  ON orchard_policy_assignments (profile_id, policy_id);

-- No foreign key to the policy: references are the policy service's to check, as for users.
CREATE TABLE orchard_group_policies (
  group_id TEXT PRIMARY KEY REFERENCES orchard_groups (id) ON DELETE CASCADE,
  policy_id TEXT NOT NULL
);
CREATE INDEX orchard_group_policies_policy ON orchard_group_policies (policy_id);

CREATE TABLE orchard_device_profiles (
  enrollment_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  payload_uuid TEXT,
  state TEXT NOT NULL CHECK (state IN
    ('pending', 'installed', 'failed', 'skipped', 'blocked', 'removing', 'removed')),
  reason TEXT,
  channel TEXT NOT NULL CHECK (channel IN ('policy', 'admin', 'user')),
  command_uuid TEXT,
  installed_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (enrollment_id, identifier)
);
CREATE INDEX orchard_device_profiles_profile
  ON orchard_device_profiles (profile_id, enrollment_id, identifier);
CREATE INDEX orchard_device_profiles_command
  ON orchard_device_profiles (enrollment_id, command_uuid) WHERE command_uuid IS NOT NULL;

CREATE TABLE orchard_profile_reconcile (
  enrollment_id TEXT PRIMARY KEY,
  command_uuid TEXT,
  queued_at INTEGER,
  reconciled_at INTEGER
);

CREATE INDEX orchard_users_policy ON orchard_users (policy) WHERE policy IS NOT NULL;
CREATE INDEX orchard_admin_enrollment_tokens_policy
  ON orchard_admin_enrollment_tokens (policy) WHERE policy IS NOT NULL;
`;

/** A fresh policy id: `pol_` and 32 hex digits. */
export function newPolicyId(): string {
  return `pol_${randomUUID().replace(/-/g, '')}`;
}

/**
 * Turns the policy names of users and links (free text before policies existed) into policies of
 * the root group, one per name (names differing only in case become one, named by the spelling
 * most rows use), and rewrites both
 * columns to the new ids (a blank name becomes no policy). Runs inside migration 9's transaction; `now` stamps the policies.
 */
export function convertPolicyNames(db: Database.Database, now: number): void {
  // Most used spelling first, so it names the policy its case variants join.
  const names = db
    .prepare(
      `SELECT policy FROM (
         SELECT policy FROM orchard_users WHERE policy IS NOT NULL
         UNION ALL SELECT policy FROM orchard_admin_enrollment_tokens WHERE policy IS NOT NULL)
       GROUP BY policy ORDER BY count(*) DESC, policy`,
    )
    .pluck()
    .all() as string[];
  const insert = db.prepare(
    `INSERT INTO orchard_policies (id, name, name_key, description, group_id, created_at, updated_at)
     VALUES (?, ?, ?, NULL, 'global', ?, ?)`,
  );
  const users = db.prepare('UPDATE orchard_users SET policy = ? WHERE policy = ?');
  const links = db.prepare(
    'UPDATE orchard_admin_enrollment_tokens SET policy = ? WHERE policy = ?',
  );
  const byKey = new Map<string, string>();
  for (const name of names) {
    if (name.trim() === '') {
      // A blank name never meant a policy: the user or link has none.
      users.run(null, name);
      links.run(null, name);
      continue;
    }
    const key = policyNameKey(name);
    let id = byKey.get(key);
    if (id === undefined) {
      id = newPolicyId();
      byKey.set(key, id);
      insert.run(id, name, key, now, now);
    }
    users.run(id, name);
    links.run(id, name);
  }
}

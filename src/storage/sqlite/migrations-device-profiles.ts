/**
 * Migration 14's schema: `orchard_device_profiles` rebuilt as a `WITHOUT ROWID` table clustered
 * on its key (enrollment, identifier), without the `orchard_device_profiles_command` index. A
 * record write then touches two B-trees (the table and the by-profile index) instead of four
 * (rowid table, primary key, by-profile, by-command): a policy change to 100,000 devices writes
 * 100,000 records. The by-command lookup always names the enrollment, so the key's prefix serves
 * it (a device holds a few records). Kept apart from `migrations.ts` for size; released
 * migrations are never edited.
 */

/** The rebuild: copy into the new layout, drop the old table, rename, recreate the index. */
export const DEVICE_PROFILES_WITHOUT_ROWID_SCHEMA = `
CREATE TABLE orchard_device_profiles_new (
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
) WITHOUT ROWID;
INSERT INTO orchard_device_profiles_new (enrollment_id, identifier, profile_id, version,
    payload_uuid, state, reason, channel, command_uuid, installed_at, updated_at)
  SELECT enrollment_id, identifier, profile_id, version, payload_uuid, state, reason, channel,
    command_uuid, installed_at, updated_at
  FROM orchard_device_profiles ORDER BY enrollment_id, identifier;
DROP TABLE orchard_device_profiles;
ALTER TABLE orchard_device_profiles_new RENAME TO orchard_device_profiles;
-- In a WITHOUT ROWID table every index ends with the key: (profile, enrollment, identifier).
CREATE INDEX orchard_device_profiles_profile
  ON orchard_device_profiles (profile_id, enrollment_id, identifier);
`;

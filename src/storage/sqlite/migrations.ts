/**
 * The one versioned schema of Orchard's SQLite database: MDM storage, certificate authority,
 * SCEP challenges, sealed-secrets bookkeeping, the admin tables, the management tables, users and
 * policies. Each migration runs once, in
 * its own transaction, and is recorded in `schema_migrations`, the only version record. The SQL
 * stays close to what PostgreSQL accepts (partial indexes, no SQLite-only column types) so a
 * later adapter can reuse its shape. Times are integer milliseconds since the epoch.
 */
import type Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import { adoptAdminTables, adoptCaTables } from './migrations-adopt.js';
import { MANAGEMENT_SCHEMA, seedManagement } from './migrations-management.js';
import { convertPolicyNames, POLICIES_SCHEMA } from './migrations-policies.js';
import { USERS_SCHEMA } from './migrations-users.js';
import { ACME_SCHEMA } from './migrations-acme.js';
import { ACME_IDENTIFIERS_SCHEMA } from './migrations-acme-identifiers.js';
import { WEB_SCHEMA } from './migrations-web.js';
import { COORDINATION_SCHEMA } from './migrations-coordination.js';
import { DEVICE_PROFILES_WITHOUT_ROWID_SCHEMA } from './migrations-device-profiles.js';

/** One schema change. Versions are consecutive from 1 and never edited once released. */
export interface Migration {
  version: number;
  name: string;
  /** The change, run first (may be empty). */
  sql: string;
  /**
   * What `sql` cannot say: a change that depends on what the file already holds, such as
   * adopting the tables of Orchard 0.1's separately versioned stores. Runs after `sql`, in the
   * same transaction; `now` is the migrating store's clock (ms).
   */
  apply?: (db: Database.Database, now: number) => void;
}

const PENDING = `('queued', 'sent', 'NotNow')`;
const FINISHED = `('Acknowledged', 'Error', 'CommandFormatError', 'canceled', 'expired')`;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE enrollments (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  device_id TEXT NOT NULL,
  parent_id TEXT,
  user_id TEXT,
  user_short_name TEXT,
  user_long_name TEXT,
  enrolled INTEGER NOT NULL DEFAULT 0,
  facts TEXT NOT NULL DEFAULT '{}',
  token_update_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  unlock_token BLOB
);
CREATE INDEX enrollments_enrolled ON enrollments (enrolled, id);

CREATE TABLE push_info (
  enrollment_id TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  push_magic TEXT NOT NULL,
  topic TEXT NOT NULL,
  invalidated_at INTEGER
);

CREATE TABLE cert_bindings (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  enrollment_id TEXT NOT NULL UNIQUE,
  cert_hash TEXT NOT NULL,
  bound_at INTEGER NOT NULL
);
CREATE INDEX cert_bindings_hash ON cert_bindings (cert_hash, seq);

CREATE TABLE bootstrap_tokens (
  enrollment_id TEXT PRIMARY KEY,
  sealed BLOB NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE commands (
  uuid TEXT PRIMARY KEY,
  request_type TEXT NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX commands_expiring ON commands (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE command_targets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  command_uuid TEXT NOT NULL REFERENCES commands (uuid) ON DELETE CASCADE,
  enrollment_id TEXT NOT NULL,
  status TEXT NOT NULL,
  result BLOB,
  updated_at INTEGER NOT NULL,
  UNIQUE (command_uuid, enrollment_id)
);
CREATE INDEX command_targets_queue ON command_targets (enrollment_id, seq);
CREATE INDEX command_targets_pending ON command_targets (enrollment_id, seq)
  WHERE status IN ${PENDING};
CREATE INDEX command_targets_finished ON command_targets (updated_at)
  WHERE status IN ${FINISHED};

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  dead_at INTEGER
);
CREATE INDEX outbox_open ON outbox (created_at, seq) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'certificate binding details',
    // What a binding decision needs beyond the hash: the bound certificate's serial and expiry
    // (re-enrollment after it expired or was revoked), when the binding ended (CheckOut,
    // unenrolment), an administrator's re-enrollment window, and the identity renewal in flight.
    sql: `
ALTER TABLE cert_bindings ADD COLUMN serial TEXT;
ALTER TABLE cert_bindings ADD COLUMN not_after INTEGER;
ALTER TABLE cert_bindings ADD COLUMN ended_at INTEGER;
ALTER TABLE cert_bindings ADD COLUMN reenroll_until INTEGER;
ALTER TABLE cert_bindings ADD COLUMN renewal_command TEXT;
ALTER TABLE cert_bindings ADD COLUMN renewal_requested_at INTEGER;
CREATE INDEX cert_bindings_not_after ON cert_bindings (not_after) WHERE ended_at IS NULL;
`,
  },
  {
    version: 3,
    name: 'push outcome per command target',
    // The latest push for each target: accepted, failed, deferred or no-token, with APNs's reason
    // or the transport error, the apns-id, and when it was recorded.
    sql: `
ALTER TABLE command_targets ADD COLUMN push_outcome TEXT;
ALTER TABLE command_targets ADD COLUMN push_reason TEXT;
ALTER TABLE command_targets ADD COLUMN push_apns_id TEXT;
ALTER TABLE command_targets ADD COLUMN push_at INTEGER;
`,
  },
  {
    version: 4,
    name: 'sealed secrets bookkeeping',
    // The keys a database was sealed with (by fingerprint) and which kinds of value are sealed.
    // Orchard 0.1 created these tables outside the migrations, hence IF NOT EXISTS.
    sql: `
CREATE TABLE IF NOT EXISTS secrets_keys (
  key_id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets_sealed (
  purpose TEXT PRIMARY KEY,
  sealed_at INTEGER NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'certificate authority and SCEP challenges',
    // Issued certificates (UNIQUE serial: duplicate issuance is impossible across processes) and
    // one-time challenges by digest; adopts the tables Orchard 0.1 versioned in orchard_ca_meta.
    sql: '',
    apply: adoptCaTables,
  },
  {
    version: 6,
    name: 'admin tables',
    // API keys and enrollment links (by hash), the audit log and settings; adopts 0.1's tables.
    sql: '',
    apply: adoptAdminTables,
  },
  {
    version: 7,
    name: 'organization groups, administrators and the profile library',
    // Groups with their settings records and one revision row, administrators (existing API keys
    // belong to the owner), library profiles and their versions; seeds the root and the owner.
    sql: MANAGEMENT_SCHEMA,
    apply: seedManagement,
  },
  {
    version: 8,
    name: 'users, enrollment owners and personal and generic links',
    // Users in groups, who each enrollment belongs to, and the kind, owner, kept secret and
    // life-cycle times of enrollment links (existing links are single).
    sql: USERS_SCHEMA,
  },
  {
    version: 9,
    name: 'policies, assignments and device profile records',
    // Policies owned by groups with their assignments (removal passwords sealed), the groups'
    // default policies, what Orchard sent to each enrollment and when it was last reconciled;
    // the policy names users and links held become policies of the root group.
    sql: POLICIES_SCHEMA,
    apply: convertPolicyNames,
  },
  {
    version: 10,
    name: 'portal and console sessions, passwords and password-setup tokens',
    // Browser sessions by token hash (shared by every daemon on the database), scrypt password
    // hashes of users and administrators, one-time setup tokens by hash.
    sql: WEB_SCHEMA,
  },
  {
    version: 11,
    name: 'ACME nonces, accounts, orders, authorizations and challenges',
    // The ACME server's state (issue 22): nonces consumed by one DELETE, accounts unique by key
    // thumbprint, orders with their authorizations and challenges moved by conditional UPDATEs.
    sql: ACME_SCHEMA,
  },
  {
    version: 12,
    name: 'ACME one-time ClientIdentifiers and attested devices',
    // One-time values of enrollment-profile downloads by digest (bound to the first account,
    // used up by one conditional UPDATE) and the device each ACME certificate was attested for.
    sql: ACME_IDENTIFIERS_SCHEMA,
  },
  {
    version: 13,
    name: 'coordination: shared rate buckets, job leases, notification topics',
    // What the processes on one file share (issue 20): a token bucket per scope and key taken by
    // one upsert, a lease per singleton job, and a version per topic that listeners poll.
    sql: COORDINATION_SCHEMA,
  },
  {
    version: 14,
    name: 'device profile records clustered on their key',
    // orchard_device_profiles as WITHOUT ROWID, without the by-command index (the key's prefix
    // serves that lookup): a record write touches two B-trees, not four (issue 20).
    sql: DEVICE_PROFILES_WITHOUT_ROWID_SCHEMA,
  },
];

/** SQL fragment: the pending statuses, matching the partial index. */
export const PENDING_STATUSES_SQL = PENDING;
/** SQL fragment: the finished statuses, matching the partial index. */
export const FINISHED_STATUSES_SQL = FINISHED;

function currentVersion(db: Database.Database): number {
  return (
    (db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number | null) ?? 0
  );
}

/**
 * Applies every migration newer than the database's version, each in one IMMEDIATE transaction
 * (a failure rolls that migration back and leaves the earlier ones applied). The version is read
 * again under the write lock, so of two processes opening an old file one migrates and the other
 * finds it done. Resolves the version reached; a second call is a no-op that takes no write lock.
 * Throws StorageError (with `detail.schemaVersion`) when the database is newer than this code.
 */
export function migrate(db: Database.Database, now: number, migrations = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const current = currentVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new StorageError(
      `database schema version ${current} is newer than this Orchard (${latest}); upgrade Orchard or restore a backup`,
      { detail: { schemaVersion: current, supportedVersion: latest } },
    );
  }
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      if (currentVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      migration.apply?.(db, now);
      record.run(migration.version, migration.name, now);
    }).immediate();
  }
  return latest;
}

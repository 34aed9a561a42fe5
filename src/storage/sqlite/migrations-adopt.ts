/**
 * Migrations that bring the tables of Orchard 0.1's separately versioned stores under the one
 * migration runner: the certificate authority's (`orchard_ca_*`, versioned in `orchard_ca_meta`,
 * schemas 1 to 3) and the admin tables (`orchard_admin_*`, unversioned). A file that has them is
 * brought to the current shape in place and keeps every row; a file without them gets them new.
 */
import type Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';

/**
 * Certificates live in a rowid table: rows (with their ~1.2 KB DER) are appended and only the
 * small `(serial_len, serial)` index entry lands at a random place. `serial_len` is the length of
 * the normalised serial, so the pair is unique exactly when the serial is, and the index also
 * gives the listing order (numeric order of the hex serials).
 */
const CERTIFICATES = (name: string): string => `
CREATE TABLE ${name} (
  id INTEGER PRIMARY KEY,
  serial TEXT NOT NULL,
  serial_len INTEGER NOT NULL,
  subject TEXT NOT NULL,
  enrollment_id TEXT,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  der BLOB NOT NULL,
  revoked_at INTEGER,
  revocation_reason TEXT
);`;

const CERTIFICATE_INDEXES = `
CREATE UNIQUE INDEX orchard_ca_certificates_serial ON orchard_ca_certificates (serial_len, serial);
CREATE INDEX orchard_ca_certificates_enrollment
  ON orchard_ca_certificates (enrollment_id) WHERE enrollment_id IS NOT NULL;`;

const CHALLENGES = `
CREATE TABLE IF NOT EXISTS orchard_ca_challenges (
  digest BLOB PRIMARY KEY,
  enrollment_id TEXT,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orchard_ca_challenges_expiry ON orchard_ca_challenges (expires_at);`;

const COLUMNS = `serial, serial_len, subject, enrollment_id, not_before, not_after, issued_at, der,
  revoked_at, revocation_reason`;

/** CA schema 2 to 3: the certificate's id and what it renewed (the binding decision needs them). */
const CA_2_TO_3 = `
ALTER TABLE orchard_ca_certificates ADD COLUMN cert_id TEXT;
ALTER TABLE orchard_ca_certificates ADD COLUMN renewal_of TEXT;`;

/**
 * CA schema 1 to 2: schema 1 kept certificates in a `WITHOUT ROWID` table keyed by the random
 * serial (a random leaf of large rows rewritten per insert); copy them in serial order and swap.
 */
const CA_1_TO_2 = `
${CERTIFICATES('orchard_ca_certificates_v2')}
INSERT INTO orchard_ca_certificates_v2 (${COLUMNS})
  SELECT ${COLUMNS} FROM orchard_ca_certificates ORDER BY serial_len, serial;
DROP TABLE orchard_ca_certificates;
ALTER TABLE orchard_ca_certificates_v2 RENAME TO orchard_ca_certificates;
${CERTIFICATE_INDEXES}`;

const CA_STEPS: Record<string, string> = {
  none: CERTIFICATES('orchard_ca_certificates') + CERTIFICATE_INDEXES + CA_2_TO_3,
  '1': CA_1_TO_2 + CA_2_TO_3,
  '2': CA_2_TO_3,
  '3': '',
};

function hasTable(db: Database.Database, name: string): boolean {
  return (
    db
      .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
      .pluck()
      .get(name) === 1
  );
}

/**
 * The CA tables at the current shape, from whichever CA schema the file holds; its own version
 * record (`orchard_ca_meta`) is dropped. Throws StorageError for a CA schema it does not know.
 */
export function adoptCaTables(db: Database.Database): void {
  const version = hasTable(db, 'orchard_ca_meta')
    ? ((db.prepare("SELECT value FROM orchard_ca_meta WHERE key = 'schema'").pluck().get() as
        string | undefined) ?? 'none')
    : 'none';
  const step = CA_STEPS[version];
  if (step === undefined)
    throw new StorageError(`unknown CA schema version ${version} in orchard_ca_meta`, {
      detail: { caSchemaVersion: version },
    });
  db.exec(step + CHALLENGES + 'DROP TABLE IF EXISTS orchard_ca_meta;');
}

const ADMIN = `
CREATE TABLE IF NOT EXISTS orchard_admin_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orchard_admin_api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL CHECK (scope IN ('read','write')),
  hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS orchard_admin_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orchard_admin_enrollment_tokens (
  id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, single_use INTEGER NOT NULL,
  uses INTEGER NOT NULL DEFAULT 0, expires_at INTEGER, user_name TEXT,
  created_at INTEGER NOT NULL, revoked_at INTEGER, enrollments INTEGER NOT NULL DEFAULT 0);
`;

/**
 * The admin tables, created when absent. A links table from before the `enrollments` column
 * gets it; a single-use link was spent by its first download then, so such links stay spent.
 */
export function adoptAdminTables(db: Database.Database): void {
  db.exec(ADMIN);
  const columns = db.prepare('PRAGMA table_info(orchard_admin_enrollment_tokens)').all() as {
    name: string;
  }[];
  if (columns.some((c) => c.name === 'enrollments')) return;
  db.exec(`ALTER TABLE orchard_admin_enrollment_tokens
    ADD COLUMN enrollments INTEGER NOT NULL DEFAULT 0;
  UPDATE orchard_admin_enrollment_tokens SET enrollments = 1 WHERE single_use = 1 AND uses > 0;`);
}

/**
 * SQLite storage of the certificate authority and of one-time SCEP challenges, on better-sqlite3:
 * its own tables (`orchard_ca_*`) and migration, so it can share a file with the MDM storage.
 * The UNIQUE index on the serial makes duplicate issuance impossible across processes. The driver
 * is loaded on the first open. Embedders import it from `orchard-mdm/sqlite`, not the main entry.
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { CertificateAuthorityError, StorageError } from '../../errors.js';
import type { ChallengeStore, StoredChallenge } from '../scep/challenge.js';
import {
  normaliseSerial,
  type CertificateStore,
  type IssuedCertificate,
  type ListIssuedOptions,
} from './store.js';

/** Options of {@link openSqliteCaStorage}. */
export interface SqliteCaStorageOptions {
  /** Database file (created when absent) or `:memory:`. */
  path: string;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
}

/** The stores {@link openSqliteCaStorage} returns, and a `close`. */
export interface SqliteCaStorage {
  certificates: CertificateStore;
  challenges: ChallengeStore;
  close(): void;
}

/**
 * Schema 2. Certificates live in a rowid table: rows (with their ~1.2 KB DER) are appended and only
 * the small `(serial_len, serial)` index entry lands at a random place, where schema 1 (a
 * `WITHOUT ROWID` table keyed by the random serial) rewrote a random leaf of large rows per insert.
 * `serial_len` is the length of the normalised serial, so the pair is unique exactly when the
 * serial is, and the index also gives the listing order (numeric order of the hex serials).
 */
const CERTIFICATES_TABLE_2 = (name: string): string => `
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

const CERTIFICATE_INDEXES_2 = `
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
/** Schema 3 adds what the binding decision needs: the certificate's id and what it renewed. */
const READ_COLUMNS = `${COLUMNS}, cert_id, renewal_of`;
const MIGRATE_2_TO_3 = `
ALTER TABLE orchard_ca_certificates ADD COLUMN cert_id TEXT;
ALTER TABLE orchard_ca_certificates ADD COLUMN renewal_of TEXT;`;

/** Schema 1 to 2: copies the certificates into the rowid table in serial order, then swaps. */
const MIGRATE_1_TO_2 = `
${CERTIFICATES_TABLE_2('orchard_ca_certificates_v2')}
INSERT INTO orchard_ca_certificates_v2 (${COLUMNS})
  SELECT ${COLUMNS} FROM orchard_ca_certificates ORDER BY serial_len, serial;
DROP TABLE orchard_ca_certificates;
ALTER TABLE orchard_ca_certificates_v2 RENAME TO orchard_ca_certificates;
${CERTIFICATE_INDEXES_2}`;

const SCHEMA = '3';

/**
 * The serial lookup of `findIssued`. It names `serial_len` too, so it is a SEARCH on the UNIQUE
 * `(serial_len, serial)` index. Exported for the query-plan test; not part of the package API.
 */
export const FIND_ISSUED_SQL = `SELECT ${READ_COLUMNS} FROM orchard_ca_certificates
  WHERE serial_len = ? AND serial = ?`;

interface Row {
  serial: string;
  subject: string;
  enrollment_id: string | null;
  not_before: number;
  not_after: number;
  issued_at: number;
  der: Buffer;
  revoked_at: number | null;
  revocation_reason: string | null;
  cert_id: string | null;
  renewal_of: string | null;
}

function schemaVersion(db: Database.Database): string | undefined {
  const row = db.prepare("SELECT value FROM orchard_ca_meta WHERE key = 'schema'").get() as
    { value: string } | undefined;
  return row?.value;
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS orchard_ca_meta (key TEXT PRIMARY KEY, value TEXT)');
  if (schemaVersion(db) === SCHEMA) return;
  // BEGIN IMMEDIATE takes the write lock before the version is read again, so of two processes
  // opening an old file at once one migrates and the other (after busy_timeout) finds schema 2.
  db.transaction(() => {
    const version = schemaVersion(db);
    if (version === SCHEMA) return;
    if (version === undefined) {
      db.exec(
        CERTIFICATES_TABLE_2('orchard_ca_certificates') +
          CERTIFICATE_INDEXES_2 +
          CHALLENGES +
          MIGRATE_2_TO_3,
      );
    } else if (version === '1') {
      db.exec(MIGRATE_1_TO_2 + MIGRATE_2_TO_3);
    } else if (version === '2') {
      db.exec(MIGRATE_2_TO_3);
    } else {
      throw new Error(`unknown CA schema version ${version}`);
    }
    db.prepare("INSERT OR REPLACE INTO orchard_ca_meta (key, value) VALUES ('schema', ?)").run(
      SCHEMA,
    );
  }).immediate();
}

function toRecord(row: Row): IssuedCertificate {
  const r: IssuedCertificate = {
    serial: row.serial,
    subject: row.subject,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    issuedAt: new Date(row.issued_at),
    der: row.der,
  };
  if (row.enrollment_id !== null) r.enrollmentId = row.enrollment_id;
  if (row.revoked_at !== null) r.revokedAt = new Date(row.revoked_at);
  if (row.revocation_reason !== null) r.revocationReason = row.revocation_reason;
  if (row.cert_id !== null) r.certId = row.cert_id;
  if (row.renewal_of !== null) r.renewalOf = row.renewal_of;
  return r;
}

/** Runs `fn`, turning driver failures into `StorageError` (503) and keeping our own errors. */
function guarded<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (cause) {
    if (cause instanceof CertificateAuthorityError) return Promise.reject(cause);
    return Promise.reject(new StorageError('CA storage failed', { cause }));
  }
}

function certificateStore(db: Database.Database): CertificateStore {
  const insert = db.prepare(
    `INSERT INTO orchard_ca_certificates (serial, serial_len, subject, enrollment_id, not_before,
       not_after, issued_at, der, cert_id, renewal_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const find = db.prepare(FIND_ISSUED_SQL);
  const revoke = db.prepare(
    `UPDATE orchard_ca_certificates SET revoked_at = coalesce(revoked_at, ?),
       revocation_reason = coalesce(revocation_reason, ?) WHERE serial_len = ? AND serial = ?`,
  );
  const count = db.prepare('SELECT count(*) AS n FROM orchard_ca_certificates').pluck();
  return {
    recordIssued: (given) =>
      guarded(() => {
        const r = { ...given, serial: normaliseSerial(given.serial) };
        try {
          insert.run(
            r.serial,
            r.serial.length,
            r.subject,
            r.enrollmentId ?? null,
            r.notBefore.getTime(),
            r.notAfter.getTime(),
            r.issuedAt.getTime(),
            r.der,
            r.certId ?? null,
            r.renewalOf ?? null,
          );
        } catch (cause) {
          const code = (cause as { code?: string }).code;
          // UNIQUE from the schema 2 index; PRIMARYKEY is what the schema 1 table raised.
          if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new CertificateAuthorityError('ERR_CA_SERIAL_CONFLICT', 'serial already issued');
          }
          throw cause;
        }
      }),
    findIssued: (serial) =>
      guarded(() => {
        const s = normaliseSerial(serial);
        const row = find.get(s.length, s) as Row | undefined;
        return row ? toRecord(row) : undefined;
      }),
    revoke: (serial, at, reason) =>
      guarded(() => {
        const s = normaliseSerial(serial);
        return revoke.run(at.getTime(), reason ?? null, s.length, s).changes > 0;
      }),
    listIssued: (options) => guarded(() => list(db, options ?? {})),
    countIssued: () => guarded(() => count.get() as number),
  };
}

function list(db: Database.Database, options: ListIssuedOptions): IssuedCertificate[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (options.enrollmentId !== undefined) {
    where.push('enrollment_id = ?');
    params.push(options.enrollmentId);
  }
  if (options.after !== undefined) {
    const after = normaliseSerial(options.after);
    where.push('(serial_len > ? OR (serial_len = ? AND serial > ?))');
    params.push(after.length, after.length, after);
  }
  const sql = `SELECT ${READ_COLUMNS} FROM orchard_ca_certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY serial_len, serial LIMIT ?`;
  return (db.prepare(sql).all(...params, options.limit ?? 100) as Row[]).map(toRecord);
}

function challengeStore(db: Database.Database): ChallengeStore {
  const put = db.prepare(
    'INSERT OR REPLACE INTO orchard_ca_challenges (digest, enrollment_id, expires_at) VALUES (?, ?, ?)',
  );
  // DELETE ... RETURNING is one statement: two concurrent consumers cannot both get the row.
  const take = db.prepare(
    'DELETE FROM orchard_ca_challenges WHERE digest = ? RETURNING enrollment_id, expires_at',
  );
  const purge = db.prepare('DELETE FROM orchard_ca_challenges WHERE expires_at <= ?');
  return {
    put: (c) =>
      guarded(() => {
        put.run(c.digest, c.enrollmentId ?? null, c.expiresAt.getTime());
      }),
    consume: (digest, now) =>
      guarded(() => {
        const row = take.get(digest) as
          { enrollment_id: string | null; expires_at: number } | undefined;
        if (row === undefined || row.expires_at <= now.getTime()) return undefined;
        const out: StoredChallenge = { digest, expiresAt: new Date(row.expires_at) };
        if (row.enrollment_id !== null) out.enrollmentId = row.enrollment_id;
        return out;
      }),
    purgeExpired: (now) => guarded(() => purge.run(now.getTime()).changes),
  };
}

/**
 * Opens (and migrates) the CA tables in a SQLite file in WAL mode. Throws `StorageError` when
 * the file cannot be opened or migrated. Import it from `orchard-mdm/sqlite`.
 */
export function openSqliteCaStorage(options: SqliteCaStorageOptions): SqliteCaStorage {
  let db: Database.Database | undefined;
  try {
    const Driver = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    db = new Driver(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (cause) {
    db?.close();
    throw new StorageError('cannot open the CA database', { cause });
  }
  const opened = db;
  return {
    certificates: certificateStore(opened),
    challenges: challengeStore(opened),
    close: () => {
      opened.close();
    },
  };
}

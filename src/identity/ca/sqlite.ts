/**
 * SQLite storage of the certificate authority and of one-time SCEP challenges, on better-sqlite3:
 * its own tables (`orchard_ca_*`) and migration, so it can share a file with the MDM storage.
 * The PRIMARY KEY on the serial makes duplicate issuance impossible across processes. The driver
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

const MIGRATION_1 = `
CREATE TABLE IF NOT EXISTS orchard_ca_certificates (
  serial TEXT PRIMARY KEY,
  serial_len INTEGER NOT NULL,
  subject TEXT NOT NULL,
  enrollment_id TEXT,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  der BLOB NOT NULL,
  revoked_at INTEGER,
  revocation_reason TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orchard_ca_certificates_order ON orchard_ca_certificates (serial_len, serial);
CREATE INDEX IF NOT EXISTS orchard_ca_certificates_enrollment
  ON orchard_ca_certificates (enrollment_id) WHERE enrollment_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS orchard_ca_challenges (
  digest BLOB PRIMARY KEY,
  enrollment_id TEXT,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orchard_ca_challenges_expiry ON orchard_ca_challenges (expires_at);
`;

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
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS orchard_ca_meta (key TEXT PRIMARY KEY, value TEXT)');
  const row = db.prepare("SELECT value FROM orchard_ca_meta WHERE key = 'schema'").get() as
    { value: string } | undefined;
  if (row?.value === '1') return;
  db.transaction(() => {
    db.exec(MIGRATION_1);
    db.prepare("INSERT OR REPLACE INTO orchard_ca_meta (key, value) VALUES ('schema', '1')").run();
  })();
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
       not_after, issued_at, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const find = db.prepare('SELECT * FROM orchard_ca_certificates WHERE serial = ?');
  const revoke = db.prepare(
    `UPDATE orchard_ca_certificates SET revoked_at = coalesce(revoked_at, ?),
       revocation_reason = coalesce(revocation_reason, ?) WHERE serial = ?`,
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
          );
        } catch (cause) {
          if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new CertificateAuthorityError('ERR_CA_SERIAL_CONFLICT', 'serial already issued');
          }
          throw cause;
        }
      }),
    findIssued: (serial) =>
      guarded(() => {
        const row = find.get(normaliseSerial(serial)) as Row | undefined;
        return row ? toRecord(row) : undefined;
      }),
    revoke: (serial, at, reason) =>
      guarded(() => revoke.run(at.getTime(), reason ?? null, normaliseSerial(serial)).changes > 0),
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
  const sql = `SELECT * FROM orchard_ca_certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
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
  let db: Database.Database;
  try {
    const Driver = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    db = new Driver(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (cause) {
    throw new StorageError('cannot open the CA database', { cause });
  }
  return {
    certificates: certificateStore(db),
    challenges: challengeStore(db),
    close: () => {
      db.close();
    },
  };
}

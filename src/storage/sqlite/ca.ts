/**
 * The certificate authority's records and the one-time SCEP challenges in SQLite (tables
 * `orchard_ca_*`, migration 5). The UNIQUE `(serial_len, serial)` index makes duplicate issuance
 * impossible across processes; `DELETE ... RETURNING` makes consuming a challenge atomic.
 */
import { CertificateAuthorityError, StorageError } from '../../errors.js';
import { normaliseSerial } from '../../identity/ca/store.js';
import type {
  CertificateStore,
  ChallengeStore,
  IssuedCertificate,
  ListIssuedOptions,
  StoredChallenge,
} from '../ports.js';
import { closedError } from '../support.js';
import { stmt, type SqliteContext } from './db.js';

const COLUMNS = `serial, serial_len, subject, enrollment_id, not_before, not_after, issued_at, der,
  revoked_at, revocation_reason, cert_id, renewal_of`;

/**
 * The serial lookup of `findIssued`. It names `serial_len` too, so it is a SEARCH on the UNIQUE
 * `(serial_len, serial)` index. Exported for the query-plan test; not part of the package API.
 */
export const FIND_ISSUED_SQL = `SELECT ${COLUMNS} FROM orchard_ca_certificates
  WHERE serial_len = ? AND serial = ?`;

/** The per-request revocation check: the unique index's row, no DER. */
const IS_REVOKED_SQL = `SELECT revoked_at IS NOT NULL AS revoked FROM orchard_ca_certificates
  WHERE serial_len = ? AND serial = ?`;

const INSERT = `INSERT INTO orchard_ca_certificates (serial, serial_len, subject, enrollment_id,
  not_before, not_after, issued_at, der, cert_id, renewal_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const REVOKE = `UPDATE orchard_ca_certificates SET revoked_at = coalesce(revoked_at, ?),
  revocation_reason = coalesce(revocation_reason, ?) WHERE serial_len = ? AND serial = ?`;

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

/** Runs `fn`, turning driver failures into `StorageError` (503); the CA's errors and TypeError pass. */
function guarded<T>(ctx: SqliteContext, fn: () => T): Promise<T> {
  try {
    if (ctx.closed) throw closedError();
    return Promise.resolve(fn());
  } catch (cause) {
    if (
      cause instanceof CertificateAuthorityError ||
      cause instanceof StorageError ||
      cause instanceof TypeError
    )
      return Promise.reject(cause);
    return Promise.reject(new StorageError('CA storage failed', { cause }));
  }
}

function insert(ctx: SqliteContext, r: IssuedCertificate): void {
  const serial = normaliseSerial(r.serial);
  try {
    stmt(ctx, INSERT).run(
      serial,
      serial.length,
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
    if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
      throw new CertificateAuthorityError('ERR_CA_SERIAL_CONFLICT', 'serial already issued');
    }
    throw cause;
  }
}

function list(ctx: SqliteContext, options: ListIssuedOptions): IssuedCertificate[] {
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
  const sql = `SELECT ${COLUMNS} FROM orchard_ca_certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY serial_len, serial LIMIT ?`;
  return (stmt(ctx, sql).all(...params, options.limit ?? 100) as Row[]).map(toRecord);
}

/** The {@link CertificateStore} on a connection context. */
export function sqliteCertificateStore(ctx: SqliteContext): CertificateStore {
  return {
    recordIssued: (given) =>
      guarded(ctx, () => {
        insert(ctx, given);
      }),
    findIssued: (serial) =>
      guarded(ctx, () => {
        const s = normaliseSerial(serial);
        const row = stmt(ctx, FIND_ISSUED_SQL).get(s.length, s) as Row | undefined;
        return row ? toRecord(row) : undefined;
      }),
    isRevoked: (serial) =>
      guarded(ctx, () => {
        const s = normaliseSerial(serial);
        const row = stmt(ctx, IS_REVOKED_SQL).get(s.length, s) as { revoked: number } | undefined;
        return row?.revoked === 1;
      }),
    revoke: (serial, at, reason) =>
      guarded(ctx, () => {
        const s = normaliseSerial(serial);
        return stmt(ctx, REVOKE).run(at.getTime(), reason ?? null, s.length, s).changes > 0;
      }),
    listIssued: (options) => guarded(ctx, () => list(ctx, options ?? {})),
    countIssued: () =>
      guarded(
        ctx,
        () =>
          stmt(ctx, 'SELECT count(*) AS n FROM orchard_ca_certificates').pluck().get() as number,
      ),
  };
}

const PUT_CHALLENGE =
  'INSERT OR REPLACE INTO orchard_ca_challenges (digest, enrollment_id, expires_at) VALUES (?, ?, ?)';
// DELETE ... RETURNING is one statement: two concurrent consumers cannot both get the row.
const TAKE_CHALLENGE =
  'DELETE FROM orchard_ca_challenges WHERE digest = ? RETURNING enrollment_id, expires_at';

/** The {@link ChallengeStore} on a connection context. */
export function sqliteChallengeStore(ctx: SqliteContext): ChallengeStore {
  return {
    put: (c) =>
      guarded(ctx, () => {
        stmt(ctx, PUT_CHALLENGE).run(c.digest, c.enrollmentId ?? null, c.expiresAt.getTime());
      }),
    consume: (digest, now) =>
      guarded(ctx, () => {
        const row = stmt(ctx, TAKE_CHALLENGE).get(digest) as
          { enrollment_id: string | null; expires_at: number } | undefined;
        if (row === undefined || row.expires_at <= now.getTime()) return undefined;
        const out: StoredChallenge = { digest, expiresAt: new Date(row.expires_at) };
        if (row.enrollment_id !== null) out.enrollmentId = row.enrollment_id;
        return out;
      }),
    purgeExpired: (now) =>
      guarded(
        ctx,
        () =>
          stmt(ctx, 'DELETE FROM orchard_ca_challenges WHERE expires_at <= ?').run(now.getTime())
            .changes,
      ),
  };
}

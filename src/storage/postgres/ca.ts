/**
 * The certificate authority's records and the one-time SCEP challenges in PostgreSQL (tables
 * `orchard_ca_*`). The UNIQUE `(serial_len, serial)` index makes duplicate issuance impossible
 * across daemons; `DELETE ... RETURNING` makes consuming a challenge atomic: of several pools
 * racing for one challenge exactly one gets the row.
 */
import { CertificateAuthorityError } from '../../errors.js';
import { normaliseSerial } from '../../identity/ca/store.js';
import type {
  CertificateStore,
  ChallengeStore,
  IssuedCertificate,
  ListIssuedOptions,
  StoredChallenge,
} from '../ports.js';
import { isUniqueViolation, one, op, query, run, setIf, type PgContext } from './db.js';

const TABLE = 'orchard_ca_certificates';
const COLUMNS = `serial, subject, enrollment_id, not_before, not_after, issued_at, der,
  revoked_at, revocation_reason, cert_id, renewal_of`;

const FIND = `SELECT ${COLUMNS} FROM ${TABLE} WHERE serial_len = $1 AND serial = $2`;
// The per-request revocation check: the unique index's row, no DER.
const IS_REVOKED = `SELECT revoked_at IS NOT NULL AS revoked FROM ${TABLE}
  WHERE serial_len = $1 AND serial = $2`;
const INSERT = `INSERT INTO ${TABLE} (serial, serial_len, subject, enrollment_id, not_before,
  not_after, issued_at, der, cert_id, renewal_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
// One statement: the row lock makes concurrent revocations keep the first time and reason.
const REVOKE = `UPDATE ${TABLE} SET revoked_at = coalesce(revoked_at, $1),
  revocation_reason = coalesce(revocation_reason, $2) WHERE serial_len = $3 AND serial = $4`;

interface Row {
  serial: string;
  subject: string;
  enrollment_id: string | null;
  not_before: Date;
  not_after: Date;
  issued_at: Date;
  der: Buffer;
  revoked_at: Date | null;
  revocation_reason: string | null;
  cert_id: string | null;
  renewal_of: string | null;
}

function toRecord(row: Row): IssuedCertificate {
  const r: IssuedCertificate = {
    serial: row.serial,
    subject: row.subject,
    notBefore: row.not_before,
    notAfter: row.not_after,
    issuedAt: row.issued_at,
    der: row.der,
  };
  setIf(r, 'enrollmentId', row.enrollment_id);
  setIf(r, 'revokedAt', row.revoked_at);
  setIf(r, 'revocationReason', row.revocation_reason);
  setIf(r, 'certId', row.cert_id);
  setIf(r, 'renewalOf', row.renewal_of);
  return r;
}

async function insert(ctx: PgContext, given: IssuedCertificate): Promise<void> {
  const serial = normaliseSerial(given.serial);
  const values = [serial, serial.length, given.subject, given.enrollmentId ?? null];
  const times = [given.notBefore, given.notAfter, given.issuedAt];
  try {
    await run(ctx.pool, INSERT, [
      ...values,
      ...times,
      given.der,
      given.certId ?? null,
      given.renewalOf ?? null,
    ]);
  } catch (cause) {
    if (isUniqueViolation(cause, 'orchard_ca_certificates_serial'))
      throw new CertificateAuthorityError('ERR_CA_SERIAL_CONFLICT', 'serial already issued');
    throw cause;
  }
}

/** One page of records: a keyset after `after`, optionally of one enrollment. */
async function list(ctx: PgContext, options: ListIssuedOptions): Promise<IssuedCertificate[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (options.enrollmentId !== undefined) {
    values.push(options.enrollmentId);
    where.push(`enrollment_id = $${String(values.length)}`);
  }
  if (options.after !== undefined) {
    const after = normaliseSerial(options.after);
    values.push(after.length, after);
    const n = values.length;
    where.push(`(serial_len, serial) > ($${String(n - 1)}::integer, $${String(n)}::text)`);
  }
  values.push(options.limit ?? 100);
  const sql = `SELECT ${COLUMNS} FROM ${TABLE} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY serial_len, serial LIMIT $${String(values.length)}`;
  return (await query<Row>(ctx.pool, sql, values)).map(toRecord);
}

/** The {@link CertificateStore} on a context. */
export function pgCertificateStore(ctx: PgContext): CertificateStore {
  return {
    recordIssued: (given) => op(ctx, () => insert(ctx, given)),
    findIssued: (serial) =>
      op(ctx, async () => {
        const s = normaliseSerial(serial);
        const row = await one<Row>(ctx.pool, FIND, [s.length, s]);
        return row && toRecord(row);
      }),
    isRevoked: (serial) =>
      op(ctx, async () => {
        const s = normaliseSerial(serial);
        return (
          (await one<{ revoked: boolean }>(ctx.pool, IS_REVOKED, [s.length, s]))?.revoked === true
        );
      }),
    revoke: (serial, at, reason) =>
      op(ctx, async () => {
        const s = normaliseSerial(serial);
        return (await run(ctx.pool, REVOKE, [at, reason ?? null, s.length, s])) > 0;
      }),
    listIssued: (options) => op(ctx, () => list(ctx, options ?? {})),
    countIssued: () =>
      op(ctx, async () => {
        const row = await one<{ n: number }>(ctx.pool, `SELECT count(*) AS n FROM ${TABLE}`);
        return row?.n ?? 0;
      }),
  };
}

const PUT_CHALLENGE = `INSERT INTO orchard_ca_challenges (digest, enrollment_id, expires_at)
  VALUES ($1, $2, $3) ON CONFLICT (digest)
  DO UPDATE SET enrollment_id = excluded.enrollment_id, expires_at = excluded.expires_at`;
// DELETE ... RETURNING is one statement: a second consumer waits for the first's row lock and
// then finds the row gone, whichever pool or daemon it runs on.
const TAKE_CHALLENGE =
  'DELETE FROM orchard_ca_challenges WHERE digest = $1 RETURNING enrollment_id, expires_at';
const PURGE_CHALLENGES = 'DELETE FROM orchard_ca_challenges WHERE expires_at <= $1';

/** The {@link ChallengeStore} on a context. */
export function pgChallengeStore(ctx: PgContext): ChallengeStore {
  return {
    put: (c) =>
      op(ctx, async () => {
        await run(ctx.pool, PUT_CHALLENGE, [c.digest, c.enrollmentId ?? null, c.expiresAt]);
      }),
    consume: (digest, now) =>
      op(ctx, async () => {
        const row = await one<{ enrollment_id: string | null; expires_at: Date }>(
          ctx.pool,
          TAKE_CHALLENGE,
          [digest],
        );
        if (row === undefined || row.expires_at.getTime() <= now.getTime()) return undefined;
        const out: StoredChallenge = { digest, expiresAt: row.expires_at };
        setIf(out, 'enrollmentId', row.enrollment_id);
        return out;
      }),
    purgeExpired: (now) => op(ctx, () => run(ctx.pool, PURGE_CHALLENGES, [now])),
  };
}

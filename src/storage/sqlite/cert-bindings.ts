/** SQLite adapter: device identity certificates bound to enrollments. */
import type { BoundCertificateDetails, CertBinding, CertBindingStore } from '../ports.js';
import { checkId, checkPage } from '../support.js';
import type { SqliteContext } from './db.js';
import { date, ms, op, stmt, writeTx } from './db.js';

interface BindingRow {
  enrollment_id: string;
  cert_hash: string;
  bound_at: number;
  serial: string | null;
  not_after: number | null;
  ended_at: number | null;
  reenroll_until: number | null;
  renewal_command: string | null;
  renewal_requested_at: number | null;
}

const COLUMNS = `enrollment_id, cert_hash, bound_at, serial, not_after, ended_at, reenroll_until,
  renewal_command, renewal_requested_at`;

function bindingOf(row: BindingRow): CertBinding {
  const binding: CertBinding = {
    enrollmentId: row.enrollment_id,
    certHash: row.cert_hash,
    boundAt: date(row.bound_at),
  };
  if (row.serial !== null) binding.serial = row.serial;
  if (row.not_after !== null) binding.notAfter = date(row.not_after);
  if (row.ended_at !== null) binding.endedAt = date(row.ended_at);
  if (row.reenroll_until !== null) binding.reenrollUntil = date(row.reenroll_until);
  if (row.renewal_command !== null && row.renewal_requested_at !== null)
    binding.renewal = {
      commandUuid: row.renewal_command,
      requestedAt: date(row.renewal_requested_at),
    };
  return binding;
}

function bindCertificate(
  ctx: SqliteContext,
  enrollmentId: string,
  certHash: string,
  details: BoundCertificateDetails,
): void {
  checkId(enrollmentId, 'enrollment id');
  checkId(certHash, 'certHash');
  // Delete and insert (not upsert) so the binding gets a fresh, larger seq: "most recent" wins.
  writeTx(ctx, () => {
    stmt(ctx, 'DELETE FROM cert_bindings WHERE enrollment_id = ?').run(enrollmentId);
    stmt(
      ctx,
      `INSERT INTO cert_bindings (enrollment_id, cert_hash, bound_at, serial, not_after)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(
      enrollmentId,
      certHash,
      ctx.clock().getTime(),
      details.serial ?? null,
      ms(details.notAfter),
    );
  });
}

/**
 * Ends the binding of `enrollmentId` at `at` unless already ended; false when there is none.
 * Also called by `markCheckedOut` inside its own write.
 */
export function endBinding(ctx: SqliteContext, enrollmentId: string, at: number): boolean {
  const sql = `UPDATE cert_bindings SET ended_at = COALESCE(ended_at, ?) WHERE enrollment_id = ?`;
  return stmt(ctx, sql).run(at, enrollmentId).changes > 0;
}

/** The enrollment's binding, or `undefined`. */
function findBinding(ctx: SqliteContext, enrollmentId: string): CertBinding | undefined {
  const sql = `SELECT ${COLUMNS} FROM cert_bindings WHERE enrollment_id = ?`;
  const row = stmt(ctx, sql).get(enrollmentId) as BindingRow | undefined;
  return row === undefined ? undefined : bindingOf(row);
}

/** The enrollment most recently bound to `certHash`, or `undefined`. */
function boundTo(ctx: SqliteContext, certHash: string): string | undefined {
  const sql = `SELECT enrollment_id AS id FROM cert_bindings WHERE cert_hash = ?
    ORDER BY seq DESC LIMIT 1`;
  return (stmt(ctx, sql).get(certHash) as { id: string } | undefined)?.id;
}

/** The certificate-binding port of the SQLite adapter. */
export function sqliteCertBindings(ctx: SqliteContext): CertBindingStore {
  return {
    bindCertificate: (enrollmentId, certHash, details = {}) =>
      op(ctx, () => {
        bindCertificate(ctx, enrollmentId, certHash, details);
      }),
    findCertificateBinding: (enrollmentId) => op(ctx, () => findBinding(ctx, enrollmentId)),
    findEnrollmentByCertificate: (certHash) => op(ctx, () => boundTo(ctx, certHash)),
    findBindingFacts: (enrollmentId, certHash) =>
      op(ctx, () => ({
        binding: findBinding(ctx, enrollmentId),
        boundTo: boundTo(ctx, certHash),
      })),
    endCertificateBinding: (enrollmentId, at) =>
      op(ctx, () => endBinding(ctx, enrollmentId, at.getTime())),
    allowReenrollment: (enrollmentId, until) =>
      op(ctx, () => {
        const sql = 'UPDATE cert_bindings SET reenroll_until = ? WHERE enrollment_id = ?';
        return stmt(ctx, sql).run(ms(until), enrollmentId).changes > 0;
      }),
    recordIdentityRenewal: (enrollmentId, renewal) =>
      op(ctx, () => {
        const sql = `UPDATE cert_bindings SET renewal_command = ?, renewal_requested_at = ?
          WHERE enrollment_id = ?`;
        return (
          stmt(ctx, sql).run(renewal?.commandUuid ?? null, ms(renewal?.requestedAt), enrollmentId)
            .changes > 0
        );
      }),
    listExpiringBindings: (before, { limit, renewalRequestedBefore }) =>
      op(ctx, () => {
        checkPage({ limit });
        const sql = `SELECT ${COLUMNS} FROM cert_bindings
          WHERE ended_at IS NULL AND not_after IS NOT NULL AND not_after < ?
            AND (? IS NULL OR renewal_requested_at IS NULL OR renewal_requested_at < ?)
          ORDER BY not_after LIMIT ?`;
        const requested = ms(renewalRequestedBefore);
        const rows = stmt(ctx, sql).all(before.getTime(), requested, requested, limit);
        return (rows as BindingRow[]).map(bindingOf);
      }),
  };
}

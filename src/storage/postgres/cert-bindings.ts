/**
 * PostgreSQL adapter: device identity certificates bound to enrollments, and identity renewals.
 * Every change is one statement on one row (an upsert, or a conditional `UPDATE`), so two
 * daemons changing the same binding at once each see a whole row and the later one wins. Owner:
 * area A.
 */
import type {
  BindingLookup,
  BoundCertificateDetails,
  CertBinding,
  CertBindingStore,
} from '../ports.js';
import { checkId, checkPage } from '../support.js';
import { one, op, query, run, type PgContext } from './db.js';

interface BindingRow {
  enrollment_id: string;
  cert_hash: string;
  bound_at: Date;
  serial: string | null;
  not_after: Date | null;
  ended_at: Date | null;
  reenroll_until: Date | null;
  renewal_command: string | null;
  renewal_requested_at: Date | null;
}

const COLUMNS = `enrollment_id, cert_hash, bound_at, serial, not_after, ended_at, reenroll_until,
  renewal_command, renewal_requested_at`;

function bindingOf(row: BindingRow): CertBinding {
  const binding: CertBinding = {
    enrollmentId: row.enrollment_id,
    certHash: row.cert_hash,
    boundAt: row.bound_at,
  };
  if (row.serial !== null) binding.serial = row.serial;
  if (row.not_after !== null) binding.notAfter = row.not_after;
  if (row.ended_at !== null) binding.endedAt = row.ended_at;
  if (row.reenroll_until !== null) binding.reenrollUntil = row.reenroll_until;
  if (row.renewal_command !== null && row.renewal_requested_at !== null)
    binding.renewal = { commandUuid: row.renewal_command, requestedAt: row.renewal_requested_at };
  return binding;
}

/**
 * A (re-)binding starts clean and takes a fresh, larger `seq` (`DEFAULT` draws the identity),
 * so "the enrollment most recently bound to this hash" is the largest `seq`.
 */
const BIND = `INSERT INTO cert_bindings (enrollment_id, cert_hash, bound_at, serial, not_after)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (enrollment_id) DO UPDATE SET seq = DEFAULT, cert_hash = excluded.cert_hash,
    bound_at = excluded.bound_at, serial = excluded.serial, not_after = excluded.not_after,
    ended_at = NULL, reenroll_until = NULL, renewal_command = NULL, renewal_requested_at = NULL`;

async function bindCertificate(
  ctx: PgContext,
  enrollmentId: string,
  certHash: string,
  details: BoundCertificateDetails,
): Promise<void> {
  checkId(enrollmentId, 'enrollment id');
  checkId(certHash, 'certHash');
  const values = [
    enrollmentId,
    certHash,
    ctx.clock(),
    details.serial ?? null,
    details.notAfter ?? null,
  ];
  await run(ctx.pool, BIND, values);
}

const EXPIRING = `SELECT ${COLUMNS} FROM cert_bindings
  WHERE ended_at IS NULL AND not_after < $1`;

async function listExpiringBindings(
  ctx: PgContext,
  before: Date,
  { limit, renewalRequestedBefore }: { limit: number; renewalRequestedBefore?: Date },
): Promise<CertBinding[]> {
  checkPage({ limit });
  const rows =
    renewalRequestedBefore === undefined
      ? await query<BindingRow>(ctx.pool, `${EXPIRING} ORDER BY not_after, seq LIMIT $2`, [
          before,
          limit,
        ])
      : await query<BindingRow>(
          ctx.pool,
          `${EXPIRING} AND (renewal_requested_at IS NULL OR renewal_requested_at < $2)
            ORDER BY not_after, seq LIMIT $3`,
          [before, renewalRequestedBefore, limit],
        );
  return rows.map(bindingOf);
}

/**
 * The enrollment's binding (if any) and the enrollment last bound to the hash, in one statement
 * and so one snapshot: the outer row always exists, the binding's columns are null without one.
 */
const FACTS = `SELECT ${COLUMNS.replace(/(\w+)/g, 'b.$1')},
    (SELECT h.enrollment_id FROM cert_bindings h WHERE h.cert_hash = $2
      ORDER BY h.seq DESC LIMIT 1) AS bound_to
  FROM (SELECT 1) AS one LEFT JOIN cert_bindings b ON b.enrollment_id = $1`;

async function findBindingFacts(
  ctx: PgContext,
  enrollmentId: string,
  certHash: string,
): Promise<BindingLookup> {
  const row = await one<BindingRow & { bound_to: string | null }>(ctx.pool, FACTS, [
    enrollmentId,
    certHash,
  ]);
  const binding = row?.enrollment_id == null ? undefined : bindingOf(row);
  return { binding, boundTo: row?.bound_to ?? undefined };
}

/** The {@link CertBindingStore} on a context. */
export function pgCertBindings(ctx: PgContext): CertBindingStore {
  return {
    bindCertificate: (enrollmentId, certHash, details = {}) =>
      op(ctx, () => bindCertificate(ctx, enrollmentId, certHash, details)),
    findCertificateBinding: (enrollmentId) =>
      op(ctx, async () => {
        const sql = `SELECT ${COLUMNS} FROM cert_bindings WHERE enrollment_id = $1`;
        const row = await one<BindingRow>(ctx.pool, sql, [enrollmentId]);
        return row === undefined ? undefined : bindingOf(row);
      }),
    findEnrollmentByCertificate: (certHash) =>
      op(ctx, async () => {
        const sql = `SELECT enrollment_id AS id FROM cert_bindings WHERE cert_hash = $1
          ORDER BY seq DESC LIMIT 1`;
        return (await one<{ id: string }>(ctx.pool, sql, [certHash]))?.id;
      }),
    findBindingFacts: (enrollmentId, certHash) =>
      op(ctx, () => findBindingFacts(ctx, enrollmentId, certHash)),
    endCertificateBinding: (enrollmentId, at) =>
      op(ctx, async () => {
        const sql = `UPDATE cert_bindings SET ended_at = COALESCE(ended_at, $2)
          WHERE enrollment_id = $1`;
        return (await run(ctx.pool, sql, [enrollmentId, at])) > 0;
      }),
    allowReenrollment: (enrollmentId, until) =>
      op(ctx, async () => {
        const sql = 'UPDATE cert_bindings SET reenroll_until = $2 WHERE enrollment_id = $1';
        return (await run(ctx.pool, sql, [enrollmentId, until ?? null])) > 0;
      }),
    recordIdentityRenewal: (enrollmentId, renewal) =>
      op(ctx, async () => {
        const sql = `UPDATE cert_bindings SET renewal_command = $2, renewal_requested_at = $3
          WHERE enrollment_id = $1`;
        const values = [enrollmentId, renewal?.commandUuid ?? null, renewal?.requestedAt ?? null];
        return (await run(ctx.pool, sql, values)) > 0;
      }),
    listExpiringBindings: (before, options) =>
      op(ctx, () => listExpiringBindings(ctx, before, options)),
  };
}

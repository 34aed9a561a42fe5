/**
 * Admin routes over the certificates the daemon's CA issued: a paginated list, one record, and
 * revocation. Revocation goes through the CA, which `withCertAuth` asks on every device request,
 * so a revoked device is refused (400 `ERR_DEVICE_CERT_REVOKED`, never 401) on its next request.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CertificateAuthorityError, normaliseSerial, type IssuedCertificate } from '../index.js';
import type { AdminRoute, RouteRequest } from './admin-routes.js';
import { idParam, knownQuery, objectBody, pageQuery } from './admin-validate.js';
import { AdminError } from './errors.js';
import { iso } from './admin-views.js';
import { json } from './http-util.js';

/** Reasons accepted by the revoke route (RFC 5280 CRLReason names). */
export const REVOCATION_REASONS = [
  'keyCompromise',
  'superseded',
  'cessationOfOperation',
  'unspecified',
] as const;

/** One of {@link REVOCATION_REASONS}. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** Hex serials as written by `openssl x509 -serial` or with colons; at most 20 octets (RFC 5280). */
const SERIAL_PATTERN = /^(?:[0-9A-Fa-f]{1,40}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){0,19})$/;

/**
 * A serial path parameter or cursor in the form the CA stores (lower-case hex without leading
 * zeros). Throws AdminError `ERR_BAD_REQUEST` naming `name` when it is not a hex serial.
 */
export function serialParam(name: string, value: string | undefined): string {
  if (value === undefined || !SERIAL_PATTERN.test(value))
    throw new AdminError('ERR_BAD_REQUEST', `${name} must be a hexadecimal serial number`, {
      field: name,
    });
  return normaliseSerial(value);
}

/** The optional `reason` of a revoke body; `unspecified` when absent. */
function reasonOf(body: unknown): RevocationReason {
  const reason = objectBody(body, ['reason'], true).reason;
  if (reason === undefined) return 'unspecified';
  const known = REVOCATION_REASONS.find((r) => r === reason);
  if (known === undefined)
    throw new AdminError(
      'ERR_BAD_REQUEST',
      `reason must be one of ${REVOCATION_REASONS.join(', ')}`,
      { field: 'reason' },
    );
  return known;
}

/**
 * The JSON view of an issued certificate; `boundEnrollmentId` is the enrollment using it now.
 * Validity comes from the certificate itself (whole seconds), not the record's millisecond
 * instants, so it matches what the device holds.
 */
export function certificateView(
  c: IssuedCertificate,
  boundEnrollmentId: string | undefined,
): Record<string, unknown> {
  const cert = new X509Certificate(c.der);
  return {
    serial: c.serial,
    certId: c.certId ?? null,
    subject: c.subject,
    enrollmentId: c.enrollmentId ?? null,
    renewalOf: c.renewalOf ?? null,
    boundEnrollmentId: boundEnrollmentId ?? null,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    issuedAt: iso(c.issuedAt),
    revoked: c.revokedAt !== undefined,
    revokedAt: iso(c.revokedAt),
    revocationReason: c.revocationReason ?? null,
  };
}

type Deps = Parameters<AdminRoute['handle']>[0];

async function view(deps: Deps, c: IssuedCertificate): Promise<Record<string, unknown>> {
  const hash = createHash('sha256').update(c.der).digest('hex');
  return certificateView(c, await deps.storage.findEnrollmentByCertificate(hash));
}

async function existing(deps: Deps, req: RouteRequest): Promise<IssuedCertificate> {
  const found = await deps.ca.findIssuedCertificate(serialParam('serial', req.params.serial));
  if (!found) throw new CertificateAuthorityError('ERR_CA_NOT_FOUND', 'no such certificate');
  return found;
}

/** The certificate routes, declared like every other admin route (see `ROUTES`). */
export const certificateRoutes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/api/v1/certificates',
    auth: 'read',
    summary: 'List certificates the CA issued, in serial order (paginated; ?enrollmentId=)',
    async handle(deps, req) {
      knownQuery(req.query, ['limit', 'cursor', 'enrollmentId']);
      const { limit, cursor } = pageQuery(req.query);
      const enrollmentId = req.query.get('enrollmentId');
      const rows = await deps.certificates.listIssued({
        limit: limit + 1,
        ...(cursor === undefined ? {} : { after: serialParam('cursor', cursor) }),
        ...(enrollmentId === null ? {} : { enrollmentId: idParam('enrollmentId', enrollmentId) }),
      });
      const page = rows.slice(0, limit);
      const items = [];
      for (const c of page) items.push(await view(deps, c));
      const last = page.at(-1);
      return json(200, {
        items,
        nextCursor: rows.length > limit && last ? last.serial : null,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/certificates/{serial}',
    auth: 'read',
    summary: 'One issued certificate with its revocation state',
    async handle(deps, req) {
      return json(200, await view(deps, await existing(deps, req)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/certificates/{serial}/revoke',
    auth: 'write',
    summary:
      'Revoke an issued certificate (idempotent; reason: keyCompromise, superseded, cessationOfOperation or unspecified); the device is refused on its next request',
    bodyFields: ['reason'],
    async handle(deps, req) {
      const serial = serialParam('serial', req.params.serial);
      const reason = reasonOf(req.body);
      // The CA throws ERR_CA_NOT_FOUND (404) for a serial it never issued.
      await deps.ca.revoke(serial, reason);
      const record = await existing(deps, req);
      deps.admin.audit({
        actor: req.actor,
        action: 'certificate.revoke',
        target: serial,
        detail: { reason, recordedReason: record.revocationReason ?? null },
      });
      return json(200, await view(deps, record));
    },
  },
];

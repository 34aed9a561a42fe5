/**
 * Admin routes over the certificates the CA issued: a paginated list, one record, and
 * revocation. Revocation goes through the CA, which `withCertAuth` asks on every device request,
 * so a revoked device is refused (400 `ERR_DEVICE_CERT_REVOKED`, never 401) on its next request.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { CertificateAuthorityError } from '../../../errors.js';
import { normaliseSerial } from '../../../identity/ca/store.js';
import type { IssuedCertificate } from '../../../storage/ports.js';
import { audit, defineRoute, json, jsonResponse, type AdminApiDeps } from '../route.js';
import { idSchema, Instant, page, PageQuery, SERIAL_PATTERN, SerialParams } from '../schemas.js';
import { badField } from '../validate.js';
import { iso } from '../views.js';

/** Reasons accepted by the revoke route (RFC 5280 CRLReason names). */
export const REVOCATION_REASONS = [
  'keyCompromise',
  'superseded',
  'cessationOfOperation',
  'unspecified',
] as const;

/** One of {@link REVOCATION_REASONS}. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/**
 * A serial path parameter or cursor in the form the CA stores (lower-case hex without leading
 * zeros). Throws AdminError `ERR_BAD_REQUEST` naming `name` when it is not a hex serial.
 */
export function serialParam(name: string, value: string | undefined): string {
  if (value === undefined || !SERIAL_PATTERN.test(value))
    throw badField(name, `${name} must be a hexadecimal serial number`);
  return normaliseSerial(value);
}

/** The JSON view of an issued certificate. */
export const CertificateView = z
  .object({
    serial: z.string(),
    certId: z.string().nullable(),
    subject: z.string(),
    enrollmentId: z.string().nullable(),
    renewalOf: z.string().nullable(),
    boundEnrollmentId: z.string().nullable(),
    notBefore: z.string().openapi({ format: 'date-time' }),
    notAfter: z.string().openapi({ format: 'date-time' }),
    issuedAt: Instant,
    revoked: z.boolean(),
    revokedAt: Instant,
    revocationReason: z.string().nullable(),
  })
  .openapi('Certificate');

/**
 * The JSON view of an issued certificate; `boundEnrollmentId` is the enrollment using it now.
 * Validity comes from the certificate itself (whole seconds), not the record's millisecond
 * instants, so it matches what the device holds.
 */
export function certificateView(
  c: IssuedCertificate,
  boundEnrollmentId: string | undefined,
): z.infer<typeof CertificateView> {
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

async function view(deps: Pick<AdminApiDeps, 'storage'>, c: IssuedCertificate) {
  const hash = createHash('sha256').update(c.der).digest('hex');
  return certificateView(c, await deps.storage.findEnrollmentByCertificate(hash));
}

async function existing(deps: Pick<AdminApiDeps, 'ca'>, serial: string) {
  const found = await deps.ca.findIssuedCertificate(serialParam('serial', serial));
  if (!found) throw new CertificateAuthorityError('ERR_CA_NOT_FOUND', 'no such certificate');
  return found;
}

const list = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/certificates',
    summary: 'List certificates the CA issued, in serial order (paginated; ?enrollmentId=)',
    request: { query: PageQuery.extend({ enrollmentId: idSchema('enrollmentId').optional() }) },
    responses: { 200: jsonResponse('a page of certificates', page(CertificateView)) },
  }),
  async handle(deps, req) {
    const limit = Number(req.query.limit ?? 100);
    const { cursor, enrollmentId } = req.query;
    const rows = await deps.certificates.listIssued({
      limit: limit + 1,
      ...(cursor === undefined ? {} : { after: serialParam('cursor', cursor) }),
      ...(enrollmentId === undefined ? {} : { enrollmentId }),
    });
    const chosen = rows.slice(0, limit);
    const items = [];
    for (const c of chosen) items.push(await view(deps, c));
    const last = chosen.at(-1);
    return json(200, { items, nextCursor: rows.length > limit && last ? last.serial : null });
  },
});

const one = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/certificates/{serial}',
    summary: 'One issued certificate with its revocation state',
    request: { params: SerialParams },
    responses: { 200: jsonResponse('the certificate', CertificateView) },
  }),
  async handle(deps, req) {
    return json(200, await view(deps, await existing(deps, req.params.serial)));
  },
});

const reasonError = `reason must be one of ${REVOCATION_REASONS.join(', ')}`;

const revoke = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/certificates/{serial}/revoke',
    summary:
      'Revoke an issued certificate (idempotent; reason: keyCompromise, superseded, cessationOfOperation or unspecified); the device is refused on its next request',
    request: {
      params: SerialParams,
      body: {
        required: false,
        content: {
          'application/json': {
            schema: z.strictObject({
              reason: z.enum(REVOCATION_REASONS, { error: reasonError }).optional(),
            }),
          },
        },
      },
    },
    responses: { 200: jsonResponse('the revoked certificate', CertificateView) },
  }),
  async handle(deps, req) {
    const serial = serialParam('serial', req.params.serial);
    const reason = req.body?.reason ?? 'unspecified';
    // The CA throws ERR_CA_NOT_FOUND (404) for a serial it never issued.
    await deps.ca.revoke(serial, reason);
    const record = await existing(deps, serial);
    await audit(deps, req, 'certificate.revoke', serial, {
      reason,
      recordedReason: record.revocationReason ?? null,
    });
    return json(200, await view(deps, record));
  },
});

/** The certificate routes. */
export const certificateRoutes = [list, one, revoke];

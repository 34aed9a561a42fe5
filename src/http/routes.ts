/**
 * Edge routes for the node listener: SCEP with its PKIOperation limit, and the enrollment links
 * (`/enroll/{token}`) that serve a signed enrollment profile. Import from `orchard-mdm/node`.
 */
import type { EnrollmentService } from '../admin/enrollment-service.js';
import type { Logger } from '../logger.js';
import type { AuditLog } from '../storage/ports.js';
import { readNodeBody } from './body.js';
import type { EdgeRoute } from './listener.js';
import type { RateLimiter } from './rate-limit.js';
import type { ScepHandler } from './scep.js';

/** Largest SCEP POST body. */
export const SCEP_BODY_LIMIT = 64 * 1024;

/** `/scep`: a POST body up to {@link SCEP_BODY_LIMIT}; PKIOperation counts against `limiter`. */
export function scepRoute(scep: ScepHandler, limiter?: RateLimiter): EdgeRoute {
  return {
    path: '/scep',
    limit: ({ query, client }) =>
      query.get('operation') === 'PKIOperation' ? limiter?.take(client) : undefined,
    async serve({ req, method, query }) {
      const body = method === 'POST' ? await readNodeBody(req, SCEP_BODY_LIMIT) : undefined;
      return scep({ method, query, ...(body ? { body } : {}) });
    },
  };
}

/** Options of {@link enrollmentRoute}. */
export interface EnrollmentRouteOptions {
  enrollment: EnrollmentService;
  /** Where each use of a link is recorded (`enrollment-token.use`, actor `device`). */
  audit: AuditLog;
  /** Counts GETs per client address. */
  limiter?: RateLimiter;
  /** Called after a profile is served (e.g. for a metric). */
  onServed?: () => void;
}

/**
 * Audits a served profile. The download is already counted, so a failed write is logged rather
 * than refusing a profile the device could not fetch again without spending another use.
 */
async function auditUse(audit: AuditLog, linkId: string, logger: Logger): Promise<void> {
  try {
    await audit.audit({
      actor: 'device',
      action: 'enrollment-token.use',
      target: linkId,
      detail: {},
    });
  } catch (error) {
    logger.error({ err: error, linkId }, 'audit of an enrollment link use failed');
  }
}

/**
 * `GET /enroll/{token}` (label `/enroll/{token}`): the link's enrollment profile as
 * `application/x-apple-aspen-config`, never cached. Another method is 405 `ERR_METHOD`.
 */
export function enrollmentRoute(options: EnrollmentRouteOptions): EdgeRoute {
  const { enrollment, audit, limiter } = options;
  return {
    path: '/enroll/',
    prefix: true,
    label: '/enroll/{token}',
    methods: ['GET'],
    limit: ({ client }) => limiter?.take(client),
    async serve({ req, path, logger }) {
      // The User-Agent tells platform and OS version (the enrollment page's identity choice).
      const ua = req.headers['user-agent'];
      const { profile, record } = await enrollment.serveProfile(
        path.slice('/enroll/'.length),
        ua === undefined ? {} : { userAgent: ua },
      );
      await auditUse(audit, record.id, logger);
      options.onServed?.();
      return {
        status: 200,
        headers: {
          'content-type': 'application/x-apple-aspen-config',
          'content-disposition': 'attachment; filename="orchard-enroll.mobileconfig"',
          'cache-control': 'no-store',
        },
        body: profile,
      };
    },
  };
}

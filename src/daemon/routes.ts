/**
 * The daemon's route table: the MDM endpoints on the node fast path, SCEP, enrollment links, the
 * admin API, `/healthz` and `/metrics`, with their rate limits (`--rate-limit`: enrollment and
 * SCEP PKIOperation per client address, failed admin logins per address and in total; a valid
 * API key and the device MDM routes are never limited).
 */
import { adminRoute } from '../http/admin/index.js';
import { metricsResponse, type OrchardMetrics } from '../http/metrics.js';
import {
  createFailedLoginLimiter,
  createHealthCheck,
  createNodeListener,
  createRateLimiter,
  enrollmentRoute,
  perAddress,
  scepRoute,
  type EdgeRoute,
} from '../http/node.js';
import type { Logger } from '../index.js';
import type { DaemonServices } from './services.js';

/** What the route table serves. */
export interface RouteDeps {
  services: DaemonServices;
  metrics: OrchardMetrics;
  logger: Logger;
  certHeader?: string;
  trustedProxies: readonly string[];
  /** `--rate-limit` per minute; 0 turns limits off. */
  rateLimitPerMinute: number;
}

/** The limiters of `--rate-limit N/min` (failed logins also at most 10 N/min in all). */
function limitsOf(perMinute: number) {
  if (perMinute === 0) return {};
  return {
    enroll: perAddress(createRateLimiter({ perMinute })),
    scep: perAddress(createRateLimiter({ perMinute })),
    failedLogins: createFailedLoginLimiter({ perMinute }),
  };
}

/** `/healthz` over the daemon's parts. */
function healthRoute(services: DaemonServices): EdgeRoute {
  const serve = createHealthCheck({
    probeStorage: async () => {
      await services.storage.findEnrollment('healthz-probe');
      services.admin.getMeta('public_url');
    },
    push: () => services.push?.health(),
    pushReload: () => services.pushReload,
    pushActivity: () => services.pushStats.snapshot(),
    clock: services.clock,
  });
  return { path: '/healthz', serve };
}

/**
 * The route table. Throws TypeError on an invalid `trustedProxies` entry (the configuration has
 * validated them already).
 */
export function daemonRoutes(deps: RouteDeps): EdgeRoute[] {
  const { services, logger } = deps;
  const { ca } = services;
  const limits = limitsOf(deps.rateLimitPerMinute);
  const mdm = createNodeListener(services.service, {
    logger,
    // Signature and chain are checked on the raw body, before it is decoded; withCertAuth binds.
    trust: { roots: [ca.certificate], intermediates: ca.intermediates, clock: services.clock },
    ...(deps.certHeader === undefined ? {} : { identity: { certHeader: deps.certHeader } }),
    trustedProxies: deps.trustedProxies,
  });
  const admin = {
    ...{ core: services.core, storage: services.storage, admin: services.admin, ca },
    ...{ enrollment: services.enrollment, identity: services.identity },
    pushEnabled: services.push !== undefined,
    certificates: services.caStorage.certificates,
  };
  return [
    { path: '/mdm', node: mdm },
    { path: '/mdm/checkin', node: mdm },
    scepRoute(services.scep, limits.scep),
    enrollmentRoute({
      ...{ enrollment: services.enrollment, audit: services.admin },
      ...(limits.enroll ? { limiter: limits.enroll } : {}),
      onServed: () => {
        deps.metrics.enrollment('profile');
      },
    }),
    adminRoute(admin, {
      logger,
      ...(limits.failedLogins ? { failedLogins: limits.failedLogins } : {}),
    }),
    healthRoute(services),
    { path: '/metrics', serve: () => metricsResponse(deps.metrics) },
  ];
}

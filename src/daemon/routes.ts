/**
 * The daemon's route table: the MDM endpoints on the node fast path, SCEP, enrollment links, the
 * admin API, `/healthz` and `/metrics`, with their rate limits (enrollment and SCEP PKIOperation
 * per client address, failed admin logins per address and in total; a valid API key and the
 * device MDM routes are never limited).
 */
import {
  authenticate,
  createAdminApi,
  matchRoute,
  serveAdminRequest,
  type EnrollmentService,
} from '../http/admin/index.js';
import { metricsResponse, type OrchardMetrics } from '../http/metrics.js';
import {
  createFailedLoginLimiter,
  createHealthCheck,
  createNodeListener,
  createRateLimiter,
  perAddress,
  readNodeBody,
  type EdgeRoute,
  type FailedLoginLimiter,
  type RateLimiter,
} from '../http/node.js';
import type { IdentityRenewalService, Logger } from '../index.js';
import type { DaemonServices } from './services.js';

/** Largest SCEP POST body. */
export const SCEP_BODY_LIMIT = 64 * 1024;

/** The daemon's limiters, keyed by client address (after the trusted-proxy rules). */
interface DaemonLimits {
  enroll: RateLimiter;
  scep: RateLimiter;
  adminAuth: FailedLoginLimiter;
}

/** What the route table serves. */
export interface RouteDeps {
  services: DaemonServices;
  enrollment: EnrollmentService;
  identity: IdentityRenewalService;
  metrics: OrchardMetrics;
  logger: Logger;
  certHeader?: string;
  trustedProxies: readonly string[];
  /** `--rate-limit` per minute; 0 turns limits off. */
  rateLimitPerMinute: number;
}

/** The limiters of `--rate-limit N/min` (failed logins also at most 10 N/min in all). */
function limitsOf(perMinute: number): DaemonLimits | undefined {
  if (perMinute === 0) return undefined;
  return {
    enroll: perAddress(createRateLimiter({ perMinute })),
    scep: perAddress(createRateLimiter({ perMinute })),
    adminAuth: createFailedLoginLimiter({ perMinute }),
  };
}

/** Whether the request carries an active API key (of any scope); a wrong scope is no failed login. */
function hasValidKey(deps: RouteDeps, authorization: string | undefined): boolean {
  try {
    authenticate(deps.services.admin, authorization, 'read');
    return true;
  } catch {
    return false;
  }
}

function adminRoute(deps: RouteDeps, limits: DaemonLimits | undefined): EdgeRoute {
  const { services } = deps;
  const app = createAdminApi(
    {
      core: services.core,
      storage: services.storage,
      admin: services.admin,
      enrollment: deps.enrollment,
      identity: deps.identity,
      pushEnabled: services.push !== undefined,
      ca: services.ca,
      certificates: services.caStorage.certificates,
    },
    {
      logger: deps.logger,
      onLoginFailure: ({ client }) => {
        if (client !== undefined) limits?.adminAuth.failed(client);
      },
    },
  );
  return {
    path: '/api/',
    prefix: true,
    label: (method, path) => {
      try {
        return matchRoute(method, path).route.path;
      } catch {
        return '/api/unmatched';
      }
    },
    // The key is checked first: a valid key is never refused because others failed to log in.
    limit: ({ req, client }) =>
      limits && !hasValidKey(deps, req.headers.authorization)
        ? limits.adminAuth.blocked(client)
        : undefined,
    serve: ({ req, path, client }) => serveAdminRequest(app, req, path, { client }),
  };
}

function enrollRoute(deps: RouteDeps, limits: DaemonLimits | undefined): EdgeRoute {
  return {
    path: '/enroll/',
    prefix: true,
    label: '/enroll/{token}',
    methods: ['GET'],
    limit: ({ client }) => limits?.enroll.take(client),
    async serve({ path }) {
      const { profile, record } = await deps.enrollment.serveProfile(path.slice('/enroll/'.length));
      deps.services.admin.audit({
        actor: 'device',
        action: 'enrollment-token.use',
        target: record.id,
        detail: {},
      });
      deps.metrics.enrollment('profile');
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

function scepRoute(deps: RouteDeps, limits: DaemonLimits | undefined): EdgeRoute {
  return {
    path: '/scep',
    limit: ({ query, client }) =>
      query.get('operation') === 'PKIOperation' ? limits?.scep.take(client) : undefined,
    async serve({ req, method, query }) {
      const body = method === 'POST' ? await readNodeBody(req, SCEP_BODY_LIMIT) : undefined;
      return deps.services.scep({ method, query, ...(body ? { body } : {}) });
    },
  };
}

/** The health check of `/healthz` over the daemon's parts. */
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
  const { ca } = deps.services;
  const limits = limitsOf(deps.rateLimitPerMinute);
  const mdm = createNodeListener(deps.services.service, {
    logger: deps.logger,
    // Signature and chain are checked on the raw body, before it is decoded; withCertAuth binds.
    trust: { roots: [ca.certificate], intermediates: ca.intermediates, clock: deps.services.clock },
    ...(deps.certHeader === undefined ? {} : { identity: { certHeader: deps.certHeader } }),
    trustedProxies: deps.trustedProxies,
  });
  return [
    { path: '/mdm', node: mdm },
    { path: '/mdm/checkin', node: mdm },
    scepRoute(deps, limits),
    enrollRoute(deps, limits),
    adminRoute(deps, limits),
    healthRoute(deps.services),
    { path: '/metrics', serve: () => metricsResponse(deps.metrics) },
  ];
}

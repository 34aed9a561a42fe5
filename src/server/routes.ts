/**
 * Orchard's route table over {@link createOrchardServices}: the MDM endpoints on the node fast
 * path, SCEP, enrollment links, the admin API and `/healthz`, with their rate limits (enrollment
 * and SCEP PKIOperation per client address, failed admin logins per address and in total; a
 * valid API key and the device MDM routes are never limited). With a coordination (daemons on
 * PostgreSQL, workers or daemons on one SQLite file) every limit is shared: a local bucket refuses first, then the database's bucket
 * decides, so the daemons together allow what one allows. Mount it with `createEdgeListener`.
 */
import type { AcmeServer } from '../acme/server.js';
import { acmeRoute } from '../http/acme.js';
import { adminRoute } from '../http/admin/index.js';
import { webRoutes } from '../http/web/index.js';
import { createWebAccounts, createWebSessions } from '../admin/index.js';
import {
  createFailedLoginLimiter,
  createHealthCheck,
  createNodeListener,
  createRateLimiter,
  enrollmentRoute,
  perAddress,
  scepRoute,
  type EdgeRoute,
  type FailedLoginLimiter,
  type RateLimiter,
} from '../http/node.js';
import { sharedFailedLoginLimiter, sharedRateLimiter } from '../http/rate-limit.js';
import { isInProcess } from './coordination.js';
import type { Logger } from '../logger.js';
import type { PushReloadState } from '../push/apns/reload.js';
import type { AdminStorage, CertificateStore, Coordination, MdmStorage } from '../storage/ports.js';
import type { OrchardPush, OrchardServices } from './services.js';

/** What {@link orchardRoutes} serves: the services and the parts they were created from. */
export interface OrchardRouteDeps {
  services: OrchardServices;
  storage: MdmStorage;
  admin: AdminStorage;
  certificates: CertificateStore;
  push: OrchardPush | undefined;
  /** The outcome of the latest push certificate reload, for `/healthz`. */
  pushReload?: () => PushReloadState | undefined;
  clock: () => Date;
  logger: Logger;
  /** Called for every enrollment profile served (e.g. a metrics counter). */
  onProfileServed?: () => void;
  /** The ACME server (`createAcmeServer`), mounted on `/acme/` beside SCEP when given. */
  acme?: AcmeServer;
  /** Processes sharing the database (PostgreSQL, one SQLite file): rate limits count across all. */
  coordination?: Coordination;
}

/** Policy of {@link orchardRoutes}. */
export interface OrchardRouteOptions {
  /** A header carrying the device certificate from a trusted proxy. */
  certHeader?: string;
  /** Proxies whose certificate header and `X-Forwarded-For` are believed (default none). */
  trustedProxies?: readonly string[];
  /** Requests per minute per client address; 0 or absent turns limits off. */
  rateLimitPerMinute?: number;
}

/** Failed web sign-ins without a configured rate: 10 a minute per address, 100 in all. */
const WEB_SIGN_IN = { perMinute: 10, globalPerMinute: 100 };

/** A limiter of `perMinute`, shared through `shared` when given. */
function limiterOf(perMinute: number, scope: string, shared?: LimitSharing): RateLimiter {
  return shared === undefined
    ? createRateLimiter({ perMinute })
    : sharedRateLimiter({ perMinute, scope, ...shared });
}

/** A failed-login limiter, shared through `shared` when given. */
function failedLoginsOf(
  rates: { perMinute: number; globalPerMinute?: number },
  scope: string,
  shared?: LimitSharing,
): FailedLoginLimiter {
  return shared === undefined
    ? createFailedLoginLimiter(rates)
    : sharedFailedLoginLimiter({ ...rates, scope, ...shared });
}

interface LimitSharing {
  coordination: Coordination;
  logger: Logger;
}

/**
 * The limiters of `perMinute` (failed logins also at most 10 × `perMinute` in all); the web
 * sign-in limiter is the failed-login one, or its own default rates when limits are off.
 */
function limitsOf(perMinute = 0, shared?: LimitSharing) {
  const webDefault = (): FailedLoginLimiter => failedLoginsOf(WEB_SIGN_IN, 'web-sign-in', shared);
  if (perMinute === 0) return { web: shared === undefined ? undefined : webDefault() };
  const failedLogins = failedLoginsOf({ perMinute }, 'failed-login', shared);
  return {
    enroll: perAddress(limiterOf(perMinute, 'enroll', shared)),
    scep: perAddress(limiterOf(perMinute, 'scep', shared)),
    acme: perAddress(limiterOf(perMinute, 'acme', shared)),
    failedLogins,
    web: failedLogins,
  };
}

function healthRoute(deps: OrchardRouteDeps): EdgeRoute {
  const serve = createHealthCheck({
    probeStorage: async () => {
      await deps.storage.findEnrollment('healthz-probe');
      await deps.admin.getMeta('public_url');
    },
    push: () => deps.push?.health(),
    pushReload: () => deps.pushReload?.(),
    pushActivity: () => deps.services.pushStats.snapshot(),
    clock: deps.clock,
  });
  return { path: '/healthz', serve };
}

/**
 * The routes of `/mdm`, `/mdm/checkin`, `/scep`, `/acme/` (when `deps.acme` is given),
 * `/enroll`, `/api/`, `/healthz`, and the web areas `/portal/`, `/console/` and `/static/`.
 * Throws TypeError on an invalid `trustedProxies` entry.
 */
export function orchardRoutes(
  deps: OrchardRouteDeps,
  options: OrchardRouteOptions = {},
): EdgeRoute[] {
  const { services, logger } = deps;
  const { ca, enrollment } = services;
  const trustedProxies = options.trustedProxies ?? [];
  // The services' coordination is in-process unless the daemon gave one (PostgreSQL, SQLite):
  // then the limits are this process's alone.
  const coordination = deps.coordination ?? services.coordination;
  const sharing = isInProcess(coordination) ? undefined : { coordination, logger };
  const limits = limitsOf(options.rateLimitPerMinute, sharing);
  const mdm = createNodeListener(services.service, {
    logger,
    // Signature and chain are checked on the raw body, before it is decoded; withCertAuth binds.
    trust: { roots: [ca.certificate], intermediates: ca.intermediates, clock: deps.clock },
    ...(options.certHeader === undefined ? {} : { identity: { certHeader: options.certHeader } }),
    trustedProxies,
  });
  const admin = {
    ...{ core: services.core, storage: deps.storage, admin: deps.admin, ca, enrollment },
    ...{ identity: services.identity, pushEnabled: deps.push !== undefined },
    ...{ groups: services.groups, profiles: services.profiles, userLinks: services.userLinks },
    ...{ users: services.users, policies: services.policies, delivery: services.delivery },
    certificates: deps.certificates,
  };
  return [
    { path: '/mdm', node: mdm },
    { path: '/mdm/checkin', node: mdm },
    scepRoute(services.scep, limits.scep),
    ...(deps.acme === undefined
      ? []
      : [acmeRoute(deps.acme, limits.acme === undefined ? {} : { limiter: limits.acme })]),
    enrollmentRoute({
      ...{ enrollment, audit: deps.admin },
      ...(limits.enroll ? { limiter: limits.enroll } : {}),
      onServed: () => deps.onProfileServed?.(),
    }),
    adminRoute(admin, {
      logger,
      ...(limits.failedLogins ? { failedLogins: limits.failedLogins } : {}),
    }),
    healthRoute(deps),
    ...webRoutes(
      {
        ...admin,
        sessions: createWebSessions({ store: deps.admin, clock: deps.clock }),
        accounts: createWebAccounts({ store: deps.admin, clock: deps.clock }),
        ...{ clock: deps.clock, logger, publicUrl: services.publicUrl },
        secureCookies: services.publicUrl().startsWith('https:'),
        ...(services.mailer === undefined ? {} : { mailer: services.mailer }),
        pushHealth: () => deps.push?.health(),
      },
      limits.web ? { failedLogins: limits.web } : {},
    ),
  ];
}

/**
 * The daemon's HTTP front: one listener that gives every request an id, dispatches by path to
 * the MDM endpoints, SCEP, enrollment, health, metrics and the admin API, and records metrics and
 * one log line per request. Logged paths are route templates, so no token or SCEP message from a
 * URL reaches a log or a metric label. The client address (for limits and logs) is the peer, or
 * what a trusted proxy says in `X-Forwarded-For`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../index.js';
import { readNodeBody } from '../http/body.js';
import { createNodeListener, createProxyTrust, type ProxyTrust } from '../http/node.js';
import type { IdentityRenewalService } from '../index.js';
import { authenticate, matchRoute, type EnrollmentService } from '../http/admin/index.js';
import { adminAppOf, serveAdminRequest } from './admin-bridge.js';
import { RequestError } from './errors.js';
import { errorAnswer, json, send, type HttpAnswer } from './http-util.js';
import type { DaemonMetrics } from './metrics.js';
import { rateLimited, type DaemonLimits } from './rate-limit.js';
import type { DaemonServices } from './services.js';

/** What the listener needs. */
export interface ServerDeps {
  services: DaemonServices;
  enrollment: EnrollmentService;
  /** Device identity renewal, for the admin API's identity routes. */
  identity: IdentityRenewalService;
  metrics: DaemonMetrics;
  logger: Logger & { child(bindings: object): Logger };
  /** Proxy header carrying the client certificate (only read when configured, from a trusted proxy). */
  certHeader?: string;
  /**
   * Proxies (CIDRs or addresses) whose `certHeader` and `X-Forwarded-For` are believed; default
   * none. Throws TypeError at creation on an invalid entry.
   */
  trustedProxies?: readonly string[];
  /** Rate limits on enrollment, SCEP PKIOperation and failed admin logins; absent when off. */
  limits?: DaemonLimits;
  health(): Promise<{ status: number; body: unknown }>;
}

/** Largest SCEP POST body. */
export const SCEP_BODY_LIMIT = 64 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The route label of a path for logs and metrics. */
export function routeLabel(method: string, path: string): string {
  if (path === '/mdm' || path === '/mdm/checkin' || path === '/scep') return path;
  if (path === '/healthz' || path === '/metrics') return path;
  if (path.startsWith('/enroll/')) return '/enroll/{token}';
  if (path.startsWith('/api/')) {
    try {
      return matchRoute(method, path).route.path;
    } catch {
      return '/api/unmatched';
    }
  }
  return 'unmatched';
}

/** The client a request stands for, by the trusted-proxy rules. */
function clientOf(trust: ProxyTrust, req: IncomingMessage): string {
  return trust.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
}

async function serveScep(
  deps: ServerDeps,
  req: IncomingMessage,
  url: RequestTarget,
  client: string,
): Promise<HttpAnswer> {
  if (url.searchParams.get('operation') === 'PKIOperation') {
    const wait = deps.limits?.scep.take(client);
    if (wait !== undefined) return rateLimited(wait);
  }
  const body = req.method === 'POST' ? await readNodeBody(req, SCEP_BODY_LIMIT) : undefined;
  return deps.services.scep({
    method: req.method ?? 'GET',
    query: url.searchParams,
    ...(body ? { body } : {}),
  });
}

async function serveEnroll(
  deps: ServerDeps,
  req: IncomingMessage,
  path: string,
  client: string,
): Promise<HttpAnswer> {
  if (req.method !== 'GET') throw new RequestError('ERR_METHOD', 'only GET is allowed');
  const wait = deps.limits?.enroll.take(client);
  if (wait !== undefined) return rateLimited(wait);
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
}

/** Whether the request carries an active API key (of any scope); a wrong scope is no failed login. */
function hasValidKey(deps: ServerDeps, authorization: string | undefined): boolean {
  try {
    authenticate(deps.services.admin, authorization, 'read');
    return true;
  } catch {
    return false;
  }
}

/** The admin API app, made once per listener; only failed logins count against a client. */
const adminApp = (deps: ServerDeps) =>
  adminAppOf(deps, () => ({
    deps: {
      core: deps.services.core,
      storage: deps.services.storage,
      admin: deps.services.admin,
      enrollment: deps.enrollment,
      identity: deps.identity,
      pushEnabled: deps.services.push !== undefined,
      ca: deps.services.ca,
      certificates: deps.services.caStorage.certificates,
    },
    options: {
      logger: deps.logger,
      onLoginFailure: ({ client }) => {
        if (client !== undefined) deps.limits?.adminAuth.failed(client);
      },
    },
  }));

async function serveAdmin(
  deps: ServerDeps,
  req: IncomingMessage,
  url: RequestTarget,
  client: string,
): Promise<HttpAnswer> {
  // The key is checked first: a valid key is never refused because others failed to log in.
  if (deps.limits && !hasValidKey(deps, req.headers.authorization)) {
    const blocked = deps.limits.adminAuth.blocked(client);
    if (blocked !== undefined) return rateLimited(blocked);
  }
  return serveAdminRequest(adminApp(deps), req, url.pathname, { client });
}

async function dispatch(
  deps: ServerDeps,
  req: IncomingMessage,
  url: RequestTarget,
  client: string,
): Promise<HttpAnswer> {
  const path = url.pathname;
  if (path === '/scep') return serveScep(deps, req, url, client);
  if (path.startsWith('/enroll/')) return serveEnroll(deps, req, path, client);
  if (path.startsWith('/api/')) return serveAdmin(deps, req, url, client);
  if (path === '/healthz') {
    const h = await deps.health();
    return json(h.status, h.body);
  }
  if (path === '/metrics')
    return {
      status: 200,
      headers: { 'content-type': deps.metrics.contentType },
      body: await deps.metrics.render(),
    };
  throw new RequestError('ERR_NOT_FOUND', 'not found');
}

/** The path (exactly as received, no normalisation) and query of a request. */
export interface RequestTarget {
  pathname: string;
  searchParams: URLSearchParams;
}

/**
 * Splits the request target into its literal path and its query. The WHATWG URL parser is not
 * used: it reads `//x/y` as a host (throwing, and crashing the listener, on a bad one) and
 * resolves `%2e%2e` segments, which would route a path other than the one the router vets.
 */
export function requestTarget(target: string | undefined): RequestTarget {
  const raw = target ?? '/';
  const q = raw.indexOf('?');
  return {
    pathname: q === -1 ? raw : raw.slice(0, q),
    searchParams: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)),
  };
}

/**
 * Creates the request listener. Throws TypeError on an invalid `trustedProxies` entry (the
 * daemon's configuration has validated them already).
 */
export function createDaemonListener(
  deps: ServerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const trustedProxies = deps.trustedProxies ?? [];
  const proxies = createProxyTrust(trustedProxies);
  const { ca } = deps.services;
  const mdm = createNodeListener(deps.services.service, {
    logger: deps.logger,
    // Signature and chain are checked on the raw body, before it is decoded; withCertAuth binds.
    trust: { roots: [ca.certificate], intermediates: ca.intermediates, clock: deps.services.clock },
    ...(deps.certHeader === undefined ? {} : { identity: { certHeader: deps.certHeader } }),
    trustedProxies,
  });
  return (req, res) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', reqId);
    const url = requestTarget(req.url);
    const method = req.method ?? 'GET';
    const route = routeLabel(method, url.pathname);
    const client = clientOf(proxies, req);
    const log = deps.logger.child({ reqId });
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.request(route, method, res.statusCode, seconds);
      log.info(
        { method, route, status: res.statusCode, ms: Math.round(seconds * 1000), client },
        'request',
      );
    });
    if (url.pathname === '/mdm' || url.pathname === '/mdm/checkin') {
      mdm(req, res);
      return;
    }
    dispatch(deps, req, url, client)
      .catch((err: unknown) => errorAnswer(err, log))
      .then((answer) => {
        send(res, answer);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'could not write a response');
      });
  };
}

/**
 * The admin API as a Hono app: strict path matching before routing, authentication by the
 * matched route's class, bounded body reading (JSON, or a plist where the route allows it),
 * validation from each route's schemas, JSON errors through the edge's one renderer (never a
 * 401, never a stack trace), and the OpenAPI 3.1 document generated from the same routes.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { baseRoutePath } from 'hono/route';
import { authenticate } from '../../admin/api-keys.js';
import { isGlobalCaller, type Caller } from '../../admin/principals.js';
import { AdminError, ManagementError, OrchardError, RequestError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { renderError } from '../errors.js';
import { matchRoute } from './path.js';
import type { AdminApiContext, AdminApiDeps, AdminRoute } from './route.js';
import { ROUTES } from './table.js';
import { parseBody, receiveBody, validateRequest } from './request.js';

/** Largest admin API body unless a route allows more to a caller with a key for it: 1 MiB. */
export const ADMIN_BODY_LIMIT = 1024 * 1024;

/** What a host may pass as the `env` of `fetch(request, env)`; every field is optional. */
export interface AdminBindings {
  /**
   * The path exactly as received, before URL parsing resolved dot segments, for strict matching
   * (the node adapter passes it); default the request URL's path.
   */
  rawPath?: string;
  /** The logger for this request (e.g. a child with a request id); default the app's. */
  logger?: Logger;
  /** The client address, handed to `onLoginFailure`. */
  client?: string;
  /** The body of a GET request, which a fetch `Request` cannot carry (it is refused, 400). */
  getBody?: Uint8Array;
}

/** Options of {@link createAdminApi}. */
export interface AdminApiOptions {
  /** Largest body, unless a route allows more to a caller with a key for it; default 1 MiB. */
  bodyLimit?: number;
  /** Where refusals (info) and failures (error) are logged; default silent. */
  logger?: Logger;
  /**
   * Called for each failed login (a missing or unknown key, not a key of too small a scope), with
   * the request's bindings: the place to count failures per client and rate-limit them.
   */
  onLoginFailure?(bindings: AdminBindings): void;
}

/** Variables the middlewares set for the handler. */
interface AdminVariables {
  actor: string;
  caller: Caller | undefined;
  bytes: Uint8Array;
  body: unknown;
}

/** The Hono environment of the admin app. */
export type AdminEnv = { Bindings: AdminBindings; Variables: AdminVariables };

/** The Hono app {@link createAdminApi} returns. */
export type AdminApi = OpenAPIHono<AdminEnv>;

const FAILED_LOGIN = new Set(['ERR_API_KEY_MISSING', 'ERR_API_KEY_INVALID']);

/** The bindings of a request; none when the host called `fetch(request)` without any. */
function bindingsOf(c: Context<AdminEnv>): AdminBindings {
  // Hono types `env` as always there, but `app.fetch(request)` without one leaves it undefined.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  return c.env ?? {};
}

function errorResponse(c: Context<AdminEnv>, error: unknown, logger: Logger): Response {
  const answer = renderError(error, 'admin', bindingsOf(c).logger ?? logger);
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** Strict matching on the path as received, relative to where the app is mounted. */
const strictPath: MiddlewareHandler<AdminEnv> = async (c, next) => {
  const base = baseRoutePath(c).replace(/\/\*?$/, '');
  const full = bindingsOf(c).rawPath ?? new URL(c.req.url).pathname;
  if (!full.startsWith(base)) throw new RequestError('ERR_NOT_FOUND', 'no such API route');
  matchRoute(c.req.method, full.slice(base.length));
  await next();
};

function authorize(
  deps: AdminApiDeps,
  route: AdminRoute,
  options: AdminApiOptions,
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (route.auth === 'public') {
      c.set('actor', 'anonymous');
      c.set('caller', undefined);
    } else {
      try {
        const key = await authenticate(deps.admin, c.req.header('authorization'), route.auth);
        c.set('actor', key.id);
        c.set('caller', await resolveCaller(deps, key.principalId, key.scope, route));
      } catch (error) {
        if (error instanceof OrchardError && FAILED_LOGIN.has(error.code))
          options.onLoginFailure?.(bindingsOf(c));
        throw error;
      }
    }
    await next();
  };
}

/**
 * The administrator behind a key: a disabled or vanished one is an invalid key (403), a read-only
 * one may not call a write route, and an administrator scoped below the root may call only the
 * routes that check group scope themselves.
 */
async function resolveCaller(
  deps: AdminApiDeps,
  principalId: string,
  keyScope: Caller['keyScope'],
  route: AdminRoute,
): Promise<Caller> {
  const principal = await deps.admin.findPrincipal(principalId);
  if (principal === undefined || principal.disabledAt !== undefined)
    throw new AdminError('ERR_API_KEY_INVALID', 'unknown or revoked API key');
  if (route.auth === 'write' && principal.role !== 'full')
    throw new AdminError('ERR_API_SCOPE', 'this administrator may only read');
  const caller: Caller = { principal, keyScope };
  if (route.scoped !== true && !isGlobalCaller(caller))
    throw new ManagementError(
      'ERR_ADMIN_SCOPE',
      'only administrators scoped at the root group may use this route',
      { group: principal.groupId },
    );
  return caller;
}

/** Whether the request's key may call `route` (so it may send the route's larger body). */
async function keyMayCall(
  deps: AdminApiDeps,
  route: AdminRoute,
  c: Context<AdminEnv>,
): Promise<boolean> {
  if (route.auth === 'public') return false;
  try {
    await authenticate(deps.admin, c.req.header('authorization'), route.auth);
    return true;
  } catch {
    return false;
  }
}

function handler(deps: AdminApiDeps, route: AdminRoute, api: AdminApiContext) {
  return async (c: Context<AdminEnv>): Promise<Response> => {
    const req = validateRequest(route, c, c.get('body'));
    const answer = await route.handle(
      deps,
      { ...req, actor: c.get('actor'), caller: c.get('caller') } as never,
      api,
    );
    if (answer.contentType !== undefined) {
      const content = answer.body as Uint8Array | string;
      const data = typeof content === 'string' ? content : new Uint8Array(content);
      return c.body(data, answer.status as 200, {
        'content-type': answer.contentType,
        'x-content-type-options': 'nosniff',
      });
    }
    return c.body(JSON.stringify(answer.body), answer.status as 200, {
      'content-type': 'application/json; charset=utf-8',
    });
  };
}

/**
 * Creates the admin API over `deps`: a Hono app serving every route of the table under
 * `/api/v1/...` (mount it where you like: `app.route('/admin', createAdminApi(...))`, or call its
 * `fetch`). Keys are checked per route class (`read`, `write`); refusals are JSON `{code, message}`
 * with a 4xx (403 for any key problem, never 401).
 */
export function createAdminApi(deps: AdminApiDeps, options: AdminApiOptions = {}): AdminApi {
  const logger = options.logger ?? silentLogger;
  const limit = options.bodyLimit ?? ADMIN_BODY_LIMIT;
  const app = new OpenAPIHono<AdminEnv>();
  let document: Record<string, unknown> | undefined;
  const api: AdminApiContext = {
    document: () => (document ??= openApiDocument(app)),
  };
  app.onError((error, c) => errorResponse(c, error, logger));
  app.notFound((c) =>
    errorResponse(c, new RequestError('ERR_NOT_FOUND', 'no such API route'), logger),
  );
  app.use('*', strictPath);
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'an Orchard API key (read or write scope); refusals are 403, never 401',
  });
  for (const route of ROUTES) {
    app.openAPIRegistry.registerPath(route.route);
    app.on(
      route.method,
      route.path.replace(/\{(\w+)\}/g, ':$1'),
      receiveBody(route, limit, (c) => keyMayCall(deps, route, c)),
      authorize(deps, route, options),
      parseBody(route),
      handler(deps, route, api),
    );
  }
  return app;
}

/** The OpenAPI 3.1 document of `app`'s routes, as `GET /api/v1/openapi.json` answers it. */
export function openApiDocument(app: AdminApi): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Orchard admin API',
      version: '1',
      description:
        'Authorization: Bearer <API key>. Keys have read or write scope. Missing, empty, unknown or under-scoped keys get 403 with a JSON error.',
    },
  }) as unknown as Record<string, unknown>;
}

/**
 * The admin API router: strict path matching (no `//`, dot segments, `;` or encoded separators,
 * so the route whose authentication is checked is the route whose handler runs), authentication
 * by the matched route's declared class, JSON parsing, and JSON errors.
 */
import type { AdminStore } from './admin-store.js';
import { ROUTES, type AdminDeps, type AdminRoute } from './admin-routes.js';
import { badField, isJsonObject, parsePlistOrJsonBody } from './admin-validate.js';
import { authenticate } from './api-keys.js';
import { AdminError, RequestError } from './errors.js';
import { parseJsonBody, type HttpAnswer } from './http-util.js';

/** A request as the router needs it. */
export interface AdminRequest {
  method: string;
  /** Raw path without the query string, as received. */
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

/** A matched route with its decoded parameters. */
export interface RouteMatch {
  route: AdminRoute;
  params: Record<string, string>;
}

const SAFE_PATH = /^(\/[A-Za-z0-9._@:%-]+)+$/;

function segments(path: string): string[] | undefined {
  if (!SAFE_PATH.test(path)) return undefined;
  const parts = path.slice(1).split('/');
  for (const p of parts) {
    if (p === '.' || p === '..' || /%(2e|2f|5c|00)/i.test(p)) return undefined;
  }
  return parts;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function matchOne(template: string, parts: readonly string[]): Record<string, string> | undefined {
  const want = template.slice(1).split('/');
  if (want.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, w] of want.entries()) {
    const got = parts[i] ?? '';
    const name = /^\{(\w+)\}$/.exec(w)?.[1];
    if (name === undefined) {
      if (w !== got) return undefined;
      continue;
    }
    const value = decode(got);
    if (value === undefined) return undefined;
    params[name] = value;
  }
  return params;
}

/**
 * Finds the route for `method` and `path`. Throws RequestError `ERR_NOT_FOUND` when no template
 * matches and `ERR_METHOD` (405) when one matches under another method.
 */
export function matchRoute(
  method: string,
  path: string,
  routes: readonly AdminRoute[] = ROUTES,
): RouteMatch {
  const parts = segments(path);
  let other = false;
  if (parts) {
    for (const route of routes) {
      const params = matchOne(route.path, parts);
      if (!params) continue;
      if (route.method === method) return { route, params };
      other = true;
    }
  }
  if (other) throw new RequestError('ERR_METHOD', `${method} is not allowed here`);
  throw new RequestError('ERR_NOT_FOUND', 'no such API route');
}

/** The actor name recorded in the audit log for a request. */
function actorOf(store: AdminStore, route: AdminRoute, authorization: string | undefined): string {
  if (route.auth === 'public') return 'anonymous';
  return authenticate(store, authorization, route.auth).id;
}

/**
 * The largest body `req` may send: the matched route's `bodyLimit` when the request's key may
 * call that route, else `fallback`, so that only an authorized caller can send a large body.
 */
export function adminBodyLimit(
  store: AdminStore,
  req: Pick<AdminRequest, 'method' | 'path' | 'authorization'>,
  fallback: number,
): number {
  let route: AdminRoute;
  try {
    route = matchRoute(req.method, req.path).route;
    if (route.bodyLimit === undefined || route.auth === 'public') return fallback;
    authenticate(store, req.authorization, route.auth);
  } catch {
    return fallback;
  }
  return route.bodyLimit;
}

/**
 * Every body the API takes is an object (JSON, or a plist dictionary where the route says
 * `plistBody`), and only on POST; a POST route that declares no body fields takes none (or
 * `{}`). Refusals are `ERR_BAD_REQUEST` naming `body`.
 */
function checkBody(route: AdminRoute, body: unknown): unknown {
  if (body === undefined) return undefined;
  if (route.method !== 'POST') throw badField('body', `${route.method} takes no body`);
  if (!isJsonObject(body))
    throw badField(
      'body',
      route.plistBody === true
        ? 'the body must be a JSON object or a plist dictionary'
        : 'the body must be a JSON object',
    );
  if (route.bodyFields === undefined && Object.keys(body).length > 0)
    throw badField('body', 'this route takes no body');
  return body;
}

/**
 * Serves one admin request: match, authenticate as the route declares, parse, handle. Throws
 * AdminError (and any OrchardError of the handler) for the caller to map to JSON.
 */
export async function handleAdmin(
  deps: AdminDeps,
  req: AdminRequest,
): Promise<{ answer: HttpAnswer; route: string }> {
  const { route, params } = matchRoute(req.method, req.path);
  const actor = actorOf(deps.admin, route, req.authorization);
  const parsed =
    route.plistBody === true
      ? parsePlistOrJsonBody(req.contentType, req.body)
      : parseJsonBody(req.contentType, req.body);
  const body = checkBody(route, parsed);
  const answer = await route.handle(deps, { params, query: req.query, body, actor });
  return { answer, route: route.path };
}

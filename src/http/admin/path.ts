/**
 * Strict path matching of the admin API: no `//`, dot segments, `;` or encoded separators, and
 * static segments spelled exactly, so the route whose authentication is checked is the route
 * whose handler runs. Checked on the path as received, before any router decodes it.
 */
import { RequestError } from '../../errors.js';
import type { AdminRoute } from './route.js';
import { ROUTES } from './table.js';

/** A matched route with its decoded parameters. */
export interface RouteMatch {
  route: AdminRoute;
  params: Record<string, string>;
}

const SAFE_PATH = /^(\/[A-Za-z0-9._@:%-]+)+$/;

/** The segments of a safe path; `undefined` for one with `//`, dot or encoded-separator segments. */
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
 * Finds the route for `method` and the raw `path`. Throws RequestError `ERR_NOT_FOUND` when no
 * template matches and `ERR_METHOD` (405) when one matches under another method.
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

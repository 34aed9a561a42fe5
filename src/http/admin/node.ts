/**
 * The admin API app behind node:http (`orchard-mdm/admin`): a node:http request becomes a fetch `Request` (its
 * body streamed only if the app reads it, so a refused request's body is never buffered), and
 * the app's `Response` becomes an answer the edge listener writes. The path as received goes along
 * for strict matching, since URL parsing would resolve dot segments first.
 */
import type { IncomingMessage } from 'node:http';
import { readNodeBody } from '../body.js';
import { authenticate } from '../../admin/api-keys.js';
import type { ApiKeyStore } from '../../storage/ports.js';
import type { EdgeResponse } from '../edge.js';
import type { EdgeRoute } from '../listener.js';
import type { FailedLoginLimiter } from '../rate-limit.js';
import {
  ADMIN_BODY_LIMIT,
  createAdminApi,
  type AdminApi,
  type AdminApiOptions,
  type AdminBindings,
} from './app.js';
import { matchRoute } from './path.js';
import type { AdminApiDeps } from './route.js';

/** A body stream that starts reading `req` only when the app reads it. */
function lazyBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const next: IteratorResult<Buffer> = await chunks.next();
        if (next.done === true) controller.close();
        else controller.enqueue(new Uint8Array(next.value));
      },
      async cancel() {
        await chunks?.return?.();
      },
      // No read ahead: an unread body is left to node:http, which discards it after the answer.
    },
    { highWaterMark: 0 },
  );
}

const hasBody = (req: IncomingMessage): boolean =>
  Number(req.headers['content-length'] ?? '0') > 0 ||
  req.headers['transfer-encoding'] !== undefined;

/** The fetch `Request` for `req`, whose target is `target` (path and query as received). */
function toRequest(req: IncomingMessage, target: string): Request {
  const method = req.method ?? 'GET';
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const withBody = method !== 'GET' && method !== 'HEAD' && hasBody(req);
  return new Request(`http://localhost${target}`, {
    method,
    headers,
    ...(withBody ? { body: lazyBody(req), duplex: 'half' } : {}),
  });
}

/**
 * Serves `req` with the admin app: `path` is the path as received and `bindings` what the app
 * needs of the server (client address, request logger). A GET's body, which a `Request` cannot
 * carry, is read here (refused past the admin body limit) and handed over for the app to refuse.
 */
export async function serveAdminRequest(
  app: AdminApi,
  req: IncomingMessage,
  path: string,
  bindings: AdminBindings,
): Promise<EdgeResponse> {
  const query = (req.url ?? '').indexOf('?');
  const target = query === -1 ? path : `${path}${(req.url ?? '').slice(query)}`;
  const getBody =
    (req.method === 'GET' || req.method === 'HEAD') && hasBody(req)
      ? await readNodeBody(req, ADMIN_BODY_LIMIT)
      : undefined;
  const response = await app.fetch(toRequest(req, target), {
    ...bindings,
    rawPath: path,
    ...(getBody === undefined ? {} : { getBody }),
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** Options of {@link adminRoute}. */
export interface AdminRouteOptions extends AdminApiOptions {
  /** Failed logins; while it blocks a client, requests without a valid key are 429. */
  failedLogins?: FailedLoginLimiter;
}

/** Whether `authorization` carries an active API key (any scope: a wrong scope is no failed login). */
async function hasValidKey(keys: ApiKeyStore, authorization: string | undefined): Promise<boolean> {
  try {
    await authenticate(keys, authorization, 'read');
    return true;
  } catch {
    return false;
  }
}

/**
 * The admin API under `/api/` as an edge route: labelled by route template (`/api/unmatched`
 * otherwise), failed logins counted against the client. The key is checked before the limit, so
 * a valid key is never refused because others failed to log in.
 */
export function adminRoute(deps: AdminApiDeps, options: AdminRouteOptions = {}): EdgeRoute {
  const { failedLogins, ...appOptions } = options;
  const app = createAdminApi(deps, {
    ...appOptions,
    onLoginFailure: (bindings) => {
      if (bindings.client !== undefined) void failedLogins?.failed(bindings.client);
      appOptions.onLoginFailure?.(bindings);
    },
  });
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
    limit: async ({ req, client }) =>
      failedLogins && !(await hasValidKey(deps.admin, req.headers.authorization))
        ? failedLogins.blocked(client)
        : undefined,
    serve: ({ req, path, client, logger }) => serveAdminRequest(app, req, path, { client, logger }),
  };
}

/**
 * The web app on the edge: `/portal/`, `/console/` and `/static/` as edge routes of their own
 * (the device routes keep their fast path and never pass through Hono), each request's body read
 * here within its limit (64 KiB for forms, 5 MiB for uploads) and handed to the app as a fetch
 * `Request`, with the client address and the request's logger as bindings.
 */
import type { IncomingMessage } from 'node:http';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { RequestError } from '../../errors.js';
import { readNodeBody } from '../body.js';
import type { EdgeResponse } from '../edge.js';
import type { EdgeContext, EdgeRoute } from '../listener.js';
import { bodyLimitOf, createWebApp, type WebAppOptions } from './app.js';
import type { ConsoleStatusDeps } from './console/index.js';
import { page } from './layout.js';
import { SECURITY_HEADERS, type WebEnv } from './security.js';
import type { WebDeps } from './types.js';

/** The fetch `Request` of `req` (whose path is `path`), its body read within the limit. */
async function toRequest(req: IncomingMessage, path: string): Promise<Request> {
  const method = req.method ?? 'GET';
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const q = (req.url ?? '').indexOf('?');
  const target = q === -1 ? path : `${path}${(req.url ?? '').slice(q)}`;
  const withBody = method !== 'GET' && method !== 'HEAD';
  const body = withBody
    ? await readNodeBody(req, bodyLimitOf(req.headers['content-type']))
    : undefined;
  return new Request(`http://localhost${target}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: new Uint8Array(body) }),
  });
}

/** The 413 page of a body past its limit (the connection is closed: the rest is unread). */
async function tooLarge(path: string): Promise<EdgeResponse> {
  const body = await page({
    title: 'Too large',
    area: path.startsWith('/console') ? 'console' : 'portal',
    body: html`<h1>Too large</h1>
      <p>The form sent more than this page accepts, so nothing was changed.</p>`,
  });
  return {
    status: 413,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=UTF-8',
      'cache-control': 'no-store',
      connection: 'close',
    },
    body: Buffer.from(String(body)),
  };
}

/** Serves one edge request with the web app. */
export async function serveWebRequest(app: Hono<WebEnv>, ctx: EdgeContext): Promise<EdgeResponse> {
  let request: Request;
  try {
    request = await toRequest(ctx.req, ctx.path);
  } catch (error) {
    if (error instanceof RequestError && error.code === 'ERR_BODY_TOO_LARGE')
      return tooLarge(ctx.path);
    throw error;
  }
  const response = await app.fetch(request, {
    client: ctx.client,
    logger: ctx.logger,
  });
  const headers = Object.fromEntries(response.headers);
  const cookies = response.headers.getSetCookie();
  // One cookie per answer is all the web areas set; the last one wins if there were more.
  if (cookies.length > 0) headers['set-cookie'] = cookies.at(-1) as string;
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * The edge routes of the web areas (`/portal`, `/console`, `/static` and everything under
 * them), labelled by area so no id or token reaches a log line or a metric label. Add them to
 * the edge's route table beside the device and admin routes.
 */
export function webRoutes(
  deps: WebDeps & ConsoleStatusDeps,
  options: WebAppOptions = {},
): EdgeRoute[] {
  const app = createWebApp(deps, options);
  const serve = (ctx: EdgeContext) => serveWebRequest(app, ctx);
  const methods = ['GET', 'HEAD', 'POST'] as const;
  return [
    { path: '/portal', label: '/portal/', methods, serve },
    { path: '/portal/', prefix: true, label: '/portal/*', methods, serve },
    { path: '/console', label: '/console/', methods, serve },
    { path: '/console/', prefix: true, label: '/console/*', methods, serve },
    { path: '/static/', prefix: true, label: '/static/*', methods: ['GET', 'HEAD'], serve },
  ];
}

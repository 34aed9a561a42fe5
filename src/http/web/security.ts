/**
 * The web areas' defences in one place: security headers on every answer, session cookies
 * (`HttpOnly`, `SameSite=Lax`, `Secure` behind https), the middleware that resumes a portal or
 * console session and refuses a POST without its CSRF token, and the Origin check of the
 * sign-in forms (no session yet, so no token to carry).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Logger } from '../../logger.js';
import type { WebSessionKind } from '../../storage/ports.js';
import { refuseNul } from '../admin/validate.js';
import type { FailedLoginLimiter } from '../rate-limit.js';
import { page } from './layout.js';
import type { ActiveSession, ConsoleViewer, PortalViewer, WebDeps } from './types.js';

/** What the edge hands the web app with each request. */
export interface WebBindings {
  /** The client address (trusted-proxy rules applied); the sign-in limiter's key. */
  client?: string;
  logger?: Logger;
}

/**
 * The Hono environment of the web app: bindings, the viewer the middleware resolved, and the
 * failed sign-in limiter both areas' sign-in forms share (`c.get('failedLogins')`).
 */
export type WebEnv = {
  Bindings: WebBindings;
  Variables: { portal: PortalViewer; console: ConsoleViewer; failedLogins: FailedLoginLimiter };
};

/** The Content-Security-Policy of every page: no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The headers every answer of the web areas carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * Middleware setting {@link SECURITY_HEADERS} on every answer, and `Cache-Control: no-store`
 * on every answer that did not choose its own caching (pages carry personal data).
 */
export function securityHeaders(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  };
}

/** The session cookie's name of an area: `orchard_portal` or `orchard_console`. */
export const cookieName = (kind: WebSessionKind): string => `orchard_${kind}`;

/** The path an area's cookie is sent to: `/portal/` or `/console/`. */
export const cookiePath = (kind: WebSessionKind): string => `/${kind}/`;

/** Sets the session cookie of `kind` (no Max-Age: the store decides when a session ends). */
export function setSessionCookie(
  c: Context,
  kind: WebSessionKind,
  token: string,
  secure: boolean,
): void {
  setCookie(c, cookieName(kind), token, {
    httpOnly: true,
    sameSite: 'Lax',
    path: cookiePath(kind),
    secure,
  });
}

/** Clears the session cookie of `kind`. */
export function clearSessionCookie(c: Context, kind: WebSessionKind, secure: boolean): void {
  deleteCookie(c, cookieName(kind), {
    httpOnly: true,
    sameSite: 'Lax',
    path: cookiePath(kind),
    secure,
  });
}

/** The session token the request's cookie of `kind` carries, or `undefined`. */
export function sessionToken(c: Context, kind: WebSessionKind): string | undefined {
  const value = getCookie(c, cookieName(kind));
  return value === undefined || value === '' ? undefined : value;
}

/** The hidden `_csrf` input every POST form of a session carries. */
export function csrfField(session: ActiveSession): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}" />`;
}

/** A form field of the request's (cached) parsed body, or `undefined` when absent or a file. */
export async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  const body = await c.req.parseBody();
  const value = body[name];
  if (typeof value !== 'string') return undefined;
  refuseNul(value, name);
  return value;
}

/** The 403 page of a form posted without a valid token (stale tab or forged post). */
export function csrfRefused(c: Context, kind: WebSessionKind): Response | Promise<Response> {
  return c.html(
    page({
      title: 'Form expired',
      area: kind,
      body: html`<h1>This form has expired</h1>
        <p>
          The form was sent without a valid security token, so nothing was changed. Go back, reload
          the page and try again.
        </p>
        <p><a href="${cookiePath(kind)}">Back</a></p>`,
    }),
    403,
  );
}

/** Whether a POST's `_csrf` field is the session's token (a GET needs none). */
async function csrfOk(c: Context, session: ActiveSession, deps: WebDeps): Promise<boolean> {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return true;
  return deps.sessions.checkCsrf(session, await formField(c, '_csrf'));
}

/** The live session of the request's cookie of `kind`, or `undefined`. */
export async function currentSession(
  c: Context,
  deps: WebDeps,
  kind: WebSessionKind,
): Promise<ActiveSession | undefined> {
  const token = sessionToken(c, kind);
  return token === undefined ? undefined : deps.sessions.resume(kind, token);
}

/**
 * Middleware of the portal's signed-in pages: resumes the `orchard_portal` session and its user
 * (`c.get('portal')`), else redirects (303) to `/portal/sign-in`; a POST without the session's
 * `_csrf` answers the 403 "form expired" page.
 */
export function requirePortal(deps: WebDeps): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const session = await currentSession(c, deps, 'portal');
    const user = session && (await deps.admin.findUser(session.subjectId));
    if (session === undefined || user === undefined) return c.redirect('/portal/sign-in', 303);
    if (!(await csrfOk(c, session, deps))) return csrfRefused(c, 'portal');
    c.set('portal', { session, user });
    await next();
    return undefined;
  };
}

/**
 * Middleware of the console's signed-in pages: resumes the `orchard_console` session and its
 * administrator (enabled) as a {@link ConsoleViewer} (`c.get('console')`; `keyScope` `write`
 * for a full administrator, `read` for a read-only one), else redirects (303) to
 * `/console/sign-in`; a POST without the session's `_csrf` answers the 403 page.
 */
export function requireConsole(deps: WebDeps): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const session = await currentSession(c, deps, 'console');
    const principal = session && (await deps.admin.findPrincipal(session.subjectId));
    if (session === undefined || principal === undefined || principal.disabledAt !== undefined)
      return c.redirect('/console/sign-in', 303);
    if (!(await csrfOk(c, session, deps))) return csrfRefused(c, 'console');
    const keyScope = principal.role === 'full' ? 'write' : 'read';
    c.set('console', { session, caller: { principal, keyScope } });
    await next();
    return undefined;
  };
}

/**
 * Whether a sign-in POST (no session, so no CSRF token) comes from our own pages: a browser
 * sends `Origin` on every POST; when present it must name this host (the `Host` header) or
 * the public URL. A cross-site `Sec-Fetch-Site` is refused too.
 */
export function sameOrigin(c: Context, publicUrl: string): boolean {
  // A browser's fetch metadata decides first: our pages send `Referrer-Policy: no-referrer`, so
  // Chromium posts their forms with `Origin: null` and `Sec-Fetch-Site: same-origin`. Any other
  // site (a sibling subdomain included) is refused.
  const site = c.req.header('sec-fetch-site');
  if (site === 'same-origin') return true;
  if (site !== undefined && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  // Without a Host header (an embedder's fetch), the request URL's host is this host.
  if (host === (c.req.header('host') ?? new URL(c.req.url).host)) return true;
  try {
    return new URL(publicUrl).origin === origin;
  } catch {
    return false;
  }
}

/** The client address the edge bound to the request (`unknown` when embedded without one). */
export function clientOf(c: Context): string {
  return (c.env as WebBindings | undefined)?.client ?? 'unknown';
}

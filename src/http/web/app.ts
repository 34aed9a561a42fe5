/**
 * The web app of the portal (`/portal/`), the console (`/console/`) and their static files
 * (`/static/`): one Hono app with the security headers on every answer, body limits (64 KiB
 * for forms, 5 MiB for `multipart/form-data` uploads), the sign-in limiter shared by both
 * areas, and error pages that never show a stack trace.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createFailedLoginLimiter, type FailedLoginLimiter } from '../rate-limit.js';
import { consoleRoutes, type ConsoleStatusDeps } from './console/index.js';
import { errorPage, messagePage, notFoundPage } from './pages.js';
import { portalRoutes } from './portal/index.js';
import { securityHeaders, type WebEnv } from './security.js';
import { staticRoutes } from './static.js';
import type { WebDeps } from './types.js';

/** The most a form body may hold (urlencoded or multipart without files). */
export const FORM_BODY_LIMIT = 64 * 1024;
/** The most an upload (`multipart/form-data`: a 5 MiB CSV or profile, plus the form around it) may hold. */
export const UPLOAD_BODY_LIMIT = 5 * 1024 * 1024 + FORM_BODY_LIMIT;

/** The body limit of a request by its content type. */
export function bodyLimitOf(contentType: string | undefined): number {
  return /^multipart\/form-data/i.test(contentType ?? '') ? UPLOAD_BODY_LIMIT : FORM_BODY_LIMIT;
}

/** Options of {@link createWebApp}. */
export interface WebAppOptions {
  /** Failed sign-ins per client address; default 10 a minute (100 a minute overall). */
  failedLogins?: FailedLoginLimiter;
}

/** Refuses (413 page) a portal body past its limit, before any handler parses it (the console keeps its own). */
function bodyLimits(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const limit = bodyLimitOf(c.req.header('content-type'));
    const onError = (ctx: Context) =>
      messagePage(ctx, 413, 'Too large', `The form sent more than ${String(limit)} bytes.`);
    return bodyLimit({ maxSize: limit, onError })(c, next);
  };
}

/**
 * The web app: `/static/*`, the portal's pages and the console's (registered by
 * `consoleRoutes`; `deps` may carry the push provider's health for its dashboard). Bindings
 * (`client`, `logger`) come from the edge, see `webRoutes`.
 */
export function createWebApp(
  deps: WebDeps & ConsoleStatusDeps,
  options: WebAppOptions = {},
): Hono<WebEnv> {
  const failedLogins =
    options.failedLogins ?? createFailedLoginLimiter({ perMinute: 10, globalPerMinute: 100 });
  const app = new Hono<WebEnv>({ strict: true });
  app.use('*', securityHeaders());
  app.use('*', async (c, next) => {
    c.set('failedLogins', failedLogins);
    await next();
  });
  app.use('/portal/*', bodyLimits());
  app.onError(errorPage);
  app.notFound(notFoundPage);
  staticRoutes(app);
  app.get('/portal', (c) => c.redirect('/portal/', 308));
  portalRoutes(app, deps);
  consoleRoutes(app, deps, { signInLimiter: failedLogins });
  return app;
}

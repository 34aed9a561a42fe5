/**
 * The administrators' console (`/console/`): sign-in with a password or an API key, the
 * dashboard, devices, groups and settings, users, policies, the profile library and the audit
 * log, over the same services and scope rules as the admin API. Every page but sign-in needs a
 * console session; every POST its CSRF token (the foundation's `requireConsole`).
 */
import { bodyLimit } from 'hono/body-limit';
import type { Hono, MiddlewareHandler } from 'hono';
import { except } from 'hono/combine';
import type { FailedLoginLimiter } from '../../rate-limit.js';
import type { WebDeps } from '../types.js';
import { dashboardRoutes, type ConsoleStatusDeps } from './dashboard.js';
import { deviceRoutes } from './devices.js';
import { notice, page, requireConsole } from './foundation.js';
import { groupRoutes } from './groups.js';
import { h, refusalPage, type ConsoleEnv } from './kit.js';
import { policyRoutes } from './policies.js';
import { profileRoutes, UPLOAD_LIMIT } from './profiles.js';
import { signInRoutes } from './sign-in.js';
import { userRoutes } from './users.js';

export type { ConsoleStatusDeps } from './dashboard.js';

/** Largest form body: 64 KiB (uploads: 5 MiB). */
export const FORM_LIMIT = 64 * 1024;

const UPLOADS = new Set(['/console/users/import', '/console/profiles']);

/** Options of {@link consoleRoutes}. */
export interface ConsoleOptions {
  /** Failed sign-ins per client; default 10 a minute per address. */
  signInLimiter?: FailedLoginLimiter;
}

/**
 * Registers every console URL on `app` (the web app): `GET /console` and `/console/` ...
 * through `/console/audit`. `deps` may carry the push provider's state for the dashboard.
 */
export function consoleRoutes(
  app: Hono<ConsoleEnv>,
  deps: WebDeps & ConsoleStatusDeps,
  options: ConsoleOptions = {},
): void {
  app.post('/console/*', async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const limit = UPLOADS.has(path) ? UPLOAD_LIMIT + 64 * 1024 : FORM_LIMIT;
    return bodyLimit({
      maxSize: limit,
      onError: (cx) => {
        const words = `The form is larger than ${Math.floor(limit / 1024)} KiB, so nothing was changed.`;
        const body = h`<h1>Too large</h1>${notice('error', words)}`;
        return cx.html(page({ title: 'Too large', area: 'console', body }), 413);
      },
    })(c, next);
  });
  signInRoutes(app, deps, options.signInLimiter);
  app.get('/console', (c) => c.redirect('/console/', 301));
  // Every console page but sign-in and sign-out needs a session (and a POST its CSRF token).
  app.use(
    '/console/*',
    except(['/console/sign-in', '/console/sign-out'], requireConsole(deps) as MiddlewareHandler),
  );
  dashboardRoutes(app, deps);
  deviceRoutes(app, deps);
  groupRoutes(app, deps);
  userRoutes(app, deps);
  policyRoutes(app, deps);
  profileRoutes(app, deps);
  app.all('/console/*', (c) => refusalPage(c, 404, 'There is no such page.'));
}

/**
 * The web areas' answers that are not a feature's page: not found, forbidden, too many
 * attempts, and the error page an exception becomes (its message only when it is meant for
 * the user: an {@link OrchardError} with `expose`; anything else is logged and answered 500).
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { OrchardError } from '../../errors.js';
import { page } from './layout.js';
import type { WebBindings } from './security.js';

/** The area a path belongs to (for the error page's frame). */
export const areaOf = (path: string): 'portal' | 'console' =>
  path.startsWith('/console') ? 'console' : 'portal';

/** A plain message page with a heading, answered with `status`. */
export function messagePage(
  c: Context,
  status: 400 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503,
  title: string,
  text: string,
): Response | Promise<Response> {
  const area = areaOf(c.req.path);
  return c.html(
    page({
      title,
      area,
      body: html`<h1>${title}</h1>
        <p>${text}</p>
        <p><a href="/${area}/">Back to the start page</a></p>`,
    }),
    status,
  );
}

/** The 404 page. */
export const notFoundPage = (c: Context): Response | Promise<Response> =>
  messagePage(c, 404, 'Page not found', 'There is nothing at this address.');

/** The 429 page of sign-in attempts, with `Retry-After`. */
export function tooManyAttempts(c: Context, seconds: number): Response | Promise<Response> {
  c.header('retry-after', String(seconds));
  return messagePage(
    c,
    429,
    'Too many attempts',
    `Too many sign-in attempts from your network. Wait ${String(seconds)} seconds and try again.`,
  );
}

type ExposedStatus = 400 | 403 | 404 | 409 | 413 | 422 | 429 | 503;
const EXPOSED: ReadonlySet<number> = new Set([400, 403, 404, 409, 413, 422, 429, 503]);

/** The page of an error thrown by a handler; unexpected errors are logged, never shown. */
export function errorPage(error: Error, c: Context): Response | Promise<Response> {
  if (error instanceof OrchardError && error.expose && EXPOSED.has(error.status))
    return messagePage(c, error.status as ExposedStatus, 'That did not work', error.message);
  if (error instanceof OrchardError && error.status === 503)
    return messagePage(c, 503, 'Try again later', 'The service is busy. Try again in a moment.');
  (c.env as WebBindings | undefined)?.logger?.error({ err: error }, 'web page failed');
  return messagePage(
    c,
    500,
    'Something went wrong',
    'The page could not be shown. Try again later.',
  );
}

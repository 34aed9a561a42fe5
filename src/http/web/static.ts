/**
 * The web areas' static files (`/static/orchard.css`, `/static/orchard.js`): read once when the
 * app is built, answered with their content type and a long cache lifetime. Only the names in
 * {@link STATIC_FILES} are served; anything else under `/static/` is 404.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import type { WebEnv } from './security.js';

/** The files served under `/static/` and their content types. */
export const STATIC_FILES: Readonly<Record<string, string>> = {
  'orchard.css': 'text/css; charset=utf-8',
  'orchard.js': 'text/javascript; charset=utf-8',
};

/** One day: the files change only with a new release. */
const CACHE = 'public, max-age=86400';

/** The bytes of a static file: beside this module, else in the source tree (a build run from the repo). */
function readStatic(name: string): Buffer | undefined {
  const candidates = [
    new URL(`./static/${name}`, import.meta.url),
    new URL(`../../../src/http/web/static/${name}`, import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(url));
  return found === undefined ? undefined : readFileSync(found);
}

/** Registers `GET /static/:name` on `app`, the files read now (absent ones are 404). */
export function staticRoutes(app: Hono<WebEnv>): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = readStatic(name);
    if (body !== undefined) files.set(name, { body, type });
  }
  app.get('/static/:name', (c) => {
    const file = files.get(c.req.param('name'));
    if (file === undefined) return c.text('Not found', 404);
    return c.body(new Uint8Array(file.body), 200, {
      'content-type': file.type,
      'cache-control': CACHE,
    });
  });
}

/**
 * The page frame both web areas share: the document head (the one stylesheet, no inline style
 * or script), the area's header with its navigation, and the main content. Everything is built
 * with `hono/html`, so each interpolated value is escaped.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** Markup built by `hono/html` (possibly still resolving nested promises). */
export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What a page is made of. */
export interface PageOptions {
  /** The document title (the product name is appended). */
  title: string;
  area: 'portal' | 'console';
  /** The navigation shown in the header (signed-in pages), e.g. links and a sign-out form. */
  nav?: Markup;
  body: Markup;
  /** Reloads the page after this many seconds (pending work whose status the page shows). */
  refreshSeconds?: number;
}

const AREA_NAME = { portal: 'Orchard self-service', console: 'Orchard console' } as const;

/** A whole HTML page: `lang="en"`, the stylesheet, the area's header and `body` in `<main>`. */
export function page(opts: PageOptions): Markup {
  const refresh =
    opts.refreshSeconds === undefined
      ? ''
      : html`<meta http-equiv="refresh" content="${String(opts.refreshSeconds)}" />`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${refresh}
        <title>${opts.title} · ${AREA_NAME[opts.area]}</title>
        <link rel="stylesheet" href="/static/orchard.css" />
      </head>
      <body class="area-${opts.area}">
        <header class="site-header">
          <a class="brand" href="/${opts.area}/">${AREA_NAME[opts.area]}</a>
          ${opts.nav === undefined ? '' : html`<nav aria-label="Main">${opts.nav}</nav>`}
        </header>
        <main id="main">${opts.body}</main>
      </body>
    </html>`;
}

/** A notice box: `info` for confirmations, `error` for what went wrong (role `alert`). */
export function notice(kind: 'info' | 'error', text: Markup | string): Markup {
  return kind === 'error'
    ? html`<p class="notice notice-error" role="alert">${text}</p>`
    : html`<p class="notice notice-info" role="status">${text}</p>`;
}

/** A sign-out button (a POST form with the session's CSRF field) for an area's header. */
export function signOutForm(area: 'portal' | 'console', csrf: Markup): Markup {
  return html`<form class="sign-out" method="post" action="/${area}/sign-out">
    ${csrf}<button type="submit">Sign out</button>
  </form>`;
}

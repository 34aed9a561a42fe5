/**
 * What every console page shares: the Hono environment, the escaped template helper, the page
 * frame with the console's navigation, service refusals shown as pages (out of sight is a 404
 * page, a rule's 409 or 422 its message), form fields, audit entries and redirects after POST.
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { recordAudit } from '../../../admin/audit.js';
import { isGlobalCaller, mayWrite, type Caller } from '../../../admin/principals.js';
import { AdminError, hiddenMessage, OrchardError } from '../../../errors.js';
import { refuseNul } from '../../admin/validate.js';
import type { GroupTree } from '../../../management/tree.js';
import type { ConsoleViewer, WebDeps } from '../types.js';
import { csrfField, notice, page, signOutForm, type WebEnv } from './foundation.js';

/** Markup built by the console's templates (every interpolation escaped). */
export type Html = HtmlEscapedString;

/** The Hono environment of the console's routes (the web app's). */
export type ConsoleEnv = WebEnv;

/** A request of the console. */
export type ConsoleContext = Context<ConsoleEnv>;

/** The app the console's routes are registered on. */
export type ConsoleApp = Hono<ConsoleEnv>;

/** The `html` tagged template, synchronous: the console never interpolates promises. */
export const h = (strings: TemplateStringsArray, ...values: unknown[]): Html =>
  html(strings, ...values) as Html;

/** Joins rendered fragments. */
export const join = (parts: readonly Html[]): Html => h`${parts}`;

/** The signed-in viewer of a console request. */
export const viewerOf = (c: ConsoleContext): ConsoleViewer => c.get('console');

/** Whether the viewer may change anything at all (a full administrator with a write session). */
export const writes = (viewer: ConsoleViewer): boolean => mayWrite(viewer.caller);

/** The hidden CSRF field of the viewer's forms. */
export const csrf = (viewer: ConsoleViewer): Html => csrfField(viewer.session) as Html;

const NAV: readonly { href: string; label: string; global?: boolean }[] = [
  { href: '/console/', label: 'Dashboard' },
  { href: '/console/devices', label: 'Devices' },
  { href: '/console/groups', label: 'Groups & settings' },
  { href: '/console/users', label: 'Users' },
  { href: '/console/policies', label: 'Policies' },
  { href: '/console/profiles', label: 'Profile library' },
  { href: '/console/audit', label: 'Audit log', global: true },
];

/** The console's navigation: its sections, who is signed in, and the sign-out button. */
export function consoleNav(viewer: ConsoleViewer): Html {
  const { principal } = viewer.caller;
  const links = NAV.filter((n) => n.global !== true || isGlobalCaller(viewer.caller)).map(
    (n) => h`<li><a href="${n.href}">${n.label}</a></li>`,
  );
  const role = writes(viewer) ? 'full' : 'read-only';
  return h`<ul class="nav-links">${links}</ul>
<span class="who">${principal.name} (${role})</span>
${signOutForm('console', csrf(viewer))}`;
}

/** Answers a console page with the frame, `Cache-Control: no-store`, and `status`. */
export function render(
  c: ConsoleContext,
  title: string,
  body: Html,
  status = 200,
): Response | Promise<Response> {
  c.header('Cache-Control', 'no-store');
  const nav = consoleNav(viewerOf(c));
  return c.html(page({ title, area: 'console', nav, body }), status as ContentfulStatusCode);
}

/** A refusal's page: its status, a heading and the message in words. */
export function refusalPage(
  c: ConsoleContext,
  status: number,
  message: string,
): Response | Promise<Response> {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Not done';
  const body = h`<h1>${title}</h1>${notice('error', message)}
<p><a href="/console/">Back to the dashboard</a></p>`;
  return render(c, title, body, status === 401 ? 403 : status);
}

/** The words of a refusal: the message and, for invalid values, each issue. */
export function refusalText(error: OrchardError): string {
  const issues = (error as { issues?: readonly unknown[] }).issues;
  if (issues === undefined || issues.length === 0) return error.message;
  const words = issues.map((i) =>
    typeof i === 'object' && i !== null && 'message' in i ? String(i.message) : JSON.stringify(i),
  );
  return `${error.message}: ${words.join('; ')}`;
}

/**
 * A handler whose Orchard refusals become pages with their status (404 page when out of sight):
 * the message when it is written for clients (4xx, and every AdminError such as 503
 * `ERR_MAIL_DISABLED`), a plain sentence otherwise. Anything else reaches the app's handler.
 */
export function guarded(
  handler: (c: ConsoleContext) => Promise<Response>,
): (c: ConsoleContext) => Promise<Response> {
  return async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      if (!(error instanceof OrchardError)) throw error;
      const exposed = error.expose || error instanceof AdminError;
      return refusalPage(
        c,
        error.status,
        exposed ? refusalText(error) : hiddenMessage(error.status),
      );
    }
  };
}

/** The audit actor of a console session: the administrator, marked as signed in to the console. */
export const actorOf = (caller: Caller): string => `console:${caller.principal.id}`;

/** Appends an audit entry for the viewer (as the admin API's `audit` does for a key). */
export async function auditAs(
  deps: Pick<WebDeps, 'admin'>,
  viewer: ConsoleViewer,
  action: string,
  target: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await recordAudit(deps.admin, actorOf(viewer.caller), action, target, detail);
}

/** A 303 redirect to `path` with a notice key the page shows as a fixed sentence. */
export function seeOther(c: ConsoleContext, path: string, notice?: string): Response {
  const sep = path.includes('?') ? '&' : '?';
  return c.redirect(notice === undefined ? path : `${path}${sep}notice=${notice}`, 303);
}

/** The sentence of a notice key (unknown keys show nothing: no text is reflected from the URL). */
export function noticeOf(c: ConsoleContext, notices: Record<string, string>): Html {
  const key = c.req.query('notice');
  const text = key === undefined ? undefined : notices[key];
  return text === undefined ? h`` : (notice('info', text) as Html);
}

/** A posted form's fields: single values and repeated ones. */
export interface Form {
  get(name: string): string | undefined;
  all(name: string): string[];
  file(name: string): File | undefined;
}

/**
 * Reads a urlencoded or multipart form body. A text field holding U+0000 is refused (400 page
 * naming it): nothing typed into a form needs it, and PostgreSQL cannot store it.
 */
export async function readForm(c: ConsoleContext): Promise<Form> {
  const body = await c.req.parseBody({ all: true });
  for (const [name, value] of Object.entries(body))
    for (const v of Array.isArray(value) ? value : [value])
      if (typeof v === 'string') refuseNul(v, name);
  const values = (name: string): (string | File)[] => {
    const v = body[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  return {
    get: (name) => values(name).find((v): v is string => typeof v === 'string'),
    all: (name) => values(name).filter((v): v is string => typeof v === 'string'),
    file: (name) => values(name).find((v): v is File => typeof v !== 'string'),
  };
}

/** A date as the console shows it (UTC, to the second), or a dash. */
export function when(at: Date | string | undefined | null): string {
  if (at === undefined || at === null) return '—';
  const d = typeof at === 'string' ? new Date(at) : at;
  return Number.isNaN(d.getTime()) ? '—' : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Any value as text: strings as they are, lists joined, other values as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(asText).join(', ');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === undefined ? '' : JSON.stringify(value);
}

/** A path segment, percent-encoded. */
export const seg = (value: string): string => encodeURIComponent(value);

/** A group's name as a link to its page. */
export const groupLink = (tree: GroupTree, id: string): Html =>
  h`<a href="/console/groups/${seg(id)}">${tree.get(id)?.name ?? id}</a>`;

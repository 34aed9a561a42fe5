/**
 * One user in the console: their fields, the devices they own, and their personal enrollment
 * link with its QR code always visible (an SVG as a `data:` image), with Send by e-mail and
 * Rotate for administrators who may change the user. A user without a policy (or in a group that
 * does not allow device enrollment) gets the service's explanation instead of a link.
 */
import { OrchardError } from '../../../errors.js';
import type { LinkView } from '../../../management/user-links.js';
import { authorizeUser } from '../../admin/routes/user-links-views.js';
import type { WebDeps } from '../types.js';
import { deviceName } from './device-scope.js';
import {
  auditAs,
  csrf,
  groupLink,
  guarded,
  h,
  noticeOf,
  render,
  seeOther,
  seg,
  viewerOf,
  when,
  writes,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';
import { canEdit } from '../../../admin/principals.js';

const NOTICES = {
  created: 'User added.',
  sent: 'The enrollment link was sent by e-mail.',
  rotated: 'A new enrollment link replaced the old one; the old link no longer works.',
};

/** The QR code of `url` as a `data:` URL (an SVG, base64). */
export async function qrDataUrl(deps: Pick<WebDeps, 'userLinks'>, url: string): Promise<string> {
  const svg = await deps.userLinks.qr(url, 'svg');
  const bytes = typeof svg === 'string' ? Buffer.from(svg, 'utf8') : Buffer.from(svg);
  return `data:image/svg+xml;base64,${bytes.toString('base64')}`;
}

async function linkSection(
  deps: WebDeps,
  c: ConsoleContext,
  userId: string,
  editable: boolean,
): Promise<Html> {
  let link: LinkView;
  try {
    link = await deps.userLinks.personal(userId);
  } catch (error) {
    if (!(error instanceof OrchardError) || !error.expose) throw error;
    return h`<section><h2>Enrollment link</h2><p class="notice notice-error" role="alert">${error.message}</p></section>`;
  }
  const viewer = viewerOf(c);
  const base = `/console/users/${seg(userId)}`;
  const forms = editable
    ? h`<form method="post" action="${base}/send" class="inline">${csrf(viewer)}<button type="submit">Send by e-mail</button></form>
<form method="post" action="${base}/rotate" class="inline">${csrf(viewer)}<button type="submit">Rotate the link</button></form>`
    : '';
  const r = link.record;
  return h`<section><h2>Enrollment link</h2>
<p><img class="qr" src="${await qrDataUrl(deps, link.url)}" alt="QR code of the enrollment link" width="220" height="220"></p>
<p>Link: <code data-testid="link-url">${link.url}</code></p>
<table><tbody><tr><th scope="row">Status</th><td>${link.status}</td></tr><tr><th scope="row">State</th><td>${link.state}</td></tr>
<tr><th scope="row">Expires</th><td>${when(r.expiresAt)}</td></tr><tr><th scope="row">Sent</th><td>${when(r.sentAt)}</td></tr></tbody></table>
${forms}</section>`;
}

async function devicesSection(deps: WebDeps, userId: string): Promise<Html> {
  const owned = await deps.admin.listUserEnrollments(userId);
  if (owned.length === 0) return h`<section><h2>Devices</h2><p>No devices yet.</p></section>`;
  const records = await deps.storage.findEnrollments(owned.map((o) => o.enrollmentId));
  const items = records.map(
    (e) => h`<li><a href="/console/devices/${seg(e.id)}">${deviceName(e)}</a></li>`,
  );
  return h`<section><h2>Devices</h2><ul>${items}</ul></section>`;
}

async function userPage(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const user = await authorizeUser(deps, viewer.caller, c.req.param('id') ?? '', 'read');
  const [view] = await deps.users.views([user]);
  const tree = await deps.groups.tree();
  const editable = writes(viewer) && canEdit(tree, viewer.caller, user.groupId);
  const row = (label: string, value: string | null | undefined) =>
    h`<tr><th scope="row">${label}</th><td>${value ?? '—'}</td></tr>`;
  const body = h`<h1>${user.username}</h1>${noticeOf(c, NOTICES)}
<table><tbody>${row('E-mail', user.email)}${row('Name', [user.firstName, user.lastName].filter(Boolean).join(' '))}
<tr><th scope="row">Group</th><td>${groupLink(tree, user.groupId)}</td></tr>
${row('Own policy', view?.policy ?? '(the group default)')}${row('Managed Apple Account', user.managedAppleId)}
</tbody></table>${await linkSection(deps, c, user.id, editable)}${await devicesSection(deps, user.id)}`;
  return render(c, user.username, body);
}

/** Rotates or sends the user's link, audited as the admin API does, back to the user's page. */
async function linkAction(deps: WebDeps, c: ConsoleContext, which: 'rotate' | 'send') {
  const viewer = viewerOf(c);
  const user = await authorizeUser(deps, viewer.caller, c.req.param('id') ?? '', 'write');
  const link = await deps.userLinks[which](user.id);
  await auditAs(deps, viewer, `user.enrollment-link.${which}`, user.id, { linkId: link.record.id });
  return seeOther(c, `/console/users/${seg(user.id)}`, which === 'rotate' ? 'rotated' : 'sent');
}

/** Registers `GET /console/users/{id}` and its `send` and `rotate` forms. */
export function userPageRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/users/:id',
    guarded((c) => userPage(deps, c)),
  );
  app.post(
    '/console/users/:id/send',
    guarded((c) => linkAction(deps, c, 'send')),
  );
  app.post(
    '/console/users/:id/rotate',
    guarded((c) => linkAction(deps, c, 'rotate')),
  );
}

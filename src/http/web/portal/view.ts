/**
 * What every signed-in portal page shares: the navigation, the page frame, the M13 ownership
 * check (another user's device and an unknown id answer the same 403 page), the device's
 * self-service settings, and device facts in words.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { EnrollmentRecord } from '../../../storage/ports.js';
import { page, signOutForm, type Markup } from '../layout.js';
import { csrfField } from '../security.js';
import type { PortalViewer, WebDeps } from '../types.js';

/** The self-service page's values (M13), as the portal reads them. */
export interface SelfService {
  installOptional: boolean;
  installInteractive: boolean;
  removeOptional: boolean;
  lock: boolean;
  clearPasscode: boolean;
  deviceQuery: boolean;
  erase: boolean;
  downloadProfiles: boolean;
}

/** The portal's header navigation for a signed-in user. */
export function portalNav(viewer: PortalViewer): Markup {
  return html`<ul>
      <li><a href="/portal/">My devices</a></li>
      <li><a href="/portal/enroll">Enroll a device</a></li>
    </ul>
    <span class="muted">${viewer.user.username}</span>
    ${signOutForm('portal', csrfField(viewer.session))}`;
}

/** A signed-in portal page. */
export function portalPage(
  viewer: PortalViewer,
  title: string,
  body: Markup,
  refreshSeconds?: number,
): Markup {
  return page({
    title,
    area: 'portal',
    nav: portalNav(viewer),
    body,
    ...(refreshSeconds === undefined ? {} : { refreshSeconds }),
  });
}

/** The one answer for a device that is not the viewer's, whether it exists or not (M13). */
export function notYours(c: Context, viewer: PortalViewer): Response | Promise<Response> {
  return c.html(
    portalPage(
      viewer,
      'Not available',
      html`<h1>Not available</h1>
        <p>This device is not one of yours, or it does not exist.</p>
        <p><a href="/portal/">Back to my devices</a></p>`,
    ),
    403,
  );
}

/** The viewer's enrollment `id`, or `undefined` when the user does not own it (or it is gone). */
export async function ownedEnrollment(
  deps: WebDeps,
  viewer: PortalViewer,
  id: string,
): Promise<EnrollmentRecord | undefined> {
  const owned = await deps.admin.listUserEnrollments(viewer.user.id);
  if (!owned.some((o) => o.enrollmentId === id)) return undefined;
  return deps.storage.findEnrollment(id);
}

/** The effective self-service settings of the viewer's group (the device's group). */
export async function selfService(deps: WebDeps, viewer: PortalViewer): Promise<SelfService> {
  const e = await deps.groups.effectiveSettings(viewer.user.groupId, 'self-service');
  const v = e.values;
  const on = (key: string): boolean => v[key] === true;
  return {
    installOptional: on('installOptional'),
    installInteractive: on('installInteractive'),
    removeOptional: on('removeOptional'),
    lock: on('lock'),
    clearPasscode: on('clearPasscode'),
    deviceQuery: on('deviceQuery'),
    erase: on('erase'),
    downloadProfiles: on('downloadProfiles'),
  };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The device's name as the user knows it: `DeviceName`, else the model, else the id. */
export function deviceName(e: EnrollmentRecord): string {
  return text(e.facts.DeviceName) ?? text(e.facts.ModelName) ?? text(e.facts.Model) ?? e.id;
}

/** The model in words: `ModelName` / `ProductName` / `Model`, or `Unknown`. */
export function deviceModel(e: EnrollmentRecord): string {
  return text(e.facts.ModelName) ?? text(e.facts.ProductName) ?? text(e.facts.Model) ?? 'Unknown';
}

/** The OS in words, e.g. `iOS 17.4`, or `Unknown`. */
export function deviceOs(e: EnrollmentRecord): string {
  const version = text(e.facts.OSVersion);
  const product = text(e.facts.ProductName) ?? '';
  const os = product.startsWith('Mac') ? 'macOS' : product.startsWith('iPad') ? 'iPadOS' : 'iOS';
  return version === undefined ? 'Unknown' : `${product === '' ? '' : `${os} `}${version}`;
}

const ENROLLMENT_WORDS: Record<EnrollmentRecord['type'], string> = {
  device: 'Device enrollment',
  user: 'Device enrollment (user channel)',
  'user-enrollment-device': 'User Enrollment (personal device)',
  'user-enrollment-user': 'User Enrollment (personal device)',
  'shared-ipad-user': 'Shared iPad',
};

/** The enrollment type in words. */
export const enrollmentWords = (e: EnrollmentRecord): string => ENROLLMENT_WORDS[e.type];

/** When the device was last seen, as a UTC time, or `Never`. */
export function lastSeen(e: EnrollmentRecord): string {
  const at = e.lastSeenAt;
  return at === undefined ? 'Never' : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A table with a column header per `headers`, `rows`, and a muted caption when given. */
export function portalTable(headers: readonly string[], rows: readonly Markup[], caption?: string) {
  const captionRow =
    caption === undefined
      ? ''
      : html`<caption class="muted">
          ${caption}
        </caption>`;
  return html`<table>
    ${captionRow}
    <thead>
      <tr>
        ${headers.map((t) => html`<th scope="col">${t}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

/** Whether the user may install `p` themselves: Interactive and Optional have a switch each (M13). */
export function mayInstall(p: { assignmentType?: string }, settings: SelfService): boolean {
  return p.assignmentType === 'interactive'
    ? settings.installInteractive
    : settings.installOptional;
}

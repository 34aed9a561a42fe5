/**
 * The actions section of a portal device page: lock, clear passcode, device query and erase,
 * each shown only where the group's self-service settings allow it (M13); erase asks the user to
 * type the device's name.
 */
import { html } from 'hono/html';
import type { EnrollmentRecord } from '../../../storage/ports.js';
import type { Markup } from '../layout.js';
import { csrfField } from '../security.js';
import type { PortalViewer } from '../types.js';
import { deviceName, type SelfService } from './view.js';

/** The portal's device actions, their URL segment and their setting. */
export const PORTAL_ACTIONS = {
  lock: { setting: 'lock', label: 'Lock the device' },
  'clear-passcode': { setting: 'clearPasscode', label: 'Clear the passcode' },
  query: { setting: 'deviceQuery', label: 'Update device details' },
  erase: { setting: 'erase', label: 'Erase the device' },
} as const satisfies Record<string, { setting: keyof SelfService; label: string }>;

/** One of {@link PORTAL_ACTIONS}. */
export type PortalAction = keyof typeof PORTAL_ACTIONS;

/** Whether `name` is a portal action. */
export const isPortalAction = (name: string): name is PortalAction =>
  Object.hasOwn(PORTAL_ACTIONS, name);

function actionForm(e: EnrollmentRecord, viewer: PortalViewer, action: PortalAction): Markup {
  const url = `/portal/devices/${encodeURIComponent(e.id)}/actions/${action}`;
  const { label } = PORTAL_ACTIONS[action];
  if (action !== 'erase')
    return html`<form method="post" action="${url}">
      ${csrfField(viewer.session)}<button type="submit" class="secondary">${label}</button>
    </form>`;
  return html`<form method="post" action="${url}" class="stack">
    ${csrfField(viewer.session)}
    <div>
      <label for="erase-confirm">Type the device name (${deviceName(e)}) to erase it</label>
      <input id="erase-confirm" name="confirm" type="text" autocomplete="off" required />
    </div>
    <div><button type="submit" class="danger">${label}</button></div>
  </form>`;
}

/** The actions the settings allow, or nothing when none is allowed. */
export function actionsSection(
  e: EnrollmentRecord,
  settings: SelfService,
  viewer: PortalViewer,
): Markup | string {
  const allowed = (Object.keys(PORTAL_ACTIONS) as PortalAction[]).filter(
    (a) => settings[PORTAL_ACTIONS[a].setting],
  );
  if (allowed.length === 0) return '';
  return html`<h2>Actions</h2>
    <div class="actions">${allowed.map((a) => actionForm(e, viewer, a))}</div>`;
}

/**
 * The portal's device pages: the list of the user's own devices, and one device with its facts,
 * the profiles offered and installed (with what removing them takes), pending work (the page
 * refreshes itself until the device answers) and the actions the group's self-service settings
 * allow (M13).
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { DeviceProfileView, DeviceProfilesView } from '../../../management/delivery/types.js';
import type { EnrollmentRecord } from '../../../storage/ports.js';
import { notice, type Markup } from '../layout.js';
import { csrfField } from '../security.js';
import type { PortalViewer, WebDeps } from '../types.js';
import { actionsSection } from './actions-view.js';
import { portalRemoval } from './removal.js';
import {
  deviceModel,
  deviceName,
  deviceOs,
  enrollmentWords,
  lastSeen,
  mayInstall,
  portalPage,
  portalTable,
  selfService,
  type SelfService,
} from './view.js';

/** The list of the viewer's devices (`GET /portal/`). */
export async function deviceList(c: Context, deps: WebDeps, viewer: PortalViewer) {
  const owned = await deps.admin.listUserEnrollments(viewer.user.id);
  const found = await Promise.all(owned.map((o) => deps.storage.findEnrollment(o.enrollmentId)));
  const devices = found.filter((e): e is EnrollmentRecord => e !== undefined);
  const rows = devices.map(
    (e) =>
      html`<tr data-testid="device-${e.id}">
        <th scope="row">
          <a href="/portal/devices/${encodeURIComponent(e.id)}">${deviceName(e)}</a>
        </th>
        <td>${deviceModel(e)}</td>
        <td>${deviceOs(e)}</td>
        <td>${lastSeen(e)}</td>
        <td>${enrollmentWords(e)}</td>
      </tr>`,
  );
  const table =
    devices.length === 0
      ? html`<p>You have no enrolled devices yet. <a href="/portal/enroll">Enroll one</a>.</p>`
      : portalTable(
          ['Name', 'Model', 'OS', 'Last seen', 'Enrollment'],
          rows,
          'Devices enrolled with your account',
        );
  return c.html(
    portalPage(
      viewer,
      'My devices',
      html`<h1>My devices</h1>
        ${table}`,
    ),
  );
}

type RowState = 'offered' | 'pending' | 'installed' | 'failed' | 'skipped' | 'removed';

const STATE_WORDS: Record<RowState, string> = {
  offered: 'Available',
  pending: 'Waiting for the device',
  installed: 'Installed',
  failed: 'Failed',
  skipped: 'Not for this device',
  removed: 'Removed',
};

/** Where the page goes after a POST on this device. */
export const devicePath = (id: string, done?: string): string =>
  `/portal/devices/${encodeURIComponent(id)}${done === undefined ? '' : `?done=${done}`}`;

function row(
  p: DeviceProfileView,
  state: RowState,
  detail: Markup | string,
  action: Markup | string,
) {
  return html`<tr data-testid="profile-${p.identifier}" data-state="${state}">
    <th scope="row">${p.name}</th>
    <td><span class="state state-${state}">${STATE_WORDS[state]}</span></td>
    <td>${detail}</td>
    <td>${action}</td>
  </tr>`;
}

interface DeviceCtx {
  deps: WebDeps;
  viewer: PortalViewer;
  enrollment: EnrollmentRecord;
  settings: SelfService;
}

/** An offered profile's row; a failed earlier attempt keeps the `failed` state and its reason. */
function offeredRow(d: DeviceCtx, p: DeviceProfileView, failed?: DeviceProfileView): Markup {
  const base = devicePath(d.enrollment.id);
  const label = failed === undefined ? 'Install' : 'Try again';
  const install = mayInstall(p, d.settings)
    ? html`<form method="post" action="${base}/profiles/${encodeURIComponent(p.profileId)}/install">
        ${csrfField(d.viewer.session)}<button type="submit">${label}</button>
      </form>`
    : html`<span class="muted">Ask IT to install it</span>`;
  const download =
    d.settings.downloadProfiles && p.assignmentType === 'optional'
      ? html` <a href="${base}/profiles/${encodeURIComponent(p.profileId)}/download">Download</a>`
      : '';
  const action = html`${install}${download}`;
  if (failed !== undefined)
    return row(p, 'failed', failed.reason ?? 'The device refused it.', action);
  const kind = p.assignmentType === 'interactive' ? 'Install when you need it' : 'Optional';
  return row(p, 'offered', kind, action);
}

function installedRow(d: DeviceCtx, p: DeviceProfileView): Markup {
  const { words, remove } = portalRemoval(d.enrollment, p, d.settings);
  const action = remove
    ? html`<form
        method="post"
        action="${devicePath(d.enrollment.id)}/profiles/${encodeURIComponent(p.identifier)}/remove"
      >
        ${csrfField(d.viewer.session)}<button type="submit" class="secondary">Remove</button>
      </form>`
    : '';
  return row(p, 'installed', words, action);
}

/** One row per profile: pending, installed, offered (failed attempts included), then the rest. */
function profileRows(d: DeviceCtx, view: DeviceProfilesView): Markup[] {
  // Being removed, a profile is offered again already: it shows once, as pending.
  const pending = new Set(view.pending.map((p) => p.identifier));
  const offers = view.offered.filter((p) => !pending.has(p.identifier));
  const offered = new Set([...offers, ...view.pending].map((p) => p.identifier));
  const failed = new Map(view.failed.map((p) => [p.identifier, p]));
  const rest = (list: DeviceProfileView[]) => list.filter((p) => !offered.has(p.identifier));
  return [
    ...view.pending.map((p) =>
      row(p, 'pending', p.state === 'removing' ? 'Being removed' : 'Being installed', ''),
    ),
    ...view.installed.map((p) => installedRow(d, p)),
    ...offers.map((p) => offeredRow(d, p, failed.get(p.identifier))),
    ...rest(view.failed).map((p) => row(p, 'failed', p.reason ?? 'The device refused it.', '')),
    ...rest(view.blocked).map((p) => row(p, 'failed', p.reason ?? 'It cannot be sent yet.', '')),
    ...rest(view.skipped).map((p) => row(p, 'skipped', p.reason ?? '', '')),
    ...rest(view.removed).map((p) => row(p, 'removed', '', '')),
  ];
}

const DONE: Record<string, string> = {
  install: 'The profile is on its way to the device.',
  remove: 'The device was asked to remove the profile.',
  lock: 'The device was asked to lock.',
  'clear-passcode': 'The device was asked to clear its passcode.',
  query: 'The device was asked for its details.',
  erase: 'The device was asked to erase itself.',
};

/** Options of {@link devicePage}: a message to show and the status to answer with. */
export interface DevicePageOptions {
  error?: string;
  status?: 200 | 400 | 403 | 409 | 422;
}

/** One of the viewer's devices (`GET /portal/devices/{id}`). */
export async function devicePage(
  c: Context,
  d: Omit<DeviceCtx, 'settings'>,
  options: DevicePageOptions = {},
) {
  const settings = await selfService(d.deps, d.viewer);
  const ctx: DeviceCtx = { ...d, settings };
  const view = await d.deps.delivery.deviceProfiles(d.enrollment.id);
  const e = d.enrollment;
  const done = DONE[c.req.query('done') ?? ''];
  const rows = profileRows(ctx, view);
  const profiles =
    rows.length === 0
      ? html`<p>No profiles are available for this device.</p>`
      : portalTable(['Profile', 'Status', 'Details', 'Action'], rows);
  const body = html`<h1>${deviceName(e)}</h1>
    ${done === undefined ? '' : notice('info', done)}
    ${options.error === undefined ? '' : notice('error', options.error)}
    <section class="panel" aria-labelledby="facts">
      <h2 id="facts">About this device</h2>
      <dl class="facts">
        <dt>Model</dt>
        <dd>${deviceModel(e)}</dd>
        <dt>OS</dt>
        <dd>${deviceOs(e)}</dd>
        <dt>Last seen</dt>
        <dd>${lastSeen(e)}</dd>
        <dt>Enrollment</dt>
        <dd>${enrollmentWords(e)}</dd>
      </dl>
    </section>
    <h2>Profiles</h2>
    ${profiles} ${actionsSection(e, settings, d.viewer)}`;
  const refresh = view.pending.length > 0 ? 3 : undefined;
  return c.html(portalPage(d.viewer, deviceName(e), body, refresh), options.status ?? 200);
}

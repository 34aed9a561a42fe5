/**
 * The console's devices: a searchable list (name, serial, UDID, enrollment id, owner) and one
 * device with its facts, its profiles by state (each linking to its explain trace), its commands
 * with the device's results, and the actions an administrator may take (each confirmed first).
 */
import { enrollmentCommandView } from '../../admin/views.js';
import type { DeviceProfileView, DeviceProfilesView } from '../../../management/delivery/types.js';
import type { GroupTree } from '../../../management/tree.js';
import type { UserRecord } from '../../../storage/ports.js';
import type { WebDeps } from '../types.js';
import { deviceActionRoutes, deviceActionsPanel } from './device-actions.js';
import { explainRoutes } from './device-explain.js';
import { createSearchIndex, searchDevices, type SearchIndex } from './device-search.js';
import {
  deviceName,
  factText,
  listDevices,
  visibleDevice,
  type ConsoleDevice,
  type DevicePage,
} from './device-scope.js';
import {
  asText,
  groupLink,
  guarded,
  h,
  noticeOf,
  render,
  seg,
  viewerOf,
  when,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';

const PAGE = 50;

const NOTICES = {
  pushed: 'Push sent.',
  queued: 'Command queued; the device gets it at its next check-in.',
  removing: 'RemoveProfile queued.',
};

function deviceRow(d: ConsoleDevice): Html {
  const e = d.enrollment;
  return h`<tr data-testid="device-${e.id}">
<th scope="row"><a href="/console/devices/${seg(e.id)}">${deviceName(e)}</a></th>
<td>${factText(e, 'ProductName') || factText(e, 'Model')}</td><td>${factText(e, 'OSVersion')}</td>
<td>${factText(e, 'SerialNumber')}</td>
<td>${d.owner === undefined ? '—' : h`<a href="/console/users/${seg(d.owner.userId)}">${d.owner.user.username}</a>`}</td>
<td>${e.enrolled ? 'enrolled' : 'not enrolled'}</td><td>${when(e.lastSeenAt)}</td></tr>`;
}

function deviceTable(items: readonly ConsoleDevice[]): Html {
  if (items.length === 0) return h`<p>No devices.</p>`;
  return h`<table><thead><tr><th scope="col">Name</th><th scope="col">Model</th>
<th scope="col">OS</th><th scope="col">Serial</th><th scope="col">User</th><th scope="col">State</th>
<th scope="col">Last seen</th></tr></thead><tbody>${items.map(deviceRow)}</tbody></table>`;
}

async function listPage(deps: WebDeps, index: SearchIndex, c: ConsoleContext) {
  const { caller } = viewerOf(c);
  const tree = await deps.groups.tree();
  const q = (c.req.query('q') ?? '').trim().slice(0, 256);
  const search = h`<form method="get" action="/console/devices" role="search">
<label for="q">Search by name, serial, UDID or user</label>
<input id="q" name="q" value="${q}"> <button type="submit">Search</button></form>`;
  if (q !== '') {
    const found = await searchDevices(deps, index, tree, caller, q, PAGE);
    const more = found.truncated ? h`<p>Only the first ${PAGE} matches are shown.</p>` : '';
    return render(c, 'Devices', h`<h1>Devices</h1>${search}${deviceTable(found.items)}${more}`);
  }
  const cursor = c.req.query('cursor');
  const page = await listDevices(deps, tree, caller, {
    limit: PAGE,
    ...(cursor === undefined ? {} : { cursor }),
  }).catch((error: unknown): DevicePage => {
    if (error instanceof TypeError) return { items: [] }; // a foreign cursor
    throw error;
  });
  const next =
    page.nextCursor === undefined
      ? ''
      : h`<p><a href="/console/devices?cursor=${seg(page.nextCursor)}">Next page</a></p>`;
  return render(c, 'Devices', h`<h1>Devices</h1>${search}${deviceTable(page.items)}${next}`);
}

const FACTS = [
  'DeviceName',
  'ProductName',
  'Model',
  'OSVersion',
  'BuildVersion',
  'SerialNumber',
  'UDID',
  'IsSupervised',
];

function factsTable(d: ConsoleDevice, tree: GroupTree, user?: UserRecord): Html {
  const e = d.enrollment;
  const who =
    user === undefined
      ? (d.owner?.userId ?? '')
      : `${user.username}${user.firstName || user.lastName ? ` (${[user.firstName, user.lastName].filter(Boolean).join(' ')})` : ''}`;
  const rows = [
    h`<tr><th scope="row">Enrollment id</th><td>${e.id}</td></tr>`,
    h`<tr><th scope="row">Enrollment type</th><td>${e.type}</td></tr>`,
    h`<tr><th scope="row">State</th><td>${e.enrolled ? 'enrolled' : 'not enrolled'}</td></tr>`,
    h`<tr><th scope="row">Last seen</th><td>${when(e.lastSeenAt)}</td></tr>`,
    h`<tr><th scope="row">User</th><td>${d.owner === undefined ? 'nobody owns it' : h`<a href="/console/users/${seg(d.owner.userId)}">${who}</a>`}</td></tr>`,
    h`<tr><th scope="row">Group</th><td>${d.owner === undefined ? '—' : groupLink(tree, d.owner.groupId)}</td></tr>`,
    ...FACTS.filter((k) => e.facts[k] !== undefined).map(
      (k) => h`<tr><th scope="row">${k}</th><td>${asText(e.facts[k])}</td></tr>`,
    ),
  ];
  return h`<table class="facts"><tbody>${rows}</tbody></table>`;
}

const STATES = [
  'installed',
  'pending',
  'failed',
  'skipped',
  'blocked',
  'offered',
  'removed',
  'desired',
] as const;

function profileRow(id: string, p: DeviceProfileView): Html {
  const href = `/console/devices/${seg(id)}/profiles/${seg(p.identifier)}`;
  return h`<tr data-testid="profile-${p.identifier}"><th scope="row"><a href="${href}">${p.name}</a></th>
<td>${p.identifier}</td><td>${p.assignmentType ?? '—'}</td><td>${p.state ?? 'not sent'}</td>
<td>${p.reason ?? ''}</td><td>${p.version ?? '—'} / ${p.latestVersion}</td></tr>`;
}

function profilesSection(id: string, view: DeviceProfilesView): Html {
  const policy = view.policy
    ? h`<p>Effective policy: <a href="/console/policies/${seg(view.policy.id)}">${view.policy.name}</a>
(${view.policy.source.kind === 'user' ? "the user's own" : view.policy.source.kind === 'group' ? `default of group ${view.policy.source.groupId}` : 'none'})</p>`
    : h`<p>No policy applies to this device.</p>`;
  const groups = STATES.filter((s) => view[s].length > 0).map(
    (
      s,
    ) => h`<h3>${s[0]?.toUpperCase()}${s.slice(1)}</h3><table><thead><tr><th scope="col">Profile</th>
<th scope="col">Identifier</th><th scope="col">Assignment</th><th scope="col">State</th>
<th scope="col">Reason</th><th scope="col">Version</th></tr></thead>
<tbody>${view[s].map((p) => profileRow(id, p))}</tbody></table>`,
  );
  const reconciled = h`<p>Last compared with the device: ${when(view.reconciledAt)}</p>`;
  return h`<section><h2>Profiles</h2>${policy}${groups.length === 0 ? h`<p>No profiles.</p>` : groups}${reconciled}</section>`;
}

function resultText(result: unknown): string {
  if (result === null) return '';
  return JSON.stringify(result, null, 2).slice(0, 4000);
}

async function commandsSection(deps: WebDeps, id: string, cursor?: string): Promise<Html> {
  const page = await deps.core
    .listCommands(id, { limit: 50, ...(cursor === undefined ? {} : { cursor }) })
    .catch((error: unknown) => {
      if (error instanceof TypeError) return { items: [], nextCursor: undefined }; // a foreign cursor
      throw error;
    });
  if (page.items.length === 0) return h`<section><h2>Commands</h2><p>No commands.</p></section>`;
  const rows = page.items.map((cmd) => {
    const v = enrollmentCommandView(cmd, 'readable');
    const result = resultText(v.result);
    return h`<tr><th scope="row">${v.requestType}</th><td>${v.status}</td><td>${when(v.createdAt)}</td>
<td>${when(v.updatedAt)}</td><td>${result === '' ? '—' : h`<details><summary>Result</summary><pre>${result}</pre></details>`}</td></tr>`;
  });
  return h`<section><h2>Commands</h2><table><thead><tr><th scope="col">Command</th>
<th scope="col">Status</th><th scope="col">Queued</th><th scope="col">Updated</th>
<th scope="col">Result</th></tr></thead><tbody>${rows}</tbody></table>${
    page.nextCursor === undefined
      ? ''
      : h`<p><a href="/console/devices/${seg(id)}?commands=${seg(page.nextCursor)}">Later commands</a></p>`
  }</section>`;
}

async function onePage(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const { device, tree } = await visibleDevice(deps, viewer.caller, c.req.param('id') ?? '');
  const id = device.enrollment.id;
  const profiles = await deps.delivery.deviceProfiles(id);
  const user = device.owner?.user;
  const body = h`<h1>${deviceName(device.enrollment)}</h1>${noticeOf(c, NOTICES)}
${factsTable(device, tree, user)}${deviceActionsPanel(viewer, id, profiles)}${profilesSection(id, profiles)}
${await commandsSection(deps, id, c.req.query('commands'))}`;
  return render(c, deviceName(device.enrollment), body);
}

/** Registers the device pages, their explain traces and actions. */
export function deviceRoutes(app: ConsoleApp, deps: WebDeps): void {
  const index = createSearchIndex(deps);
  app.get(
    '/console/devices',
    guarded((c) => listPage(deps, index, c)),
  );
  app.get(
    '/console/devices/:id',
    guarded((c) => onePage(deps, c)),
  );
  explainRoutes(app, deps);
  deviceActionRoutes(app, deps);
}

/**
 * Actions on one device, each behind a confirmation page (GET shows what will happen, the POST
 * of its form does it; erasing also needs the device's name typed): an APNs push now, lock, erase, and removing a profile Orchard installed.
 * Commands go through the admin API's own queueing path (`command.create` audit); the push and
 * the removal are audited as the API audits them.
 */
import { AdminError } from '../../../errors.js';
import type { DeviceProfilesView } from '../../../management/delivery/types.js';
import { enqueueAudited } from '../../admin/routes/enrollments.js';
import type { ConsoleViewer, WebDeps } from '../types.js';
import { actsOnDevice, deviceName, identifierParam, visibleDevice } from './device-scope.js';
import {
  actorOf,
  auditAs,
  csrf,
  guarded,
  h,
  readForm,
  refusalPage,
  render,
  seeOther,
  seg,
  viewerOf,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';

/** The device actions with their words. */
const ACTIONS = {
  push: { label: 'Push now', what: 'Send an APNs push so the device checks in now.' },
  lock: {
    label: 'Lock',
    what: 'Lock the device (DeviceLock); its user unlocks it with the passcode.',
  },
  erase: {
    label: 'Erase',
    what: 'Erase the device (EraseDevice): every setting and all data on it are deleted. This cannot be undone.',
  },
} as const;

type Action = keyof typeof ACTIONS;

const isAction = (a: string): a is Action => Object.hasOwn(ACTIONS, a);

/** The actions panel of a device page (nothing for a read-only viewer). */
export function deviceActionsPanel(
  viewer: ConsoleViewer,
  id: string,
  profiles: DeviceProfilesView,
): Html {
  if (!actsOnDevice(viewer.caller)) return h``;
  const base = `/console/devices/${seg(id)}`;
  const actions = (Object.keys(ACTIONS) as Action[]).map(
    (a) => h`<li><a class="button" href="${base}/actions/${a}">${ACTIONS[a].label}…</a></li>`,
  );
  const removable = [...profiles.installed, ...profiles.pending].map(
    (p) => h`<li><a href="${base}/profiles/${seg(p.identifier)}/remove">Remove ${p.name}…</a></li>`,
  );
  return h`<section class="panel"><h2>Actions</h2><ul class="actions">${actions}</ul>
${removable.length === 0 ? '' : h`<h3>Remove a profile</h3><ul>${removable}</ul>`}</section>`;
}

function confirmPage(
  c: ConsoleContext,
  title: string,
  what: string,
  action: string,
  name: string,
  typeName = false,
) {
  const viewer = viewerOf(c);
  const typed = typeName
    ? h`<p><label for="confirm-name">Type the device's name to confirm</label> <input id="confirm-name" name="name" autocomplete="off" required></p>`
    : '';
  const body = h`<h1>${title}</h1><p>Device: <strong>${name}</strong></p><p>${what}</p>
<form method="post" action="${action}">${csrf(viewer)}<input type="hidden" name="confirm" value="yes">${typed}
<button type="submit">${title}</button> <a href="${action.replace(/\/(actions|profiles)\/.*$/, '')}">Cancel</a></form>`;
  return render(c, title, body);
}

async function writableDevice(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const { device } = await visibleDevice(deps, viewer.caller, c.req.param('id') ?? '');
  if (!actsOnDevice(viewer.caller))
    throw new AdminError('ERR_API_SCOPE', 'this administrator may only read');
  return { viewer, device, id: device.enrollment.id };
}

async function confirmAction(deps: WebDeps, c: ConsoleContext) {
  const action = c.req.param('action') ?? '';
  const { device, id } = await writableDevice(deps, c);
  if (!isAction(action)) return refusalPage(c, 404, 'no such action');
  const { label, what } = ACTIONS[action];
  const path = `/console/devices/${seg(id)}/actions/${action}`;
  return confirmPage(c, label, what, path, deviceName(device.enrollment), action === 'erase');
}

async function doAction(deps: WebDeps, c: ConsoleContext) {
  const action = c.req.param('action') ?? '';
  const { viewer, device, id } = await writableDevice(deps, c);
  if (!isAction(action)) return refusalPage(c, 404, 'no such action');
  const form = await readForm(c);
  if (form.get('confirm') !== 'yes')
    return seeOther(c, `/console/devices/${seg(id)}/actions/${action}`);
  if (action === 'erase' && form.get('name') !== deviceName(device.enrollment))
    return refusalPage(c, 422, "The name typed is not the device's name: nothing was erased.");
  const back = `/console/devices/${seg(id)}`;
  if (action === 'push') {
    if (!deps.pushEnabled)
      throw new AdminError('ERR_PUSH_DISABLED', 'no push certificate is configured');
    const results = await deps.core.pushWithResults([id]);
    const pushed = results.filter((r) => r.outcome === 'accepted').length;
    await auditAs(deps, viewer, 'enrollment.push', id, {
      pushed,
      outcome: results[0]?.outcome ?? null,
    });
    return seeOther(c, back, 'pushed');
  }
  const RequestType = action === 'lock' ? 'DeviceLock' : 'EraseDevice';
  await enqueueAudited(deps, { actor: actorOf(viewer.caller) }, [id], { RequestType });
  return seeOther(c, back, 'queued');
}

async function confirmRemove(deps: WebDeps, c: ConsoleContext) {
  const { device, id } = await writableDevice(deps, c);
  const identifier = identifierParam(c.req.param('identifier'));
  const what = `Queue RemoveProfile for ${identifier}. Only a profile Orchard installed is removed.`;
  const path = `/console/devices/${seg(id)}/profiles/${seg(identifier)}/remove`;
  return confirmPage(c, 'Remove the profile', what, path, deviceName(device.enrollment));
}

async function doRemove(deps: WebDeps, c: ConsoleContext) {
  const { viewer, id } = await writableDevice(deps, c);
  const identifier = identifierParam(c.req.param('identifier'));
  const form = await readForm(c);
  const path = `/console/devices/${seg(id)}/profiles/${seg(identifier)}/remove`;
  if (form.get('confirm') !== 'yes') return seeOther(c, path);
  const record = await deps.delivery.remove(id, identifier, 'admin');
  await auditAs(deps, viewer, 'enrollment.profile.remove', id, {
    ...{ profileId: record.profileId, identifier },
    commandUuid: record.commandUuid ?? null,
  });
  return seeOther(c, `/console/devices/${seg(id)}`, 'removing');
}

/** Registers the confirmation pages and the actions. */
export function deviceActionRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/devices/:id/actions/:action',
    guarded((c) => confirmAction(deps, c)),
  );
  app.post(
    '/console/devices/:id/actions/:action',
    guarded((c) => doAction(deps, c)),
  );
  app.get(
    '/console/devices/:id/profiles/:identifier/remove',
    guarded((c) => confirmRemove(deps, c)),
  );
  app.post(
    '/console/devices/:id/profiles/:identifier/remove',
    guarded((c) => doRemove(deps, c)),
  );
}

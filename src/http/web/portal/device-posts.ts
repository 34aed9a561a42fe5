/**
 * What a user does to their own device from the portal: install an offered profile, remove one
 * the rules let them remove, download an Optional profile (signed) where allowed, and the device
 * actions. Each is refused with the device page and a plain message unless the device is the
 * user's (M13: else the one 403 page) and the group's self-service settings allow it; each
 * accepted one is audited as `user:<id>`.
 */
import type { Context } from 'hono';
import { recordAudit } from '../../../admin/audit.js';
import { OrchardError } from '../../../errors.js';
import type { CommandPayload } from '../../../protocol/command.js';
import type { EnrollmentRecord } from '../../../storage/ports.js';
import { formField, type WebEnv } from '../security.js';
import type { PortalViewer, WebDeps } from '../types.js';
import { PORTAL_ACTIONS, isPortalAction, type PortalAction } from './actions-view.js';
import { devicePage, devicePath } from './devices.js';
import { portalRemoval } from './removal.js';
import { deviceName, mayInstall, notYours, ownedEnrollment, selfService } from './view.js';

type PortalContext = Context<WebEnv>;

interface Owned {
  viewer: PortalViewer;
  enrollment: EnrollmentRecord;
}

/** The viewer and their enrollment of the `:id` parameter, or the M13 403 answer. */
async function owned(c: PortalContext, deps: WebDeps): Promise<Owned | Response> {
  const viewer = c.get('portal');
  const enrollment = await ownedEnrollment(deps, viewer, c.req.param('id') ?? '');
  return enrollment === undefined ? notYours(c, viewer) : { viewer, enrollment };
}

/** A handler of the viewer's own device; any other `:id` gets the M13 403 answer first. */
const ofOwned =
  (handler: (c: PortalContext, deps: WebDeps, o: Owned) => Promise<Response>) =>
  async (c: PortalContext, deps: WebDeps): Promise<Response> => {
    const o = await owned(c, deps);
    return o instanceof Response ? o : handler(c, deps, o);
  };

const refuse = (c: PortalContext, deps: WebDeps, o: Owned, error: string, status: 403 | 409) =>
  devicePage(c, { deps, ...o }, { error, status });

const audit = (deps: WebDeps, o: Owned, action: string, detail: Record<string, unknown> = {}) =>
  recordAudit(deps.admin, `user:${o.viewer.user.id}`, action, o.enrollment.id, detail);

/** Runs `work`; an exposed Orchard error becomes the device page with its message (409). */
async function attempt(
  c: PortalContext,
  deps: WebDeps,
  o: Owned,
  work: () => Promise<string>,
): Promise<Response> {
  try {
    return c.redirect(devicePath(o.enrollment.id, await work()), 303);
  } catch (error) {
    if (!(error instanceof OrchardError) || !error.expose) throw error;
    return refuse(c, deps, o, error.message, 409);
  }
}

/** `POST /portal/devices/{id}/profiles/{profileId}/install`. */
export const installProfile = ofOwned(async (c, deps, o) => {
  const profileId = c.req.param('profileId') ?? '';
  const view = await deps.delivery.deviceProfiles(o.enrollment.id);
  const offered = view.offered.find((p) => p.profileId === profileId);
  if (offered === undefined)
    return refuse(c, deps, o, 'That profile is not offered to this device.', 409);
  if (!mayInstall(offered, await selfService(deps, o.viewer)))
    return refuse(c, deps, o, 'Installing profiles yourself is turned off.', 403);
  return attempt(c, deps, o, async () => {
    await deps.delivery.install(o.enrollment.id, profileId, 'user');
    await audit(deps, o, 'portal.profile.install', { profileId, identifier: offered.identifier });
    return 'install';
  });
});

/** `POST /portal/devices/{id}/profiles/{identifier}/remove`. */
export const removeProfile = ofOwned(async (c, deps, o) => {
  const identifier = c.req.param('identifier') ?? '';
  const view = await deps.delivery.deviceProfiles(o.enrollment.id);
  const installed = view.installed.find((p) => p.identifier === identifier);
  if (installed === undefined)
    return refuse(c, deps, o, 'That profile is not installed on this device.', 409);
  const { words, remove } = portalRemoval(
    o.enrollment,
    installed,
    await selfService(deps, o.viewer),
  );
  if (!remove) return refuse(c, deps, o, `You cannot remove it here: ${words}.`, 403);
  return attempt(c, deps, o, async () => {
    await deps.delivery.remove(o.enrollment.id, identifier, 'user');
    await audit(deps, o, 'portal.profile.remove', { identifier });
    return 'remove';
  });
});

/** `GET /portal/devices/{id}/profiles/{profileId}/download`: the signed `.mobileconfig`. */
export const downloadProfile = ofOwned(async (c, deps, o) => {
  const profileId = c.req.param('profileId') ?? '';
  if (!(await selfService(deps, o.viewer)).downloadProfiles)
    return refuse(c, deps, o, 'Downloading profiles is turned off.', 403);
  const view = await deps.delivery.deviceProfiles(o.enrollment.id);
  const p = view.desired.find((x) => x.profileId === profileId);
  if (p === undefined || p.assignmentType !== 'optional')
    return refuse(
      c,
      deps,
      o,
      'Only Optional profiles offered to this device can be downloaded.',
      409,
    );
  const body = await deps.profiles.renderForDevice(profileId);
  await audit(deps, o, 'portal.profile.download', { profileId, identifier: p.identifier });
  const file = p.identifier.replace(/[^A-Za-z0-9._-]/g, '_');
  return c.body(new Uint8Array(body), 200, {
    'content-type': 'application/x-apple-aspen-config',
    'content-disposition': `attachment; filename="${file}.mobileconfig"`,
  });
});

/** The command of a portal action; `undefined` when it cannot be built (no unlock token). */
async function commandOf(
  deps: WebDeps,
  action: PortalAction,
  enrollment: EnrollmentRecord,
): Promise<CommandPayload | undefined> {
  switch (action) {
    case 'lock':
      return { RequestType: 'DeviceLock' };
    case 'query':
      return {
        RequestType: 'DeviceInformation',
        Queries: ['DeviceName', 'OSVersion', 'BuildVersion', 'ModelName', 'Model', 'ProductName'],
      };
    case 'erase':
      return { RequestType: 'EraseDevice' };
    case 'clear-passcode': {
      const token = await deps.storage.findUnlockToken(enrollment.id);
      return token === undefined ? undefined : { RequestType: 'ClearPasscode', UnlockToken: token };
    }
  }
}

/** `POST /portal/devices/{id}/actions/{lock|clear-passcode|query|erase}`. */
export const deviceAction = ofOwned(async (c, deps, o) => {
  const action = c.req.param('action') ?? '';
  if (!isPortalAction(action)) return refuse(c, deps, o, 'There is no such action.', 409);
  const settings = await selfService(deps, o.viewer);
  if (!settings[PORTAL_ACTIONS[action].setting])
    return refuse(c, deps, o, 'This action is turned off for your devices.', 403);
  if (!o.enrollment.enrolled) return refuse(c, deps, o, 'This device is no longer enrolled.', 409);
  if (action === 'erase') {
    const typed = ((await formField(c, 'confirm')) ?? '').trim();
    if (typed !== deviceName(o.enrollment))
      return refuse(c, deps, o, 'To erase the device, type its name exactly as shown.', 409);
  }
  const command = await commandOf(deps, action, o.enrollment);
  if (command === undefined)
    return refuse(
      c,
      deps,
      o,
      'This device has not given Orchard what clearing its passcode needs.',
      409,
    );
  return attempt(c, deps, o, async () => {
    const uuid = await deps.core.enqueue([o.enrollment.id], command);
    await audit(deps, o, `portal.device.${action}`, { command: command.RequestType, uuid });
    return action;
  });
});

/**
 * The removal part of the explain trace (rules S8, B5): what an assignment's removal control
 * sends to a device, and who may then remove the profile there, in words, from the same
 * `canRemove` rules the portal and the device simulator use.
 */
import {
  canRemove,
  type RemovalDecision,
  type RemovalPlatform,
  type RemovalRequester,
} from '../../profile/removal.js';
import { readRemovalSettings } from '../../profile/removal-policy.js';
import type { PlistDict } from '../../protocol/plist.js';
import type { RemovalControl } from '../../storage/ports.js';
import { applyRemovalControl } from './removal-control.js';
import type { DeviceContext, DeviceTarget } from './types.js';

/** The platform `canRemove` knows the device as (iPads run iPadOS), or `undefined` when unknown. */
function removalPlatform(
  device: Pick<DeviceContext, 'enrollment' | 'target'>,
): RemovalPlatform | undefined {
  const platform = device.target.platform;
  if (platform !== 'iOS') return platform;
  const product = device.enrollment.facts.ProductName;
  return typeof product === 'string' && product.startsWith('iPad') ? 'iPadOS' : 'iOS';
}

/** The removal control laid over a bare profile on `target`: what is sent, and the effect in words. */
export function removalControlled(
  control: RemovalControl,
  target: DeviceTarget,
  identifier: string,
): { content: PlistDict; effect: string } {
  const stub = {
    PayloadType: 'Configuration',
    PayloadIdentifier: identifier,
    PayloadUUID: identifier,
    PayloadVersion: 1,
    PayloadContent: [],
  };
  return applyRemovalControl(stub, { removal: control, removalPassword: 'placeholder' }, target);
}

function decisionWords(d: RemovalDecision): string {
  switch (d.outcome) {
    case 'allowed':
      return 'the user can remove it';
    case 'needs-password':
      return 'the user needs the removal password to remove it';
    case 'needs-admin-authentication':
      return 'the user can remove it with an administrator’s name and password';
    case 'denied':
      return d.rule === 3
        ? 'only the MDM can remove it, or unenrolling the device'
        : 'nobody on the device can remove it; only the MDM can';
  }
}

/**
 * `canRemove`'s decision for `requester` (default the device's user) on a profile Orchard
 * installed under `control` on this device, or `undefined` while the platform is unknown. The
 * explain trace and the portal (B5) both ask here.
 */
export function removalDecision(
  device: Pick<DeviceContext, 'enrollment' | 'target'>,
  control: RemovalControl,
  identifier: string,
  requester: RemovalRequester = 'user',
): RemovalDecision | undefined {
  const platform = removalPlatform(device);
  if (platform === undefined) return undefined;
  const sent = readRemovalSettings(removalControlled(control, device.target, identifier).content);
  return canRemove({
    profile: { kind: 'configuration', installedBy: 'this-mdm', ...sent },
    device: {
      platform,
      ...(device.target.osVersion === undefined ? {} : { osVersion: device.target.osVersion }),
      supervised: device.target.supervised === true || device.target.enrollment === 'ade',
      enrollment: device.target.enrollment,
    },
    requester,
  });
}

/**
 * Who may remove a profile Orchard installed under `control` on this device, in words with
 * `canRemove`'s reason, e.g. `only the MDM can remove it, or unenrolling the device (rule 3: ...)`.
 */
export function whoMayRemove(
  device: DeviceContext,
  control: RemovalControl,
  identifier: string,
): string {
  const decision = removalDecision(device, control, identifier);
  if (decision === undefined) return 'not known yet: the device has not reported its platform';
  return `${decisionWords(decision)} (${decision.reason})`;
}

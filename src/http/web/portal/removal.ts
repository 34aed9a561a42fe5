/**
 * What removing an installed profile takes, in the portal's plain words (B5), from the same
 * `canRemove` decision the explain trace shows (`removalDecision`): whether Orchard itself can
 * still remove it from the device, then what the assignment's removal control and the group's
 * self-service settings leave to the user.
 */
import { removalDecision } from '../../../management/delivery/explain-removal.js';
import { deviceTargetOf } from '../../../management/delivery/target.js';
import type { DeviceProfileView } from '../../../management/delivery/types.js';
import type { EnrollmentRecord } from '../../../storage/ports.js';
import type { SelfService } from './view.js';

/** The four answers the portal gives. */
export type RemovalWords =
  | 'You can remove it'
  | 'Needs the removal password'
  | 'Only IT can remove it'
  | 'Only erasing the device removes it';

/** What removing `profile` from `enrollment` takes, and whether the portal offers Remove. */
export function portalRemoval(
  enrollment: EnrollmentRecord,
  profile: DeviceProfileView,
  settings: SelfService,
): { words: RemovalWords; remove: boolean } {
  const control = profile.removal ?? 'always';
  const device = { enrollment, target: deviceTargetOf(enrollment) };
  // Orchard removes it for the user: if not even Orchard may, only erasing the device does.
  const mdm = removalDecision(device, control, profile.identifier, 'this-mdm');
  if (mdm?.outcome === 'denied')
    return { words: 'Only erasing the device removes it', remove: false };
  const type = profile.assignmentType;
  const offered = type === 'optional' || type === 'interactive';
  if (!offered || control === 'never') return { words: 'Only IT can remove it', remove: false };
  if (control === 'with-authorization')
    return { words: 'Needs the removal password', remove: false };
  if (!settings.removeOptional) return { words: 'Only IT can remove it', remove: false };
  return { words: 'You can remove it', remove: true };
}

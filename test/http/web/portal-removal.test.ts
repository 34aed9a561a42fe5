/**
 * B5: the portal's removal words come from `canRemove` through `removalDecision`, the function
 * the explain trace's `whoMayRemove` uses; each answer is checked against the trace's words.
 */
import { describe, expect, test } from '@jest/globals';
import { portalRemoval } from '../../../src/http/web/portal/removal.js';
import type { SelfService } from '../../../src/http/web/portal/view.js';
import { whoMayRemove } from '../../../src/management/delivery/explain-removal.js';
import { deviceTargetOf } from '../../../src/management/delivery/target.js';
import type { DeviceProfileView } from '../../../src/management/delivery/types.js';
import type {
  AssignmentType,
  EnrollmentRecord,
  RemovalControl,
} from '../../../src/storage/ports.js';

const ALL_ON: SelfService = {
  installOptional: true,
  installInteractive: true,
  removeOptional: true,
  lock: true,
  clearPasscode: true,
  deviceQuery: true,
  erase: true,
  downloadProfiles: true,
};

function enrollment(facts: Record<string, unknown>): EnrollmentRecord {
  const at = new Date('2026-12-07T04:00:00Z');
  return {
    ...{ id: 'e1', type: 'device', deviceId: 'e1', enrolled: true, facts },
    ...{ createdAt: at, updatedAt: at, tokenUpdateCount: 1 },
  };
}

const IPHONE = enrollment({ ProductName: 'iPhone16,1', OSVersion: '17.4', IsSupervised: true });

function profile(
  assignmentType: AssignmentType | undefined,
  removal: RemovalControl,
): DeviceProfileView {
  return {
    ...{ identifier: 'com.example.p', profileId: 'prf_1', name: 'P', desired: true },
    ...(assignmentType === undefined ? {} : { assignmentType }),
    ...{ removal, state: 'installed', latestVersion: 1 },
  };
}

describe('portal removal words (B5)', () => {
  test.each([
    ['ok/optional, always', IPHONE, 'optional', 'always', ALL_ON, 'You can remove it', true],
    ['ok/interactive, always', IPHONE, 'interactive', 'always', ALL_ON, 'You can remove it', true],
    [
      'ok/optional, with authorization',
      IPHONE,
      'optional',
      'with-authorization',
      ALL_ON,
      'Needs the removal password',
      false,
    ],
    ['ok/optional, never', IPHONE, 'optional', 'never', ALL_ON, 'Only IT can remove it', false],
    ['ok/auto, always', IPHONE, 'auto', 'always', ALL_ON, 'Only IT can remove it', false],
    [
      'ok/not desired any more',
      IPHONE,
      undefined,
      'always',
      ALL_ON,
      'Only IT can remove it',
      false,
    ],
    [
      'ok/removal turned off',
      IPHONE,
      'optional',
      'always',
      { ...ALL_ON, removeOptional: false },
      'Only IT can remove it',
      false,
    ],
  ] as const)('%s', (_name, e, type, control, settings, words, remove) => {
    expect(portalRemoval(e, profile(type, control), settings)).toEqual({ words, remove });
  });

  test('ok/the words agree with the explain trace of the same device and control', () => {
    const device = { enrollment: IPHONE, target: deviceTargetOf(IPHONE) };
    // The device user cannot remove an MDM profile on iOS (rule 3): the portal is their way.
    expect(whoMayRemove(device, 'always', 'com.example.p')).toMatch(/^only the MDM can remove it/);
    // Orchard itself may remove it (rule 3), so the portal never says only erasing does.
    expect(portalRemoval(IPHONE, profile('optional', 'never'), ALL_ON).words).not.toBe(
      'Only erasing the device removes it',
    );
  });
});

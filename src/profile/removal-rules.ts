/**
 * The six removal rules behind {@link canRemove}, one function each, in Apple's order.
 * Each returns a decision when its rule speaks to the request, `undefined` otherwise.
 */
import type {
  ProfileInstaller,
  RemovalCascade,
  RemovalDecision,
  RemovalDevice,
  RemovalRequest,
  RemovalRequester,
} from './removal.js';

const BOTH_CHANNELS = ['device', 'user'] as const;
const ITEMS = ['profiles', 'managed-apps'] as const;
const WIPE_CASCADE: RemovalCascade = { scope: 'everything', items: ITEMS, channels: BOTH_CHANNELS };
/** What unenrolling takes with it. */
export const ENROLLMENT_CASCADE: RemovalCascade = {
  scope: 'enrollment',
  items: ITEMS,
  channels: BOTH_CHANNELS,
};

/** Applies the rules in order; the first that speaks decides. */
export function decide(request: RemovalRequest): RemovalDecision {
  return (
    ruleWipe(request) ??
    ruleAutomatedEnrollment(request) ??
    ruleMdm(request) ??
    ruleConfigurator(request) ??
    rulePassword(request) ??
    ruleUser(request)
  );
}

function isUser(requester: RemovalRequester): boolean {
  return requester === 'user' || requester === 'user-with-password';
}

function isMdm(party: RemovalRequester | ProfileInstaller): party is 'this-mdm' | 'other-mdm' {
  return party === 'this-mdm' || party === 'other-mdm';
}

/** Rule 1: erasing the device removes every profile, managed app and setting. */
function ruleWipe({ requester }: RemovalRequest): RemovalDecision | undefined {
  if (requester !== 'wipe') return undefined;
  return {
    outcome: 'allowed',
    rule: 1,
    reason: 'rule 1: wiping the device removes every profile',
    alsoRemoves: WIPE_CASCADE,
  };
}

/** Rule 2: under ADE the administrator decides whether the user may remove the enrollment profile. */
function ruleAutomatedEnrollment({
  profile,
  device,
  requester,
}: RemovalRequest): RemovalDecision | undefined {
  if (profile.kind !== 'enrollment' || device.enrollment !== 'ade' || !isUser(requester)) {
    return undefined;
  }
  if (device.enrollmentProfileRemovable !== true) {
    return {
      outcome: 'denied',
      rule: 2,
      reason:
        'rule 2: under Automated Device Enrollment the administrator made the enrollment profile non-removable',
    };
  }
  return {
    outcome: device.platform === 'macOS' ? 'needs-admin-authentication' : 'allowed',
    rule: 2,
    reason:
      'rule 2: under Automated Device Enrollment the administrator allowed the user to remove the enrollment profile',
  };
}

/** The MDM a profile belongs to: for the enrollment profile, the MDM the device is enrolled in. */
function owningMdm({ profile, device }: RemovalRequest): 'this-mdm' | 'other-mdm' | undefined {
  if (profile.kind === 'enrollment') return device.enrolledWith ?? 'this-mdm';
  return isMdm(profile.installedBy) ? profile.installedBy : undefined;
}

/** Rule 3: a profile installed by an MDM is removed by that MDM, or by unenrolling. */
function ruleMdm(request: RemovalRequest): RemovalDecision | undefined {
  const { profile, device, requester } = request;
  const owner = owningMdm(request);
  if (isMdm(requester)) {
    return owner === requester
      ? {
          outcome: 'allowed',
          rule: 3,
          reason: 'rule 3: the MDM that installed a profile may remove it',
        }
      : {
          outcome: 'denied',
          rule: 3,
          reason: 'rule 3: an MDM removes only the profiles it installed',
        };
  }
  if (!isMdm(profile.installedBy)) return undefined;
  if (profile.kind === 'enrollment' && isUser(requester)) {
    return {
      outcome: device.platform === 'macOS' ? 'needs-admin-authentication' : 'allowed',
      rule: 3,
      reason: 'rule 3: the user may unenroll by removing the enrollment profile',
    };
  }
  if (isUser(requester) && device.platform === 'macOS' && isBefore(device.osVersion, [10, 15])) {
    return profile.removalDisallowed === true
      ? {
          outcome: 'denied',
          rule: 3,
          reason:
            'rule 3: before macOS 10.15 PayloadRemovalDisallowed locks an MDM profile even for admins',
        }
      : {
          outcome: 'needs-admin-authentication',
          rule: 3,
          reason: 'rule 3: before macOS 10.15 an admin may remove an MDM-installed profile',
        };
  }
  return {
    outcome: 'denied',
    rule: 3,
    reason: 'rule 3: a profile installed by an MDM is removed only by that MDM or by unenrolling',
  };
}

/** Rule 4: on a supervised device Apple Configurator removes the profiles it installed. */
function ruleConfigurator({
  profile,
  device,
  requester,
}: RemovalRequest): RemovalDecision | undefined {
  if (requester !== 'configurator') return undefined;
  if (profile.installedBy === 'configurator' && device.supervised) {
    return {
      outcome: 'allowed',
      rule: 4,
      reason: 'rule 4: Apple Configurator removes what it installed on a supervised device',
    };
  }
  return {
    outcome: 'denied',
    rule: 4,
    reason:
      'rule 4: Apple Configurator removes only what it installed, and only on a supervised device',
  };
}

/** Whether profile-level locks apply: always on macOS, only when supervised on iOS, iPadOS and tvOS, never elsewhere. */
function locksApply(device: RemovalDevice): boolean {
  if (device.platform === 'macOS') return true;
  if (device.platform === 'visionOS' || device.platform === 'watchOS') return false;
  return device.supervised;
}

/** Rule 5: a locked, manually installed profile needs its removal password (or, on macOS, an admin). */
function rulePassword({ profile, device, requester }: RemovalRequest): RemovalDecision | undefined {
  if (!locksApply(device)) return undefined;
  if (profile.hasRemovalPassword === true) {
    return requester === 'user-with-password'
      ? { outcome: 'allowed', rule: 5, reason: 'rule 5: the user gave the removal password' }
      : {
          outcome: 'needs-password',
          rule: 5,
          reason: 'rule 5: a manually installed profile with a removal password needs it',
        };
  }
  if (profile.removalDisallowed !== true) return undefined;
  return device.platform === 'macOS'
    ? {
        outcome: 'needs-admin-authentication',
        rule: 5,
        reason: 'rule 5: PayloadRemovalDisallowed without a password needs an admin on macOS',
      }
    : {
        outcome: 'denied',
        rule: 5,
        reason: 'rule 5: PayloadRemovalDisallowed on a supervised device, and no removal password',
      };
}

/** Rule 6: anything else the user may remove; macOS asks for an admin unless the profile is user-scoped. */
function ruleUser({ profile, device }: RemovalRequest): RemovalDecision {
  if (device.platform === 'macOS' && profile.scope !== 'User') {
    return {
      outcome: 'needs-admin-authentication',
      rule: 6,
      reason: 'rule 6: the user may remove it, with admin authentication on macOS',
    };
  }
  return {
    outcome: 'allowed',
    rule: 6,
    reason: 'rule 6: the user may remove a profile nothing else protects',
  };
}

/** Whether a dotted version is older than `bound`; an absent or unparsable version counts as current. */
function isBefore(version: string | undefined, bound: readonly number[]): boolean {
  if (version === undefined || !/^\d+(\.\d+)*$/.test(version)) return false;
  const parts = version.split('.').map(Number);
  for (let i = 0; i < bound.length; i++) {
    const a = parts[i] ?? 0;
    const b = bound[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

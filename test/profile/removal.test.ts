import { describe, expect, test } from '@jest/globals';
import {
  canRemove,
  type RemovalDevice,
  type RemovalOutcome,
  type RemovalProfile,
  type RemovalRequest,
  type RemovalRequester,
  type RemovalRule,
} from '../../src/profile/removal.js';

const iosSupervised: RemovalDevice = { platform: 'iOS', supervised: true, enrollment: 'device' };
const iosPlain: RemovalDevice = { platform: 'iOS', supervised: false, enrollment: 'device' };
const iosAde: RemovalDevice = { platform: 'iOS', supervised: true, enrollment: 'ade' };
const iosAdeRemovable: RemovalDevice = { ...iosAde, enrollmentProfileRemovable: true };
const iosUnenrolled: RemovalDevice = { platform: 'iOS', supervised: false, enrollment: 'none' };
const iosUser: RemovalDevice = { platform: 'iOS', supervised: false, enrollment: 'user' };
const ipadSupervised: RemovalDevice = { ...iosSupervised, platform: 'iPadOS' };
const tvSupervised: RemovalDevice = { platform: 'tvOS', supervised: true, enrollment: 'device' };
const tvPlain: RemovalDevice = { platform: 'tvOS', supervised: false, enrollment: 'none' };
const visionSupervised: RemovalDevice = {
  platform: 'visionOS',
  supervised: true,
  enrollment: 'device',
};
const watchSupervised: RemovalDevice = {
  platform: 'watchOS',
  supervised: true,
  enrollment: 'device',
};
const mac: RemovalDevice = { platform: 'macOS', supervised: false, enrollment: 'device' };
const macOld: RemovalDevice = { ...mac, osVersion: '10.14.6' };
const mac1015: RemovalDevice = { ...mac, osVersion: '10.15' };
const macAde: RemovalDevice = { platform: 'macOS', supervised: true, enrollment: 'ade' };
const macAdeRemovable: RemovalDevice = { ...macAde, enrollmentProfileRemovable: true };
const enrolledElsewhere: RemovalDevice = { ...iosSupervised, enrolledWith: 'other-mdm' };

const mdmProfile: RemovalProfile = { kind: 'configuration', installedBy: 'this-mdm' };
const otherMdmProfile: RemovalProfile = { kind: 'configuration', installedBy: 'other-mdm' };
const manual: RemovalProfile = { kind: 'configuration', installedBy: 'manual' };
const manualLocked: RemovalProfile = { ...manual, removalDisallowed: true };
const manualPassword: RemovalProfile = {
  ...manual,
  removalDisallowed: true,
  hasRemovalPassword: true,
};
const manualUserScope: RemovalProfile = { ...manual, scope: 'User' };
const configurator: RemovalProfile = { kind: 'configuration', installedBy: 'configurator' };
const configuratorPassword: RemovalProfile = { ...configurator, hasRemovalPassword: true };
const enrollmentByMdm: RemovalProfile = { kind: 'enrollment', installedBy: 'this-mdm' };
const enrollmentManual: RemovalProfile = { kind: 'enrollment', installedBy: 'manual' };
const enrollmentConfigurator: RemovalProfile = { kind: 'enrollment', installedBy: 'configurator' };
const enrollmentLocked: RemovalProfile = { ...enrollmentManual, hasRemovalPassword: true };

type Row = [
  name: string,
  profile: RemovalProfile,
  device: RemovalDevice,
  requester: RemovalRequester,
  outcome: RemovalOutcome,
  rule: RemovalRule,
  cascade: 'everything' | 'enrollment' | undefined,
];

const rows: Row[] = [
  // rule 1
  [
    'ok/wipe removes an MDM profile and everything',
    mdmProfile,
    iosSupervised,
    'wipe',
    'allowed',
    1,
    'everything',
  ],
  [
    'ok/wipe removes a non-removable ADE enrollment profile',
    enrollmentByMdm,
    iosAde,
    'wipe',
    'allowed',
    1,
    'everything',
  ],
  [
    'ok/wipe removes a password-locked profile',
    manualPassword,
    macOld,
    'wipe',
    'allowed',
    1,
    'everything',
  ],
  // rule 2
  [
    'fail/ADE enrollment profile not removable by the user',
    enrollmentByMdm,
    iosAde,
    'user',
    'denied',
    2,
    undefined,
  ],
  [
    'fail/ADE enrollment profile not removable even with a password',
    enrollmentByMdm,
    iosAde,
    'user-with-password',
    'denied',
    2,
    undefined,
  ],
  [
    'ok/ADE enrollment profile made removable by the administrator',
    enrollmentByMdm,
    iosAdeRemovable,
    'user',
    'allowed',
    2,
    'enrollment',
  ],
  [
    'ok/macOS ADE removable enrollment profile needs admin',
    enrollmentByMdm,
    macAdeRemovable,
    'user',
    'needs-admin-authentication',
    2,
    'enrollment',
  ],
  [
    'fail/macOS ADE enrollment profile not removable',
    enrollmentByMdm,
    macAde,
    'user',
    'denied',
    2,
    undefined,
  ],
  [
    'ok/ADE enrollment profile removed by this MDM (rule 2 is about the user)',
    enrollmentByMdm,
    iosAde,
    'this-mdm',
    'allowed',
    3,
    'enrollment',
  ],
  // rule 3
  [
    'ok/this MDM removes what it installed',
    mdmProfile,
    iosSupervised,
    'this-mdm',
    'allowed',
    3,
    undefined,
  ],
  [
    'fail/another MDM cannot remove this MDM profile',
    mdmProfile,
    iosSupervised,
    'other-mdm',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/this MDM cannot remove another MDM profile',
    otherMdmProfile,
    iosSupervised,
    'this-mdm',
    'denied',
    3,
    undefined,
  ],
  [
    'ok/another MDM removes what it installed',
    otherMdmProfile,
    iosSupervised,
    'other-mdm',
    'allowed',
    3,
    undefined,
  ],
  [
    'fail/an MDM cannot remove a manually installed profile',
    manual,
    iosSupervised,
    'this-mdm',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/an MDM cannot remove a Configurator profile',
    configurator,
    iosSupervised,
    'this-mdm',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/the user cannot remove an MDM profile on iOS',
    mdmProfile,
    iosPlain,
    'user',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/the user cannot remove an MDM profile in User Enrollment',
    mdmProfile,
    iosUser,
    'user',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/a password does not unlock an MDM profile',
    { ...mdmProfile, hasRemovalPassword: true },
    iosSupervised,
    'user-with-password',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/Configurator cannot remove an MDM profile',
    mdmProfile,
    iosSupervised,
    'configurator',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/macOS 10.15+: no user, not even an admin, removes an MDM profile',
    mdmProfile,
    mac,
    'user',
    'denied',
    3,
    undefined,
  ],
  [
    'fail/macOS 10.15 exactly: MDM profile locked',
    mdmProfile,
    mac1015,
    'user',
    'denied',
    3,
    undefined,
  ],
  [
    'ok/macOS 10.14: an admin may remove an MDM profile',
    mdmProfile,
    macOld,
    'user',
    'needs-admin-authentication',
    3,
    undefined,
  ],
  [
    'fail/macOS 10.14: PayloadRemovalDisallowed locks an MDM profile',
    { ...mdmProfile, removalDisallowed: true },
    macOld,
    'user',
    'denied',
    3,
    undefined,
  ],
  [
    'ok/the user unenrolls by removing the enrollment profile',
    enrollmentByMdm,
    iosPlain,
    'user',
    'allowed',
    3,
    'enrollment',
  ],
  [
    'ok/User Enrollment: the user signs out, removing everything managed',
    enrollmentByMdm,
    iosUser,
    'user',
    'allowed',
    3,
    'enrollment',
  ],
  [
    'ok/macOS unenrolling needs admin',
    enrollmentByMdm,
    mac,
    'user',
    'needs-admin-authentication',
    3,
    'enrollment',
  ],
  [
    'ok/this MDM removes its enrollment profile, with everything',
    enrollmentManual,
    iosPlain,
    'this-mdm',
    'allowed',
    3,
    'enrollment',
  ],
  [
    'fail/another MDM cannot remove this enrollment profile',
    enrollmentByMdm,
    iosPlain,
    'other-mdm',
    'denied',
    3,
    undefined,
  ],
  [
    'ok/the enrollment profile belongs to the MDM the device is enrolled in',
    enrollmentManual,
    enrolledElsewhere,
    'other-mdm',
    'allowed',
    3,
    'enrollment',
  ],
  [
    'fail/this MDM cannot remove another MDM enrollment profile',
    enrollmentManual,
    enrolledElsewhere,
    'this-mdm',
    'denied',
    3,
    undefined,
  ],
  // rule 4
  [
    'ok/Configurator removes what it installed on a supervised device',
    configurator,
    iosSupervised,
    'configurator',
    'allowed',
    4,
    undefined,
  ],
  [
    'ok/Configurator removes a supervised enrollment profile it installed',
    enrollmentConfigurator,
    iosSupervised,
    'configurator',
    'allowed',
    4,
    'enrollment',
  ],
  [
    'fail/Configurator on an unsupervised device',
    configurator,
    iosPlain,
    'configurator',
    'denied',
    4,
    undefined,
  ],
  [
    'fail/Configurator on a manual profile',
    manual,
    iosSupervised,
    'configurator',
    'denied',
    4,
    undefined,
  ],
  // rule 5
  [
    'ok/supervised iOS: password payload asks for the password',
    manualPassword,
    iosSupervised,
    'user',
    'needs-password',
    5,
    undefined,
  ],
  [
    'ok/supervised iOS: with the password it goes',
    manualPassword,
    iosSupervised,
    'user-with-password',
    'allowed',
    5,
    undefined,
  ],
  [
    'ok/supervised iPadOS: password payload asks for it',
    manualPassword,
    ipadSupervised,
    'user',
    'needs-password',
    5,
    undefined,
  ],
  [
    'ok/supervised tvOS: password payload asks for it',
    manualPassword,
    tvSupervised,
    'user',
    'needs-password',
    5,
    undefined,
  ],
  [
    'ok/Configurator-installed profile with a password, user asks',
    configuratorPassword,
    iosSupervised,
    'user',
    'needs-password',
    5,
    undefined,
  ],
  [
    'fail/supervised iOS: PayloadRemovalDisallowed, no password',
    manualLocked,
    iosSupervised,
    'user',
    'denied',
    5,
    undefined,
  ],
  [
    'fail/supervised tvOS: PayloadRemovalDisallowed, no password',
    manualLocked,
    tvSupervised,
    'user',
    'denied',
    5,
    undefined,
  ],
  [
    'ok/macOS: password payload applies without supervision',
    manualPassword,
    mac,
    'user',
    'needs-password',
    5,
    undefined,
  ],
  [
    'ok/macOS: with the password it goes',
    manualPassword,
    mac,
    'user-with-password',
    'allowed',
    5,
    undefined,
  ],
  [
    'ok/macOS: PayloadRemovalDisallowed without password needs admin',
    manualLocked,
    mac,
    'user',
    'needs-admin-authentication',
    5,
    undefined,
  ],
  [
    'ok/manual enrollment profile with a password: unenrolling needs it',
    enrollmentLocked,
    iosSupervised,
    'user',
    'needs-password',
    5,
    'enrollment',
  ],
  // rule 6
  [
    'ok/unsupervised iOS ignores PayloadRemovalDisallowed',
    manualLocked,
    iosPlain,
    'user',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/unsupervised iOS ignores the password payload',
    manualPassword,
    iosPlain,
    'user',
    'allowed',
    6,
    undefined,
  ],
  ['ok/unsupervised tvOS ignores locks', manualPassword, tvPlain, 'user', 'allowed', 6, undefined],
  [
    'ok/unenrolled iOS: the user removes a manual profile',
    manual,
    iosUnenrolled,
    'user',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/visionOS has no removal locks',
    manualPassword,
    visionSupervised,
    'user',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/watchOS has no removal locks',
    manualLocked,
    watchSupervised,
    'user',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/Configurator profile on an unsupervised device, user removes it',
    configuratorPassword,
    iosPlain,
    'user',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/macOS: a system profile needs admin',
    manual,
    mac,
    'user',
    'needs-admin-authentication',
    6,
    undefined,
  ],
  [
    'ok/macOS: a user-scoped profile needs no admin',
    manualUserScope,
    mac,
    'user',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/a password typed for an unlocked profile changes nothing',
    manual,
    iosSupervised,
    'user-with-password',
    'allowed',
    6,
    undefined,
  ],
  [
    'ok/user removes a manual enrollment profile (unenrolls)',
    enrollmentManual,
    iosPlain,
    'user',
    'allowed',
    6,
    'enrollment',
  ],
];

describe('canRemove', () => {
  test.each(rows)('%s', (_name, profile, device, requester, outcome, rule, cascade) => {
    const decision = canRemove({ profile, device, requester });
    expect(decision.outcome).toBe(outcome);
    expect(decision.rule).toBe(rule);
    expect(decision.reason).toMatch(new RegExp(`^rule ${rule}: `));
    expect(decision.alsoRemoves?.scope).toBe(cascade);
    if (cascade !== undefined) {
      expect(decision.alsoRemoves?.items).toEqual(['profiles', 'managed-apps']);
      expect(decision.alsoRemoves?.channels).toEqual(['device', 'user']);
    }
  });

  test('ok/every rule is reachable from the table', () => {
    expect(new Set(rows.map((r) => r[5]))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
  });

  test('ok/every outcome is reachable from the table', () => {
    expect(new Set(rows.map((r) => r[4]))).toEqual(
      new Set(['allowed', 'denied', 'needs-password', 'needs-admin-authentication']),
    );
  });

  const misuse: [string, unknown][] = [
    ['fail/unknown requester', { profile: manual, device: iosPlain, requester: 'root' }],
    [
      'fail/unknown platform',
      { profile: manual, device: { ...iosPlain, platform: 'Android' }, requester: 'user' },
    ],
    [
      'fail/unknown installer',
      { profile: { ...manual, installedBy: 'email' }, device: iosPlain, requester: 'user' },
    ],
    [
      'fail/unknown enrollment',
      { profile: manual, device: { ...iosPlain, enrollment: 'dep' }, requester: 'user' },
    ],
    [
      'fail/unknown kind',
      { profile: { ...manual, kind: 'mdm' }, device: iosPlain, requester: 'user' },
    ],
    [
      'fail/enrollment profile on an unenrolled device',
      { profile: enrollmentByMdm, device: iosUnenrolled, requester: 'user' },
    ],
    ['fail/missing device', { profile: manual, requester: 'user' }],
  ];
  test.each(misuse)('%s throws TypeError', (_name, request) => {
    expect(() => canRemove(request as RemovalRequest)).toThrow(TypeError);
  });
});

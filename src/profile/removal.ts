/**
 * Who may remove a configuration profile from an Apple device, and what goes with it.
 * A pure decision that follows the removal order of Apple's Platform Deployment guide
 * ("Intro to device management profiles"): wipe, Automated Device Enrollment, the
 * installing MDM, Apple Configurator, the removal password, then the user.
 * See docs/removal-rules.md for the sources of each rule.
 */
import { decide, ENROLLMENT_CASCADE } from './removal-rules.js';

/** Apple platforms whose removal behaviour differs. */
export type RemovalPlatform = 'iOS' | 'iPadOS' | 'macOS' | 'tvOS' | 'visionOS' | 'watchOS';

/** How a profile got onto the device: through this MDM, another MDM, by hand, or by Apple Configurator. */
export type ProfileInstaller = 'this-mdm' | 'other-mdm' | 'manual' | 'configurator';

/** How the device is enrolled: not at all, profile-based device enrollment, User Enrollment, or ADE. */
export type DeviceEnrollment = 'none' | 'device' | 'user' | 'ade';

/** Who asks for the removal. `user-with-password` is the user who typed the removal password. */
export type RemovalRequester =
  'wipe' | 'this-mdm' | 'other-mdm' | 'user' | 'user-with-password' | 'configurator';

/** The profile whose removal is asked for, as far as removal is concerned. */
export interface RemovalProfile {
  /** `enrollment` is the profile carrying the `com.apple.mdm` payload; it belongs to the MDM the device is enrolled in. */
  readonly kind: 'configuration' | 'enrollment';
  /** How it was installed. */
  readonly installedBy: ProfileInstaller;
  /** `PayloadRemovalDisallowed`; absent means false. */
  readonly removalDisallowed?: boolean;
  /** A `com.apple.profileRemovalPassword` payload (`HasRemovalPasscode`); absent means false. */
  readonly hasRemovalPassword?: boolean;
  /** macOS `PayloadScope`; absent means `System`. A user-scoped profile needs no admin to remove. */
  readonly scope?: 'System' | 'User';
}

/** The device the profile is on. */
export interface RemovalDevice {
  readonly platform: RemovalPlatform;
  /** Dotted OS version, e.g. `10.14.6`; absent means a current release. */
  readonly osVersion?: string;
  readonly supervised: boolean;
  readonly enrollment: DeviceEnrollment;
  /** Which MDM the device is enrolled in; absent means this one (when enrolled at all). */
  readonly enrolledWith?: 'this-mdm' | 'other-mdm';
  /** ADE only: whether the administrator let the user remove the enrollment profile (`is_mdm_removable`); absent means false. */
  readonly enrollmentProfileRemovable?: boolean;
}

/** A removal question: this profile, on this device, asked by this party. */
export interface RemovalRequest {
  readonly profile: RemovalProfile;
  readonly device: RemovalDevice;
  readonly requester: RemovalRequester;
}

/** The possible answers. `needs-admin-authentication` is macOS asking for an administrator's credentials. */
export type RemovalOutcome = 'allowed' | 'denied' | 'needs-password' | 'needs-admin-authentication';

/** Which of Apple's six removal rules decided (see docs/removal-rules.md). */
export type RemovalRule = 1 | 2 | 3 | 4 | 5 | 6;

/** What else leaves the device with the profile. */
export interface RemovalCascade {
  /** `everything` for a wipe; otherwise every profile and managed app installed through the enrollment. */
  readonly scope: 'everything' | 'enrollment';
  readonly items: readonly ('profiles' | 'managed-apps')[];
  /** Both channels: user-channel profiles and apps hang off the device enrollment. */
  readonly channels: readonly ('device' | 'user')[];
}

/** The answer to a {@link RemovalRequest}. */
export interface RemovalDecision {
  readonly outcome: RemovalOutcome;
  readonly rule: RemovalRule;
  /** One sentence naming the rule and why it applied. */
  readonly reason: string;
  /** Present when the removal (once allowed) takes more than the profile with it. */
  readonly alsoRemoves?: RemovalCascade;
}

const PLATFORMS: ReadonlySet<string> = new Set([
  'iOS',
  'iPadOS',
  'macOS',
  'tvOS',
  'visionOS',
  'watchOS',
]);
const REQUESTERS: ReadonlySet<string> = new Set([
  'wipe',
  'this-mdm',
  'other-mdm',
  'user',
  'user-with-password',
  'configurator',
]);
const INSTALLERS: ReadonlySet<string> = new Set([
  'this-mdm',
  'other-mdm',
  'manual',
  'configurator',
]);
const KINDS: ReadonlySet<string> = new Set(['configuration', 'enrollment']);
const ENROLLMENTS: ReadonlySet<string> = new Set(['none', 'device', 'user', 'ade']);

/**
 * Decides whether `request.requester` may remove the profile, applying Apple's six rules in
 * order; the first rule that speaks decides. When the profile is the enrollment profile (or the
 * requester wipes the device) and the removal can go ahead, `alsoRemoves` says what goes with it.
 * Pure and total over valid requests; throws `TypeError` on an unknown platform, requester,
 * installer or enrollment value.
 */
export function canRemove(request: RemovalRequest): RemovalDecision {
  assertRequest(request);
  const decision = decide(request);
  if (decision.outcome === 'denied' || decision.alsoRemoves !== undefined) return decision;
  if (request.profile.kind !== 'enrollment') return decision;
  return { ...decision, alsoRemoves: ENROLLMENT_CASCADE };
}

function assertOneOf(allowed: ReadonlySet<string>, value: unknown, what: string): void {
  if (typeof value !== 'string' || !allowed.has(value)) {
    throw new TypeError(
      `canRemove: unknown ${what} ${typeof value === 'string' ? value : typeof value}`,
    );
  }
}

function assertRequest(request: RemovalRequest): void {
  const { profile, device, requester } = request as Partial<RemovalRequest>;
  if (profile === undefined || device === undefined) {
    throw new TypeError('canRemove: request needs profile and device');
  }
  assertOneOf(REQUESTERS, requester, 'requester');
  assertOneOf(PLATFORMS, device.platform, 'platform');
  assertOneOf(INSTALLERS, profile.installedBy, 'installer');
  assertOneOf(ENROLLMENTS, device.enrollment, 'enrollment');
  assertOneOf(KINDS, profile.kind, 'profile kind');
  if (profile.kind === 'enrollment' && device.enrollment === 'none') {
    throw new TypeError('canRemove: an enrollment profile implies an enrolled device');
  }
}

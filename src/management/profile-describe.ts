/**
 * What the profile library says about one profile: where it can be used (platforms, minimum OS,
 * supervision, enrollment types, deprecations) and who may remove it once installed. Removal
 * answers come from `canRemove`, so the console and the portal show the same answer (B5).
 */
import type { ValidationIssue } from '../errors.js';
import {
  canRemove,
  type RemovalDevice,
  type RemovalOutcome,
  type RemovalRequester,
  type RemovalRule,
} from '../profile/removal.js';
import { readRemovalSettings, removalProfileOf } from '../profile/removal-policy.js';
import { checkProfile, type PlatformCompatibility } from '../profile/validate.js';
import type { PlistDict } from '../protocol/plist.js';

/** Where a profile can be used, per platform and enrollment type. */
export interface CompatibilitySummary {
  /** Platforms on which every payload and key exists. */
  platforms: string[];
  /** Lowest OS version per available platform. */
  minimumOs: Record<string, string>;
  /** First OS version that removed something the profile uses, per platform. */
  removedIn: Record<string, string>;
  /** Available platforms where an unsupervised device refuses it but a supervised one takes it. */
  requiresSupervision: string[];
  /** Per available platform, the enrollment types (compatibility modes) that accept it. */
  enrollmentTypes: Record<string, string[]>;
  /** Platforms where a user may also install it by hand. */
  manualInstall: string[];
  /** Schema findings about deprecated or removed payloads and keys (warnings). */
  deprecations: ValidationIssue[];
  /** The full per-platform report, with the problems that block each mode. */
  details: readonly PlatformCompatibility[];
}

/** One typical removal question and `canRemove`'s answer. */
export interface RemovalCase {
  /** e.g. `user/iphone-device-enrollment`. */
  case: string;
  requester: RemovalRequester;
  device: RemovalDevice;
  outcome: RemovalOutcome;
  rule: RemovalRule;
  reason: string;
}

/** The profile's removal controls and the answers for typical cases. */
export interface RemovalSummary {
  removalDisallowed: boolean;
  hasRemovalPassword: boolean;
  removalDate?: Date;
  /** `DurationUntilRemoval`, seconds. */
  durationUntilRemoval?: number;
  cases: RemovalCase[];
}

/** {@link describeProfile}'s answer. */
export interface ProfileDescription {
  compatibility: CompatibilitySummary;
  removal: RemovalSummary;
}

const iphone = (enrollment: RemovalDevice['enrollment'], supervised: boolean): RemovalDevice => ({
  platform: 'iOS',
  supervised,
  enrollment,
});

/** The questions every profile is answered for, in the order they are shown. */
const CASES: readonly { case: string; requester: RemovalRequester; device: RemovalDevice }[] = [
  { case: 'user/iphone-device-enrollment', requester: 'user', device: iphone('device', false) },
  { case: 'user/iphone-user-enrollment', requester: 'user', device: iphone('user', false) },
  { case: 'user/iphone-ade-supervised', requester: 'user', device: iphone('ade', true) },
  {
    case: 'user/mac-device-enrollment',
    requester: 'user',
    device: { platform: 'macOS', supervised: false, enrollment: 'device' },
  },
  { case: 'mdm/iphone-device-enrollment', requester: 'this-mdm', device: iphone('device', false) },
  { case: 'mdm/iphone-user-enrollment', requester: 'this-mdm', device: iphone('user', false) },
];

const PASSWORD_CASE = {
  case: 'user-with-password/iphone-ade-supervised',
  requester: 'user-with-password',
  device: iphone('ade', true),
} as const;

const isDeprecation = (i: ValidationIssue): boolean => /deprecat|removed/.test(i.code);

function summarize(
  details: readonly PlatformCompatibility[],
  issues: readonly ValidationIssue[],
): CompatibilitySummary {
  const available = details.filter((d) => d.available);
  const ok = (d: PlatformCompatibility, mode: string): boolean =>
    d.modes.some((m) => m.mode === mode && m.ok);
  const out: CompatibilitySummary = {
    platforms: available.map((d) => d.platform),
    minimumOs: {},
    removedIn: {},
    requiresSupervision: available
      .filter((d) => !ok(d, 'device') && ok(d, 'supervised'))
      .map((d) => d.platform),
    enrollmentTypes: {},
    manualInstall: available.filter((d) => d.manualInstall).map((d) => d.platform),
    deprecations: issues.filter(isDeprecation),
    details,
  };
  for (const d of available) {
    if (d.minVersion !== undefined) out.minimumOs[d.platform] = d.minVersion;
    if (d.removedIn !== undefined) out.removedIn[d.platform] = d.removedIn;
    out.enrollmentTypes[d.platform] = d.modes.filter((m) => m.ok).map((m) => m.mode);
  }
  return out;
}

/** The removal controls of `profile` and `canRemove`'s answer for each typical case. */
export function removalSummary(profile: PlistDict): RemovalSummary {
  const settings = readRemovalSettings(profile);
  const subject = removalProfileOf(profile, 'this-mdm');
  const cases = settings.hasRemovalPassword ? [...CASES, PASSWORD_CASE] : CASES;
  return {
    ...settings,
    cases: cases.map((c) => {
      const d = canRemove({ profile: subject, device: c.device, requester: c.requester });
      return { ...c, outcome: d.outcome, rule: d.rule, reason: d.reason };
    }),
  };
}

/**
 * Describes a decoded profile: its compatibility summary (from `checkProfile`) and its removal
 * rules (from `readRemovalSettings` and `canRemove`). Pure; never throws on a profile the
 * library stored.
 */
export function describeProfile(profile: PlistDict): ProfileDescription {
  const report = checkProfile(profile);
  return {
    compatibility: summarize(report.compatibility ?? [], report.issues),
    removal: removalSummary(profile),
  };
}

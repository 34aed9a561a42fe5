/**
 * Validates a configuration profile (ours or anyone's, as a decoded plist) against
 * Apple's schema: structure, then, for a given target, availability, payload counts and
 * whether removal controls will be honoured; with no target, a compatibility summary.
 */
import type { ValidationIssue } from '../errors.js';
import type { PlistValue } from '../protocol/plist.js';
import type { PlatformCompatibility } from '../schema/compat.js';
import { summarizeCompatibility } from '../schema/compat.js';
import { judgeLifecycleAnywhere, judgeMissingAnywhere, judgeUsages } from '../schema/judge.js';
import type { Target } from '../schema/target.js';
import { PLATFORMS } from '../schema/facts.js';
import { isVersion } from '../schema/version.js';
import type { WalkedProfile } from './validate-walk.js';
import {
  entryTable,
  findPayloadFacts,
  REMOVAL_PASSWORD_TYPE,
  walkProfile,
} from './validate-walk.js';

export type { PlatformCompatibility } from '../schema/compat.js';

/** Result of {@link checkProfile}. */
export interface ProfileReport {
  /** Every problem; `error`s make the profile invalid, `warning`s do not. */
  readonly issues: readonly ValidationIssue[];
  /** Per-platform compatibility; present when no target was given. */
  readonly compatibility?: readonly PlatformCompatibility[];
}

const REMOVAL_CODES = new Set([
  'requires-supervision',
  'forbidden-in-user-enrollment',
  'forbidden-on-shared-ipad',
]);

/** Removal controls the target ignores become one warning each instead of errors. */
function removalControls(
  issues: readonly ValidationIssue[],
  walked: WalkedProfile,
): ValidationIssue[] {
  const passwords = new Set(walked.payloads.get(REMOVAL_PASSWORD_TYPE) ?? []);
  const out: ValidationIssue[] = [];
  for (const i of issues) {
    const isControl = i.path === 'PayloadRemovalDisallowed' || passwords.has(i.path);
    if (!isControl || !REMOVAL_CODES.has(i.code)) {
      out.push(i);
      continue;
    }
    // A PayloadRemovalDisallowed of false asks for nothing, so there is nothing to honour.
    if (i.path === 'PayloadRemovalDisallowed' && !walked.removalDisallowed) continue;
    const why = i.message.replace(/^\S+ /, '');
    const what = passwords.has(i.path) ? 'The removal password' : 'PayloadRemovalDisallowed';
    out.push({
      path: i.path,
      code: 'removal-not-honoured',
      message: `${what} will not be honoured: it ${why}`,
      severity: 'warning',
    });
  }
  return out;
}

function multipleIssues(walked: WalkedProfile, target: Target | undefined): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const [type, paths] of walked.payloads) {
    if (paths.length < 2) continue;
    const entry = findPayloadFacts(type);
    const table = entry ? entryTable(entry) : undefined;
    if (!table) continue;
    const platforms = target
      ? [target.platform]
      : PLATFORMS.filter((p) => isVersion(table[p]?.introduced ?? 'n/a'));
    const single = platforms.filter((p) => table[p]?.multiple === false);
    if (single.length === 0) continue;
    const severity = single.length === platforms.length ? 'error' : 'warning';
    for (const path of paths.slice(1)) {
      out.push({
        path,
        code: 'multiple-payloads',
        message: `only one ${type} payload is allowed on ${single.join(', ')}`,
        severity,
      });
    }
  }
  return out;
}

function noTargetIssues(walked: WalkedProfile): ValidationIssue[] {
  return [
    ...judgeMissingAnywhere(walked.usages),
    ...multipleIssues(walked, undefined),
    ...judgeLifecycleAnywhere(walked.usages),
  ];
}

function targetIssues(walked: WalkedProfile, target: Target): ValidationIssue[] {
  return [
    ...removalControls(judgeUsages(walked.usages, target), walked),
    ...multipleIssues(walked, target),
  ];
}

/**
 * Checks `profile` (a decoded plist) against Apple's schema. With a `target`, also checks
 * availability on that device (a place removed at or before the target's OS version is an
 * error, a deprecated one a warning); without one, reports payload counts only allowed on some
 * platforms and every deprecated or removed place as warnings naming platform and version. Returns every issue (empty when clean); never throws on bad input.
 */
export function validateProfile(profile: PlistValue, target?: Target): ValidationIssue[] {
  const walked = walkProfile(profile);
  return [...walked.issues, ...(target ? targetIssues(walked, target) : noTargetIssues(walked))];
}

/**
 * Validates `profile` and, when no `target` is given, adds the per-platform compatibility
 * summary (minimum OS version, which enrollment modes accept it, manual installation).
 */
export function checkProfile(profile: PlistValue, target?: Target): ProfileReport {
  const walked = walkProfile(profile);
  if (target) return { issues: [...walked.issues, ...targetIssues(walked, target)] };
  const compatibility = summarizeCompatibility(walked.usages, (t) => targetIssues(walked, t));
  return { issues: [...walked.issues, ...noTargetIssues(walked)], compatibility };
}

/** The per-platform compatibility of `profile` (see {@link checkProfile}). */
export function profileCompatibility(profile: PlistValue): PlatformCompatibility[] {
  const walked = walkProfile(profile);
  return summarizeCompatibility(walked.usages, (t) => targetIssues(walked, t));
}

/**
 * Targets and availability: what a device (platform, OS version, supervision,
 * enrollment type, channel) accepts, judged from the effective `supportedOS` facts of
 * a payload, command or key (SCHEMA-GUIDE.md §2.2).
 */
import type { OsFacts, OsTable, Platform } from './facts.js';
import { PLATFORMS } from './facts.js';
import { compareVersions, isVersion } from './version.js';

/** Enrollment types: profile-based device enrollment, User Enrollment (BYOD), Automated Device Enrollment. */
export type Enrollment = 'device' | 'user' | 'ade';

/** The device a profile or command is meant for; unset fields are not checked. */
export interface Target {
  readonly platform: Platform;
  /** e.g. `17.0`; when absent, versions are not checked. */
  readonly osVersion?: string;
  /** Supervised device (implied by `ade`). */
  readonly supervised?: boolean;
  readonly enrollment?: Enrollment;
  /** Device channel (default) or the user channel of macOS or Shared iPad. */
  readonly channel?: 'device' | 'user';
  readonly sharedIPad?: boolean;
  /** The user installs the profile by hand rather than through MDM. */
  readonly manualInstall?: boolean;
}

/** An availability problem before it gets a path; `message` is a verb phrase completed by a subject (`AllowCamera needs a supervised device`). */
export interface Finding {
  readonly code: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Lays `own` over `parent`, platform by platform, field by field (nested mode objects too). */
export function overlayOs(parent: OsTable | undefined, own: OsTable): OsTable {
  if (!parent) return own;
  const out: Partial<Record<Platform, OsFacts>> = {};
  for (const p of PLATFORMS) {
    const a = parent[p];
    const b = own[p];
    if (!a || !b) {
      const only = a ?? b;
      if (only) out[p] = only;
      continue;
    }
    const merged: Record<string, unknown> = { ...a, ...b };
    if (a.sharedipad && b.sharedipad) merged.sharedipad = { ...a.sharedipad, ...b.sharedipad };
    if (a.userenrollment && b.userenrollment)
      merged.userenrollment = { ...a.userenrollment, ...b.userenrollment };
    out[p] = merged;
  }
  return out;
}

const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

function versionFindings(f: OsFacts, t: Target): Finding[] {
  const p = t.platform;
  const introduced = f.introduced;
  if (introduced === undefined || !isVersion(introduced))
    return [err('unavailable', `is not available on ${p}`)];
  const removed = f.removed !== undefined && isVersion(f.removed) ? f.removed : undefined;
  if (removed !== undefined) {
    if (compareVersions(removed, '0') === 0)
      return [err('removed', `is no longer available on ${p}`)];
    // The device ignores a removed key or refuses a removed payload: either way it does nothing.
    if (t.osVersion !== undefined && compareVersions(t.osVersion, removed) >= 0) {
      return [err('removed', `was removed in ${p} ${removed}`)];
    }
  }
  if (t.osVersion !== undefined && compareVersions(t.osVersion, introduced) < 0) {
    return [err('introduced-later', `needs ${p} ${introduced} or later`)];
  }
  const out: Finding[] = [];
  if (f.deprecated !== undefined && isVersion(f.deprecated)) {
    if (t.osVersion === undefined || compareVersions(t.osVersion, f.deprecated) >= 0) {
      out.push(warn('deprecated', `is deprecated since ${p} ${f.deprecated}`));
    }
  }
  // Without a version the removal cannot be judged, only announced.
  if (removed !== undefined && t.osVersion === undefined)
    out.push(warn('removed', `was removed in ${p} ${removed}`));
  return out;
}

function modeFindings(f: OsFacts, t: Target): Finding[] {
  const out: Finding[] = [];
  const supervised = t.supervised === true || t.enrollment === 'ade';
  if (f.supervised === true && !supervised)
    out.push(err('requires-supervision', 'needs a supervised device'));
  if (f.requiresdep === true && t.enrollment !== undefined && t.enrollment !== 'ade') {
    out.push(err('requires-ade', 'needs Automated Device Enrollment'));
  }
  const ue = f.userenrollment?.mode;
  if (t.enrollment === 'user' && ue === 'forbidden')
    out.push(err('forbidden-in-user-enrollment', 'is not allowed in User Enrollment'));
  if (t.enrollment === 'user' && ue === 'ignored')
    out.push(warn('ignored-in-user-enrollment', 'is ignored in User Enrollment'));
  if (t.enrollment !== undefined && t.enrollment !== 'user' && ue === 'required') {
    out.push(err('requires-user-enrollment', 'is only valid in User Enrollment'));
  }
  if (t.manualInstall === true && f.allowmanualinstall === false) {
    out.push(err('requires-mdm', 'cannot be installed manually, only through MDM'));
  }
  return out;
}

function channelFindings(f: OsFacts, t: Target): Finding[] {
  const out: Finding[] = [];
  const shared = t.sharedIPad === true ? f.sharedipad : undefined;
  if (t.sharedIPad === true && shared?.mode === 'forbidden')
    out.push(err('forbidden-on-shared-ipad', 'is not allowed on Shared iPad'));
  if (t.sharedIPad === true && shared?.mode === 'ignored')
    out.push(warn('ignored-on-shared-ipad', 'is ignored on Shared iPad'));
  const channel = t.channel ?? 'device';
  const allowed =
    channel === 'user'
      ? (shared?.userchannel ?? f.userchannel)
      : (shared?.devicechannel ?? f.devicechannel);
  if (allowed === false) out.push(err('wrong-channel', `is not allowed on the ${channel} channel`));
  return out;
}

/** Everything wrong with using something whose effective facts are `table` on `target`; empty when fine. */
export function findingsFor(table: OsTable | undefined, target: Target): Finding[] {
  if (table === undefined) return [];
  const f = table[target.platform];
  if (!f) return [err('unavailable', `is not available on ${target.platform}`)];
  const version = versionFindings(f, target);
  if (version.some((x) => x.severity === 'error')) return version;
  return [...version, ...modeFindings(f, target), ...channelFindings(f, target)];
}

/**
 * Compatibility summary: on which platforms, from which OS version, and under which
 * enrollment modes something validated against the schema can be used. Computed by
 * judging the walk's usages against one synthetic target per platform and mode.
 */
import type { ValidationIssue } from '../errors.js';
import type { Platform } from './facts.js';
import { PLATFORMS } from './facts.js';
import type { LifecycleMarker } from './judge.js';
import { lifecycleMarkers } from './judge.js';
import type { Target } from './target.js';
import { compareVersions, isVersion } from './version.js';
import type { Usage } from './walk.js';

/** Kinds of enrollment and device a summary reports on. */
export type CompatibilityMode =
  'device' | 'supervised' | 'ade' | 'user-enrollment' | 'shared-ipad' | 'user-channel';

/** Whether a mode accepts the value, with the errors that stop it. */
export interface ModeVerdict {
  readonly mode: CompatibilityMode;
  readonly ok: boolean;
  readonly problems: readonly ValidationIssue[];
}

/** What one platform accepts. */
export interface PlatformCompatibility {
  readonly platform: Platform;
  readonly available: boolean;
  /** Lowest OS version on which everything used exists; undefined when unavailable. */
  readonly minVersion?: string;
  /** First OS version that removed something used, if any. */
  readonly removedIn?: string;
  /** First OS version from which something used is deprecated, if any. */
  readonly deprecatedIn?: string;
  /** Each place used that is deprecated or removed on this platform; absent when none (or unavailable). */
  readonly lifecycle?: readonly LifecycleMarker[];
  /** Whether a user may install it by hand (not only through MDM). */
  readonly manualInstall: boolean;
  readonly modes: readonly ModeVerdict[];
  /** Why it is unavailable (empty when available). */
  readonly problems: readonly ValidationIssue[];
}

const MODES: Readonly<Record<CompatibilityMode, Omit<Target, 'platform'>>> = {
  device: { enrollment: 'device', supervised: false },
  supervised: { enrollment: 'device', supervised: true },
  ade: { enrollment: 'ade' },
  'user-enrollment': { enrollment: 'user' },
  'shared-ipad': { enrollment: 'ade', sharedIPad: true },
  'user-channel': { enrollment: 'device', channel: 'user' },
};

function modesOf(platform: Platform): CompatibilityMode[] {
  const base: CompatibilityMode[] = ['device', 'supervised', 'ade'];
  if (platform === 'iOS') return [...base, 'user-enrollment', 'shared-ipad'];
  if (platform === 'macOS') return [...base, 'user-enrollment', 'user-channel'];
  if (platform === 'visionOS') return [...base, 'user-enrollment'];
  return base;
}

interface Bounds {
  min?: string;
  removed?: string;
  deprecated?: string;
}

/** The lower of two versions; `v` counts only when it is a version above 0. */
function earliest(current: string | undefined, v: string | undefined): string | undefined {
  if (v === undefined || !isVersion(v) || compareVersions(v, '0') === 0) return current;
  return current === undefined || compareVersions(v, current) < 0 ? v : current;
}

function versionBounds(usages: readonly Usage[], platform: Platform): Bounds {
  const out: Bounds = {};
  for (const u of usages) {
    if (u.kind !== 'present') continue;
    const f = u.table?.[platform];
    if (f?.introduced !== undefined && isVersion(f.introduced)) {
      if (out.min === undefined || compareVersions(f.introduced, out.min) > 0)
        out.min = f.introduced;
    }
    const removed = earliest(out.removed, f?.removed);
    if (removed !== undefined) out.removed = removed;
    const deprecated = earliest(out.deprecated, f?.deprecated);
    if (deprecated !== undefined) out.deprecated = deprecated;
  }
  return out;
}

function lifecycleOf(
  usages: readonly Usage[],
  platform: Platform,
): { lifecycle?: LifecycleMarker[] } {
  const lifecycle = lifecycleMarkers(usages).filter((m) => m.platform === platform);
  return lifecycle.length > 0 ? { lifecycle } : {};
}

const errorsOf = (issues: readonly ValidationIssue[]): ValidationIssue[] =>
  issues.filter((i) => i.severity === 'error');

/**
 * Summarises, for every platform, availability, minimum OS version, the first versions that
 * deprecate or remove something used (with the places), manual installation and a verdict per
 * enrollment mode. `judge` gives the target-dependent issues of the value.
 */
export function summarizeCompatibility(
  usages: readonly Usage[],
  judge: (target: Target) => readonly ValidationIssue[],
): PlatformCompatibility[] {
  return PLATFORMS.map((platform) => {
    const bounds = versionBounds(usages, platform);
    const base: Target = {
      platform,
      ...(bounds.min === undefined ? {} : { osVersion: bounds.min }),
    };
    const blocking = errorsOf(judge({ platform })).filter(
      (i) => i.code === 'unavailable' || i.code === 'removed',
    );
    if (blocking.length > 0 || bounds.min === undefined) {
      return { platform, available: false, manualInstall: false, modes: [], problems: blocking };
    }
    const modes = modesOf(platform).map((mode) => {
      const problems = errorsOf(judge({ ...base, ...MODES[mode] }));
      return { mode, ok: problems.length === 0, problems };
    });
    const manual = errorsOf(judge({ ...base, manualInstall: true })).every(
      (i) => i.code !== 'requires-mdm',
    );
    return {
      platform,
      available: true,
      minVersion: bounds.min,
      ...(bounds.removed === undefined ? {} : { removedIn: bounds.removed }),
      ...(bounds.deprecated === undefined ? {} : { deprecatedIn: bounds.deprecated }),
      ...lifecycleOf(usages, platform),
      manualInstall: manual,
      modes,
      problems: [],
    };
  });
}

/**
 * The compatibility filter (rule M7): whether one version of a library profile may be sent to a
 * device, judged by `validateProfile` against the device's target, as checks the explain trace
 * shows (platform, OS version, supervision, enrollment type, channel, payload). Unknown facts
 * are judged on the safe side; verdicts are cached by (profile, version, target key).
 */
import type { ValidationIssue } from '../../errors.js';
import type { PlistDict } from '../../protocol/plist.js';
import { validateProfile } from '../../profile/validate.js';
import type { Target } from '../../schema/target.js';
import type { LibraryProfileRecord } from '../../storage/ports.js';
import { targetKey } from './target.js';
import type { CompatibilityCheck, CompatibilityVerdict, DeviceTarget } from './types.js';

/** Judges profile versions against devices, remembering recent verdicts. */
export interface CompatibilityJudge {
  /**
   * Whether version `version` of `profile`, whose decoded content is `content`, may be sent to
   * `target`; the same (profile id, version, target key) answers from the cache without
   * looking at `content` again.
   */
  judge(
    profile: LibraryProfileRecord,
    version: number,
    content: PlistDict,
    target: DeviceTarget,
  ): CompatibilityVerdict;
}

/** Default size of the verdict cache: enough for every profile on every kind of device. */
export const DEFAULT_VERDICT_ENTRIES = 10_000;

type CheckName = CompatibilityCheck['check'];

const CHECK_OF_CODE: Readonly<Record<string, CheckName>> = {
  unavailable: 'platform',
  removed: 'os-version',
  'introduced-later': 'os-version',
  'requires-supervision': 'supervision',
  'requires-ade': 'enrollment-type',
  'forbidden-in-user-enrollment': 'enrollment-type',
  'requires-user-enrollment': 'enrollment-type',
  'forbidden-on-shared-ipad': 'enrollment-type',
  'wrong-channel': 'channel',
};

const ORDER: readonly CheckName[] = [
  'platform',
  'os-version',
  'supervision',
  'enrollment-type',
  'channel',
  'payload',
];

/** How many findings a failing check names before `and N more`. */
const SHOWN = 3;

/** The schema target for `target`, on the safe side: unknown supervision is unsupervised. */
export function schemaTargetOf(
  target: DeviceTarget & { platform: NonNullable<DeviceTarget['platform']> },
): Target {
  return {
    platform: target.platform,
    ...(target.osVersion === undefined ? {} : { osVersion: target.osVersion }),
    supervised: target.supervised === true,
    enrollment: target.enrollment,
    channel: target.channel,
    sharedIPad: target.sharedIPad,
  };
}

function failing(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  const shown = unique.slice(0, SHOWN).join('; ');
  return unique.length > SHOWN ? `${shown}; and ${unique.length - SHOWN} more` : shown;
}

function enrollmentWords(target: DeviceTarget): string {
  const kind =
    target.enrollment === 'user'
      ? 'User Enrollment'
      : target.enrollment === 'ade'
        ? 'Automated Device Enrollment'
        : 'device enrollment';
  return target.sharedIPad ? `${kind} (Shared iPad)` : kind;
}

/** What a passing check says, in words. */
function passing(check: CheckName, target: DeviceTarget): string {
  const platform = target.platform ?? 'unknown platform';
  switch (check) {
    case 'platform':
      return `available on ${platform}`;
    case 'os-version':
      return target.osVersion === undefined
        ? 'OS version not reported yet: versions not checked'
        : `available on ${platform} ${target.osVersion}`;
    case 'supervision':
      if (target.supervised === undefined)
        return 'supervision not reported yet: judged as unsupervised, and nothing needs supervision';
      return target.supervised ? 'the device is supervised' : 'nothing needs a supervised device';
    case 'enrollment-type':
      return `allowed in ${enrollmentWords(target)}`;
    case 'channel':
      return `allowed on the ${target.channel} channel`;
    case 'payload':
      return 'the payloads are valid';
  }
}

/** The verdict of `issues` (from `validateProfile` on `target`): one check per kind, in order. */
export function verdictOf(
  issues: readonly ValidationIssue[],
  target: DeviceTarget,
): CompatibilityVerdict {
  const errors = new Map<CheckName, string[]>();
  for (const issue of issues) {
    if (issue.severity !== 'error') continue;
    const check = CHECK_OF_CODE[issue.code] ?? 'payload';
    const list = errors.get(check) ?? [];
    list.push(check === 'payload' ? `${issue.path}: ${issue.message}` : issue.message);
    errors.set(check, list);
  }
  const checks: CompatibilityCheck[] = ORDER.map((check) => {
    const found = errors.get(check);
    return found
      ? { check, ok: false, detail: failing(found) }
      : { check, ok: true, detail: passing(check, target) };
  });
  const first = checks.find((c) => !c.ok);
  // Cached verdicts are shared by every caller, so they are frozen.
  for (const c of checks) Object.freeze(c);
  Object.freeze(checks);
  return Object.freeze(first ? { ok: false, checks, reason: first.detail } : { ok: true, checks });
}

const NO_PLATFORM: CompatibilityVerdict = Object.freeze({
  ok: false,
  checks: Object.freeze([
    Object.freeze({ check: 'platform', ok: false, detail: 'platform not reported yet' } as const),
  ]),
  reason: 'platform not reported yet',
});

/** Judges without a cache: `validateProfile(content, target)`, errors make it incompatible. */
export function judgeCompatibility(content: PlistDict, target: DeviceTarget): CompatibilityVerdict {
  const platform = target.platform;
  if (platform === undefined) return NO_PLATFORM;
  return verdictOf(validateProfile(content, schemaTargetOf({ ...target, platform })), target);
}

/** One cached verdict; `used` is its second chance at eviction (set on every hit). */
interface Entry {
  verdict: CompatibilityVerdict;
  used: boolean;
}

/** Target keys by target object: a device's target is judged once per profile, keyed once. */
const keys = new WeakMap<DeviceTarget, string>();

function keyOf(target: DeviceTarget): string {
  let key = keys.get(target);
  if (key === undefined) {
    key = targetKey(target);
    keys.set(target, key);
  }
  return key;
}

/** Adds `entry`, then evicts the oldest entries not used since they last had a chance. */
function insert(cache: Map<string, Entry>, key: string, entry: Entry, max: number): void {
  cache.set(key, entry);
  for (let turns = cache.size; cache.size > max && turns > 0; turns--) {
    const oldest = cache.entries().next();
    if (oldest.done === true) return;
    const [k, e] = oldest.value;
    cache.delete(k);
    if (e.used && k !== key) {
      e.used = false;
      cache.set(k, e);
    }
  }
  if (cache.size > max) cache.delete(cache.keys().next().value as string);
}

/**
 * A {@link CompatibilityJudge} caching at most `maxEntries` verdicts (default
 * {@link DEFAULT_VERDICT_ENTRIES}), evicting the least recently used ones (second-chance LRU:
 * a hit costs one key and one map lookup).
 */
export function createCompatibilityJudge(
  options: { maxEntries?: number } = {},
): CompatibilityJudge {
  const max = options.maxEntries ?? DEFAULT_VERDICT_ENTRIES;
  if (!Number.isInteger(max) || max < 1)
    throw new TypeError('createCompatibilityJudge: maxEntries must be a positive integer');
  const cache = new Map<string, Entry>();
  return {
    judge(profile, version, content, target) {
      const key = `${profile.id}\u0000${version}\u0000${keyOf(target)}`;
      const hit = cache.get(key);
      if (hit !== undefined) {
        hit.used = true;
        return hit.verdict;
      }
      const verdict = judgeCompatibility(content, target);
      insert(cache, key, { verdict, used: false }, max);
      return verdict;
    },
  };
}

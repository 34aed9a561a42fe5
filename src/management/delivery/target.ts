/**
 * What a device is, as the delivery planner judges it (rule M7): platform, OS version,
 * supervision, enrollment type and channel, read from the facts an enrollment record holds
 * (Authenticate's `ProductName`, `Model`, `OSVersion`; `IsSupervised` from DeviceInformation).
 * Facts not reported yet are left out and named in `unknown`.
 */
import type { Platform } from '../../schema/facts.js';
import type { EnrollmentRecord, EnrollmentType } from '../../storage/ports.js';
import type { DeviceTarget, UnknownFact } from './types.js';

/** Product name prefixes and the schema platform they run (iPadOS shares iOS's facts). */
const PRODUCT_PLATFORMS: readonly (readonly [string, Platform])[] = [
  ['iPhone', 'iOS'],
  ['iPod', 'iOS'],
  ['iPad', 'iOS'],
  ['VirtualMac', 'macOS'],
  ['MacBook', 'macOS'],
  ['iMac', 'macOS'],
  ['Mac', 'macOS'],
  ['AppleTV', 'tvOS'],
  ['RealityDevice', 'visionOS'],
  ['Watch', 'watchOS'],
];

const USER_ENROLLMENT: ReadonlySet<EnrollmentType> = new Set([
  'user-enrollment-device',
  'user-enrollment-user',
]);
const USER_CHANNEL: ReadonlySet<EnrollmentType> = new Set([
  'user',
  'user-enrollment-user',
  'shared-ipad-user',
]);

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function platformOfName(name: string | undefined): Platform | undefined {
  if (name === undefined) return undefined;
  return PRODUCT_PLATFORMS.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/**
 * The platform of a device from its facts: `ProductName`, else `Model` (DeviceInformation's
 * `Model` is a part number such as `MTLT3LL/A`, so it may not say), else `undefined`.
 */
export function platformOf(facts: Readonly<Record<string, unknown>>): Platform | undefined {
  return platformOfName(text(facts.ProductName)) ?? platformOfName(text(facts.Model));
}

function osVersionOf(facts: Readonly<Record<string, unknown>>): string | undefined {
  const v = text(facts.OSVersion);
  return v !== undefined && /^\d+(\.\d+)*$/.test(v) ? v : undefined;
}

/**
 * The {@link DeviceTarget} of an enrollment: platform from `ProductName` (or `Model`), OS
 * version from `OSVersion`, supervision from the boolean fact `IsSupervised`; enrollment `user`
 * for User Enrollment types, else `device`; channel `user` for user channels. Facts that are
 * missing (or malformed) are absent and listed in `unknown`, in the order platform, osVersion,
 * supervised. The target is frozen (derive a changed one by spreading it).
 */
export function deviceTargetOf(enrollment: EnrollmentRecord): DeviceTarget {
  const facts = enrollment.facts;
  const platform = platformOf(facts);
  const osVersion = osVersionOf(facts);
  const supervised = typeof facts.IsSupervised === 'boolean' ? facts.IsSupervised : undefined;
  const unknown: UnknownFact[] = [];
  if (platform === undefined) unknown.push('platform');
  if (osVersion === undefined) unknown.push('osVersion');
  if (supervised === undefined) unknown.push('supervised');
  // Frozen: the compatibility judge remembers a target's key by the object.
  return Object.freeze({
    ...(platform === undefined ? {} : { platform }),
    ...(osVersion === undefined ? {} : { osVersion }),
    ...(supervised === undefined ? {} : { supervised }),
    enrollment: USER_ENROLLMENT.has(enrollment.type) ? 'user' : 'device',
    channel: USER_CHANNEL.has(enrollment.type) ? 'user' : 'device',
    sharedIPad: enrollment.type === 'shared-ipad-user',
    unknown: Object.freeze(unknown),
  });
}

/**
 * A short string equal for two targets exactly when the planner judges them alike (the
 * compatibility cache key), e.g. `iOS|17.4|unsupervised|device|device|-`; unknown facts read `?`.
 */
export function targetKey(target: DeviceTarget): string {
  const supervision =
    target.supervised === undefined ? '?' : target.supervised ? 'supervised' : 'unsupervised';
  return [
    target.platform ?? '?',
    target.osVersion ?? '?',
    supervision,
    target.enrollment,
    target.channel,
    target.sharedIPad ? 'shared' : '-',
  ].join('|');
}

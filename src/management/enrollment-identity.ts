/**
 * Which identity a link enrollment gets, from the `enrollment` page's `identity` setting and what
 * the download tells about the device: `scep`, `acme`, or `acme-where-supported`, which gives ACME
 * only to a device whose platform and OS version are known to support hardware-bound, attested
 * ACME keys ({@link ACME_MINIMUM_OS}) and SCEP to every other (unknown is SCEP: the conservative
 * choice, since a device that cannot do ACME would fail the profile). Safari on macOS reports
 * `Mac OS X 10_15_7` whatever the version, so a Mac's download is SCEP unless forced to `acme`.
 */
import { ENROLLMENT_IDENTITIES } from './pages.js';

/** The `identity` values of the `enrollment` page. */
export type EnrollmentIdentitySetting = (typeof ENROLLMENT_IDENTITIES)[number];

/** Apple platforms, as the minimum-OS table names them. */
export type ApplePlatform = 'iOS' | 'iPadOS' | 'tvOS' | 'macOS';

/**
 * Lowest OS version with hardware-bound, attested ACME identities (`com.apple.security.acme`
 * with `HardwareBound` and `Attest`): iOS and iPadOS 16, tvOS 16, macOS 14 (Apple silicon or T2).
 */
export const ACME_MINIMUM_OS: Readonly<Record<ApplePlatform, readonly [number, number]>> = {
  iOS: [16, 0],
  iPadOS: [16, 0],
  tvOS: [16, 0],
  macOS: [14, 0],
};

/** A device as far as a download tells it. */
export interface DeviceOs {
  platform: ApplePlatform;
  /** Major and minor version. */
  version: readonly [number, number];
}

const version = (major: string, minor: string | undefined): [number, number] => [
  Number(major),
  minor === undefined ? 0 : Number(minor),
];

/**
 * The platform and OS version a User-Agent names, or `undefined` when it names none Orchard
 * recognises (then the conservative choice applies). iPhone and iPod: `CPU iPhone OS 17_1`;
 * iPad: `iPad; CPU OS 17_1`; Apple TV: `AppleTV…` with `tvOS 17.0` or `OS 17_0`; Mac:
 * `Mac OS X 14_1` (Safari freezes it at 10_15_7).
 */
export function deviceOsFromUserAgent(userAgent: string | undefined): DeviceOs | undefined {
  if (userAgent === undefined || userAgent.length > 1024) return undefined;
  let m = /\biPhone OS (\d{1,3})(?:_(\d{1,3}))?/.exec(userAgent);
  if (m?.[1] !== undefined) return { platform: 'iOS', version: version(m[1], m[2]) };
  m = /\biPad\b.*?\bCPU OS (\d{1,3})(?:_(\d{1,3}))?/.exec(userAgent);
  if (m?.[1] !== undefined) return { platform: 'iPadOS', version: version(m[1], m[2]) };
  if (/\bAppleTV/i.test(userAgent)) {
    m = /\btvOS[ /](\d{1,3})(?:[._](\d{1,3}))?|\bOS (\d{1,3})(?:_(\d{1,3}))?/.exec(userAgent);
    const major = m?.[1] ?? m?.[3];
    if (major !== undefined) return { platform: 'tvOS', version: version(major, m?.[2] ?? m?.[4]) };
    return undefined;
  }
  m = /\bMac OS X (\d{1,3})[._](\d{1,3})/.exec(userAgent);
  if (m?.[1] !== undefined) return { platform: 'macOS', version: version(m[1], m[2]) };
  return undefined;
}

/** True when `device` meets {@link ACME_MINIMUM_OS}. */
export function supportsAttestedAcme(device: DeviceOs): boolean {
  const [major, minor] = ACME_MINIMUM_OS[device.platform];
  const [a, b] = device.version;
  return a > major || (a === major && b >= minor);
}

/** The identity setting of an `enrollment` page's values (`scep` when absent or unknown). */
export function identitySetting(
  values: Readonly<Record<string, unknown>> | undefined,
): EnrollmentIdentitySetting {
  const v = values?.identity;
  return (ENROLLMENT_IDENTITIES as readonly unknown[]).includes(v)
    ? (v as EnrollmentIdentitySetting)
    : 'scep';
}

/** The identity one download gets: ACME or SCEP, from the setting and the device (if known). */
export function chooseEnrollmentIdentity(
  setting: EnrollmentIdentitySetting,
  device: DeviceOs | undefined,
): 'scep' | 'acme' {
  if (setting === 'acme') return 'acme';
  if (setting === 'acme-where-supported' && device !== undefined && supportsAttestedAcme(device))
    return 'acme';
  return 'scep';
}

/**
 * Profile-level removal controls: `PayloadRemovalDisallowed`, the removal password payload
 * (`com.apple.profileRemovalPassword`, mirrored by `HasRemovalPasscode`), `RemovalDate` and
 * `DurationUntilRemoval`. Every setter returns a new profile and keeps the keys consistent.
 * See https://developer.apple.com/documentation/devicemanagement/toplevel
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.js';
import {
  isPlistDict,
  PlistReal,
  type PlistDict,
  type PlistValue,
} from '../protocol/plist-types.js';
import type { RemovalProfile } from './removal.js';

/** Payload type of the removal password payload. */
export const REMOVAL_PASSWORD_PAYLOAD_TYPE = 'com.apple.profileRemovalPassword';
const MDM_PAYLOAD_TYPE = 'com.apple.mdm';

/** The removal controls a profile carries, read back from its top level. */
export interface RemovalSettings {
  /** `PayloadRemovalDisallowed`. */
  readonly removalDisallowed: boolean;
  /** `HasRemovalPasscode`, or a removal password payload in a readable `PayloadContent`. */
  readonly hasRemovalPassword: boolean;
  /** `RemovalDate`; absent when not set. */
  readonly removalDate?: Date;
  /** `DurationUntilRemoval` in seconds; absent when not set. */
  readonly durationUntilRemoval?: number;
}

/** Options of {@link setRemovalPassword}. */
export interface RemovalPasswordOptions {
  /** `PayloadUUID` of a new payload (default: a random UUID); an existing payload keeps its own. */
  readonly uuid?: string;
}

function payloads(profile: PlistDict): PlistDict[] | undefined {
  const content = profile.PayloadContent;
  if (!Array.isArray(content)) return undefined;
  return content.filter((p): p is PlistDict => isPlistDict(p));
}

function editablePayloads(profile: PlistDict, what: string): PlistValue[] {
  if (profile.IsEncrypted === true || profile.EncryptedPayloadContent !== undefined) {
    throw new ValidationError(`cannot ${what} of an encrypted profile; decrypt it first`, [
      {
        path: 'EncryptedPayloadContent',
        code: 'encrypted',
        message: 'payloads are encrypted',
        severity: 'error',
      },
    ]);
  }
  const content = profile.PayloadContent;
  if (content !== undefined && !Array.isArray(content)) {
    throw new ValidationError(`cannot ${what}: PayloadContent is not an array`, [
      {
        path: 'PayloadContent',
        code: 'wrong-type',
        message: 'expected an array',
        severity: 'error',
      },
    ]);
  }
  return content ?? [];
}

function isPasswordPayload(p: PlistValue): boolean {
  return isPlistDict(p) && p.PayloadType === REMOVAL_PASSWORD_PAYLOAD_TYPE;
}

/**
 * Returns a copy of `profile` with a removal password payload holding `password` (replacing any
 * existing one, whose UUID is kept) and `HasRemovalPasscode` true. Throws `TypeError` for an
 * empty password and `ValidationError` when the profile is encrypted.
 */
export function setRemovalPassword(
  profile: PlistDict,
  password: string,
  options: RemovalPasswordOptions = {},
): PlistDict {
  if (typeof password !== 'string' || password === '') {
    throw new TypeError('setRemovalPassword: password must be a non-empty string');
  }
  const content = editablePayloads(profile, 'set a removal password');
  const existing = content.find(isPasswordPayload);
  const base =
    typeof profile.PayloadIdentifier === 'string' ? profile.PayloadIdentifier : 'profile';
  const payload: PlistDict = {
    PayloadType: REMOVAL_PASSWORD_PAYLOAD_TYPE,
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.removal-password`,
    PayloadUUID: options.uuid ?? randomUUID().toUpperCase(),
    ...(isPlistDict(existing) ? existing : {}),
    RemovalPassword: password,
  };
  const rest = content.filter((p) => !isPasswordPayload(p));
  return { ...profile, PayloadContent: [...rest, payload], HasRemovalPasscode: true };
}

/**
 * Returns a copy of `profile` without a removal password payload and without
 * `HasRemovalPasscode`. Throws `ValidationError` when the profile is encrypted.
 */
export function clearRemovalPassword(profile: PlistDict): PlistDict {
  const content = editablePayloads(profile, 'clear the removal password');
  const copy: PlistDict = {
    ...profile,
    PayloadContent: content.filter((p) => !isPasswordPayload(p)),
  };
  delete copy.HasRemovalPasscode;
  return copy;
}

/** Returns a copy of `profile` with `PayloadRemovalDisallowed` set, or removed when `disallowed` is false. */
export function setRemovalDisallowed(profile: PlistDict, disallowed: boolean): PlistDict {
  const copy: PlistDict = { ...profile };
  if (disallowed) copy.PayloadRemovalDisallowed = true;
  else delete copy.PayloadRemovalDisallowed;
  return copy;
}

/**
 * Returns a copy of `profile` that the device removes at `date` (`RemovalDate`), or without one
 * when `date` is undefined. Throws `TypeError` on an invalid date.
 */
export function setRemovalDate(profile: PlistDict, date: Date | undefined): PlistDict {
  const copy: PlistDict = { ...profile };
  if (date === undefined) {
    delete copy.RemovalDate;
    return copy;
  }
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new TypeError('setRemovalDate: date must be a valid Date');
  }
  copy.RemovalDate = new Date(date.getTime());
  return copy;
}

/**
 * Returns a copy of `profile` that the device removes `seconds` after installing it
 * (`DurationUntilRemoval`, written as a `<real>`), or without one when undefined.
 * Throws `TypeError` unless `seconds` is a positive finite number.
 */
export function setDurationUntilRemoval(
  profile: PlistDict,
  seconds: number | undefined,
): PlistDict {
  const copy: PlistDict = { ...profile };
  if (seconds === undefined) {
    delete copy.DurationUntilRemoval;
    return copy;
  }
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new TypeError('setDurationUntilRemoval: seconds must be a positive finite number');
  }
  copy.DurationUntilRemoval = new PlistReal(seconds);
  return copy;
}

function numberOf(value: PlistValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof PlistReal) return value.value;
  return undefined;
}

/** Reads the removal controls of a decoded profile; absent keys read as false or absent. */
export function readRemovalSettings(profile: PlistDict): RemovalSettings {
  const inside = payloads(profile)?.some((p) => p.PayloadType === REMOVAL_PASSWORD_PAYLOAD_TYPE);
  const duration = numberOf(profile.DurationUntilRemoval);
  return {
    removalDisallowed: profile.PayloadRemovalDisallowed === true,
    hasRemovalPassword: profile.HasRemovalPasscode === true || inside === true,
    ...(profile.RemovalDate instanceof Date ? { removalDate: profile.RemovalDate } : {}),
    ...(duration === undefined ? {} : { durationUntilRemoval: duration }),
  };
}

/**
 * When the device removes the profile by itself if installed at `installedAt`: the earlier of
 * `RemovalDate` and `installedAt + DurationUntilRemoval`, as Apple specifies; undefined when neither is set.
 */
export function scheduledRemoval(profile: PlistDict, installedAt: Date): Date | undefined {
  const { removalDate, durationUntilRemoval } = readRemovalSettings(profile);
  const byDuration =
    durationUntilRemoval === undefined
      ? undefined
      : new Date(installedAt.getTime() + durationUntilRemoval * 1000);
  if (removalDate === undefined) return byDuration;
  if (byDuration === undefined) return removalDate;
  return removalDate.getTime() <= byDuration.getTime() ? removalDate : byDuration;
}

/**
 * The removal-relevant facts of a decoded profile, ready for `canRemove` once the caller says how
 * it was installed: whether it is the enrollment profile (a `com.apple.mdm` payload), its locks and scope.
 */
export function removalProfileOf(
  profile: PlistDict,
  installedBy: RemovalProfile['installedBy'],
): RemovalProfile {
  const settings = readRemovalSettings(profile);
  const isEnrollment = payloads(profile)?.some((p) => p.PayloadType === MDM_PAYLOAD_TYPE) === true;
  const scope = profile.PayloadScope;
  return {
    kind: isEnrollment ? 'enrollment' : 'configuration',
    installedBy,
    removalDisallowed: settings.removalDisallowed,
    hasRemovalPassword: settings.hasRemovalPassword,
    ...(scope === 'User' || scope === 'System' ? { scope } : {}),
  };
}

/**
 * Removal controls of an assignment (rule S8), laid over the profile content sent to a device:
 * they override whatever the upload said about removal. `always` sends no lock, `with-
 * authorization` adds a removal password payload, `never` sets `PayloadRemovalDisallowed` where
 * a device honours it (supervised, never under User Enrollment: rule M7).
 */
import { randomInt } from 'node:crypto';
import type { PlistDict, PlistValue } from '../../protocol/plist.js';
import { uuidV5 } from '../../profile/build.js';
import {
  clearRemovalPassword,
  REMOVAL_PASSWORD_PAYLOAD_TYPE,
  setRemovalDisallowed,
  setRemovalPassword,
} from '../../profile/removal-policy.js';
import type { PlatformCompatibility } from '../../profile/validate.js';
import type { PolicyAssignmentRecord } from '../../storage/ports.js';
import type { DeviceTarget } from './types.js';

/** Characters of generated removal passwords: no 0/O, 1/l/I. */
export const REMOVAL_PASSWORD_ALPHABET =
  'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** Length of generated removal passwords. */
export const REMOVAL_PASSWORD_LENGTH = 24;

/** Platforms that know `PayloadRemovalDisallowed` and the removal password payload. */
const LOCKABLE: ReadonlySet<string> = new Set(['iOS', 'macOS', 'tvOS']);

/** A removal password of {@link REMOVAL_PASSWORD_LENGTH} characters from {@link REMOVAL_PASSWORD_ALPHABET} (`node:crypto`). */
export function generateRemovalPassword(): string {
  const chars: string[] = [];
  for (let i = 0; i < REMOVAL_PASSWORD_LENGTH; i++)
    chars.push(REMOVAL_PASSWORD_ALPHABET.charAt(randomInt(REMOVAL_PASSWORD_ALPHABET.length)));
  return chars.join('');
}

/**
 * Whether a `never` control can be honoured anywhere: some platform that knows
 * `PayloadRemovalDisallowed` accepts the profile on a supervised device (mode `supervised` or
 * `ade`). False means assigning `never` is refused (422 `ERR_REMOVAL_CONTROL`).
 */
export function removalControlPossible(compatibility: readonly PlatformCompatibility[]): boolean {
  return compatibility.some(
    (c) =>
      c.available &&
      LOCKABLE.has(c.platform) &&
      c.modes.some((m) => m.ok && (m.mode === 'supervised' || m.mode === 'ade')),
  );
}

/** Supervised as far as removal goes: reported supervised, or enrolled by ADE (always supervised). */
function isSupervised(target: DeviceTarget): boolean {
  return target.supervised === true || target.enrollment === 'ade';
}

function isEncrypted(content: PlistDict): boolean {
  return content.IsEncrypted === true || content.EncryptedPayloadContent !== undefined;
}

/** The profile without any removal lock: no `PayloadRemovalDisallowed`, no removal password. */
function unlocked(content: PlistDict): PlistDict {
  const open = setRemovalDisallowed(content, false);
  if (isEncrypted(open) || !Array.isArray(open.PayloadContent)) {
    const copy: PlistDict = { ...open };
    delete copy.HasRemovalPasscode;
    return copy;
  }
  return clearRemovalPassword(open);
}

function passwordUuid(content: PlistDict): string {
  const base = typeof content.PayloadUUID === 'string' ? content.PayloadUUID : 'profile';
  return uuidV5(`${base}:removal-password`);
}

/** Why a target cannot take a removal password payload, or `undefined` when it can. */
function passwordRefused(target: DeviceTarget): string | undefined {
  if (target.enrollment === 'user') return 'User Enrollment does not allow a removal password';
  if (target.sharedIPad) return 'Shared iPad does not allow a removal password';
  if (target.platform === undefined) return 'the device has not reported its platform yet';
  if (!LOCKABLE.has(target.platform)) return `${target.platform} has no removal password payload`;
  return undefined;
}

function withPassword(
  content: PlistDict,
  password: string | undefined,
  target: DeviceTarget,
): { content: PlistDict; effect: string } {
  if (password === undefined || password === '')
    throw new TypeError(
      'applyRemovalControl: with-authorization needs the assignment removalPassword',
    );
  const open = unlocked(content);
  const refused = passwordRefused(target);
  if (refused !== undefined) return { content: open, effect: `not honoured: ${refused}` };
  if (isEncrypted(open))
    return { content: open, effect: 'not honoured: the profile payloads are encrypted' };
  const sent = setRemovalPassword(open, password, { uuid: passwordUuid(content) });
  const honoured = target.platform === 'macOS' || isSupervised(target);
  return {
    content: sent,
    effect: honoured
      ? 'a removal password payload is added'
      : 'a removal password payload is added (not honoured: the device is not supervised)',
  };
}

function neverRemovable(
  content: PlistDict,
  target: DeviceTarget,
): { content: PlistDict; effect: string } {
  const open = unlocked(content);
  if (target.enrollment === 'user')
    return {
      content: open,
      effect: 'not honoured: PayloadRemovalDisallowed is never sent to a User Enrollment',
    };
  if (target.platform !== undefined && !LOCKABLE.has(target.platform))
    return {
      content: open,
      effect: `not honoured: ${target.platform} has no PayloadRemovalDisallowed`,
    };
  if (!isSupervised(target)) {
    const why =
      target.supervised === undefined
        ? 'the device has not reported supervision yet (judged as not supervised)'
        : 'the device is not supervised';
    return { content: open, effect: `not honoured: ${why}` };
  }
  return { content: setRemovalDisallowed(open, true), effect: 'PayloadRemovalDisallowed is set' };
}

/**
 * `content` as sent under the assignment's removal control on `target`, with what was done in
 * words (the explain trace's removal effect). The removal password payload's `PayloadUUID` is
 * derived from the profile's, so the body is the same every time. `content` is not changed;
 * throws `TypeError` for `with-authorization` without a `removalPassword`.
 */
export function applyRemovalControl(
  content: PlistDict,
  assignment: Pick<PolicyAssignmentRecord, 'removal' | 'removalPassword'>,
  target: DeviceTarget,
): { content: PlistDict; effect: string } {
  switch (assignment.removal) {
    case 'always':
      return {
        content: unlocked(content),
        effect: 'sent without PayloadRemovalDisallowed or a removal password',
      };
    case 'with-authorization':
      return withPassword(content, assignment.removalPassword, target);
    case 'never':
      return neverRemovable(content, target);
  }
}

/** Whether `value` is a removal password payload (for tests and views). */
export function isRemovalPasswordPayload(value: PlistValue): boolean {
  return (
    typeof value === 'object' &&
    !Array.isArray(value) &&
    (value as PlistDict).PayloadType === REMOVAL_PASSWORD_PAYLOAD_TYPE
  );
}

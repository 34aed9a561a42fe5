/**
 * The profiles installed on one simulated device: what ProfileList reports, what InstallProfile
 * adds and RemoveProfile takes away, with removal decided by the library's removal rules.
 */
import type { PlistDict } from '../protocol/plist.js';
import {
  canRemove,
  type ProfileInstaller,
  type RemovalDecision,
  type RemovalDevice,
  type RemovalRequester,
} from '../profile/removal.js';
import type { SimInstalledProfile } from './types.js';

/** One installed profile, as the device keeps it. */
export interface SimProfileRecord extends SimInstalledProfile {
  kind: 'configuration' | 'enrollment';
  installedBy: ProfileInstaller;
  hasRemovalPassword: boolean;
  profile: PlistDict;
}

/** A device's installed profiles keyed by `PayloadIdentifier`. */
export interface SimProfileStore {
  /** Installs (or replaces, by identifier) a decoded, decrypted profile; default installer this MDM. */
  install(
    profile: PlistDict,
    kind: SimProfileRecord['kind'],
    installedBy?: ProfileInstaller,
  ): SimProfileRecord;
  /** The profile with `identifier`, or undefined. */
  find(identifier: string): SimProfileRecord | undefined;
  /** Asks the removal rules on behalf of this MDM and removes when allowed (the enrollment profile takes all); undefined when absent. */
  remove(identifier: string): RemovalDecision | undefined;
  /**
   * The device's user removing a profile by hand in Settings: asks the removal rules as `user`,
   * or as `user-with-password` when `password` matches the profile's removal password, and
   * removes when allowed (or when macOS asks for an administrator and `adminAuthenticated`).
   */
  removeByUser(identifier: string, options?: SimUserRemoval): RemovalDecision | undefined;
  list(): readonly SimProfileRecord[];
}

/** What the user offers when removing a profile by hand. */
export interface SimUserRemoval {
  /** The removal password typed (a `com.apple.profileRemovalPassword` payload's `RemovalPassword`). */
  password?: string;
  /** macOS only: an administrator's name and password were given when asked. */
  adminAuthenticated?: boolean;
}

function stringOf(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** The `RemovalPassword` of a profile's removal password payload, if it has one. */
function removalPasswordOf(profile: PlistDict): string | undefined {
  const payloads = Array.isArray(profile.PayloadContent) ? profile.PayloadContent : [];
  for (const p of payloads as PlistDict[]) {
    if (
      p.PayloadType === 'com.apple.profileRemovalPassword' &&
      typeof p.RemovalPassword === 'string'
    )
      return p.RemovalPassword;
  }
  return undefined;
}

/** Creates an empty store for a device described by `device` (platform, supervision, enrollment). */
export function createProfileStore(device: () => RemovalDevice): SimProfileStore {
  const byId = new Map<string, SimProfileRecord>();
  /** Asks the rules as `requester`; removes when allowed (the enrollment profile takes all). */
  const removeAs = (
    identifier: string,
    requester: RemovalRequester,
    adminAuthenticated: boolean,
  ): RemovalDecision | undefined => {
    const record = byId.get(identifier);
    if (record === undefined) return undefined;
    const decision = canRemove({
      profile: {
        kind: record.kind,
        installedBy: record.installedBy,
        removalDisallowed: record.removalDisallowed,
        hasRemovalPassword: record.hasRemovalPassword,
      },
      device: device(),
      requester,
    });
    const allowed =
      decision.outcome === 'allowed' ||
      (adminAuthenticated && decision.outcome === 'needs-admin-authentication');
    if (!allowed) return decision;
    if (record.kind === 'enrollment') byId.clear();
    else byId.delete(identifier);
    return decision;
  };
  return {
    install(profile, kind, installedBy = 'this-mdm') {
      const payloads = Array.isArray(profile.PayloadContent)
        ? (profile.PayloadContent as PlistDict[])
        : [];
      const record: SimProfileRecord = {
        identifier: stringOf(profile.PayloadIdentifier, 'unknown'),
        uuid: stringOf(profile.PayloadUUID, ''),
        removalDisallowed: profile.PayloadRemovalDisallowed === true,
        hasRemovalPassword: payloads.some(
          (p) => p.PayloadType === 'com.apple.profileRemovalPassword',
        ),
        kind,
        installedBy,
        profile,
      };
      byId.set(record.identifier, record);
      return record;
    },
    find: (identifier) => byId.get(identifier),
    remove(identifier) {
      return removeAs(identifier, 'this-mdm', false);
    },
    removeByUser(identifier, options = {}) {
      const record = byId.get(identifier);
      const typed = options.password;
      const known = record === undefined ? undefined : removalPasswordOf(record.profile);
      const withPassword = typed !== undefined && known !== undefined && typed === known;
      return removeAs(
        identifier,
        withPassword ? 'user-with-password' : 'user',
        options.adminAuthenticated === true,
      );
    },
    list: () => [...byId.values()],
  };
}

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
  list(): readonly SimProfileRecord[];
}

function stringOf(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** Creates an empty store for a device described by `device` (platform, supervision, enrollment). */
export function createProfileStore(device: () => RemovalDevice): SimProfileStore {
  const byId = new Map<string, SimProfileRecord>();
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
        requester: 'this-mdm',
      });
      if (decision.outcome !== 'allowed') return decision;
      if (record.kind === 'enrollment') byId.clear();
      else byId.delete(identifier);
      return decision;
    },
    list: () => [...byId.values()],
  };
}

/**
 * The profile library: `.mobileconfig` files owned by organization groups (A12), validated
 * against Apple's schema and kept with versions (M6: each version a new PayloadUUID under the
 * same PayloadIdentifier). What it sends is signed with the library's identity and, where the
 * device's identity is known, encrypted to it. Interactive profiles obey `profile-options` (A13).
 */
import { randomUUID } from 'node:crypto';
import type { CertificateInput } from '../crypto/keys.js';
import type { ValidationIssue } from '../errors.js';
import { decodeProfile } from '../profile/sign.js';
import type { PlatformCompatibility } from '../profile/validate.js';
import type { PlistDict } from '../protocol/plist.js';
import type {
  AssignmentType,
  LibraryProfileRecord,
  OrgGroupStore,
  Page,
  PolicyStore,
  ProfileLibraryStore,
  ProfileVersionRecord,
} from '../storage/ports.js';
import { describeProfile, type ProfileDescription } from './profile-describe.js';
import {
  addProfileVersion,
  deleteProfile,
  existingProfile,
  interactiveEnabled,
  readProfileVersion,
  updateProfile,
  uploadProfile,
  type LibraryContext,
} from './profile-operations.js';
import { renderProfile, type ProfileSigner } from './profile-render.js';
import { readUpload, type UploadSigner } from './profile-upload.js';

export type { ProfileSigner } from './profile-render.js';

/** Where the library reads effective settings: the groups service's `effectiveSettings`. */
export interface ProfileOptionsSource {
  effectiveSettings(groupId: string, page: string): Promise<{ values: Record<string, unknown> }>;
}

/** What {@link createProfileLibrary} needs. */
export interface ProfileLibraryDeps {
  /** The library and group stores; with `listProfileAssignments`, an assigned profile is not deleted. */
  store: ProfileLibraryStore &
    Pick<OrgGroupStore, 'findGroup'> &
    Partial<Pick<PolicyStore, 'listProfileAssignments'>>;
  groups: ProfileOptionsSource;
  /** The identity that signs every profile sent: the daemon's profile-signing one or the operator's. */
  signing: ProfileSigner;
  /** Roots an uploaded signature may chain to, to be reported trusted; default the signing chain. */
  knownRoots?: readonly CertificateInput[];
  clock?: () => Date;
  /** A fresh UUID (upper-case is applied for PayloadUUIDs); default `crypto.randomUUID`. */
  randomUuid?: () => string;
}

/** Input of {@link ProfileLibrary.upload}. */
export interface UploadInput {
  groupId: string;
  /** The `.mobileconfig`: XML or binary plist, or CMS-signed. */
  content: Uint8Array;
  /** Default `auto`. */
  assignmentType?: AssignmentType;
  /** Default `PayloadDisplayName`, else the identifier. */
  name?: string;
  /** Who uploads (an administrator id). */
  actor: string;
}

/** What an upload or a new version answers. */
export interface VersionResult {
  profile: LibraryProfileRecord;
  version: ProfileVersionRecord;
  /** Schema warnings, plus what the server changed (e.g. a fresh PayloadUUID). */
  warnings: ValidationIssue[];
  compatibility: readonly PlatformCompatibility[];
  /** Present when the upload was signed. */
  signer?: UploadSigner;
}

/** One stored version with its decoded profile. */
export interface ProfileVersionContent {
  profile: LibraryProfileRecord;
  version: ProfileVersionRecord;
  content: PlistDict;
}

/** Changes {@link ProfileLibrary.update} accepts. */
export interface ProfileChange {
  name?: string;
  assignmentType?: AssignmentType;
  /** New owner group (the caller checks scope at both groups). */
  groupId?: string;
}

/** The profile library (see the module comment). */
export interface ProfileLibrary {
  /**
   * Validates and stores a new profile with its version 1. Throws ManagementError
   * `ERR_PROFILE_INVALID` (422, with `issues`), `ERR_GROUP_NOT_FOUND`, `ERR_INTERACTIVE_DISABLED`
   * (422, A13) or `ERR_PROFILE_IDENTIFIER_TAKEN` (409).
   */
  upload(input: UploadInput): Promise<VersionResult>;
  /**
   * Stores a new version: same PayloadIdentifier (else 422 `ERR_PROFILE_IDENTIFIER_MISMATCH`); a
   * PayloadUUID already used by an earlier version is replaced by a fresh one (said in
   * `warnings`). Throws `ERR_PROFILE_NOT_FOUND`, `ERR_PROFILE_INVALID`, `ERR_MANAGEMENT_BUSY`.
   */
  addVersion(profileId: string, content: Uint8Array, actor: string): Promise<VersionResult>;
  /**
   * Renames, changes the assignment type or the owner. Throws `ERR_PROFILE_NOT_FOUND`,
   * `ERR_GROUP_NOT_FOUND`, `ERR_INTERACTIVE_DISABLED` when the result would newly be an
   * Interactive profile at a group where the type is disabled (A13).
   */
  update(profileId: string, change: ProfileChange): Promise<LibraryProfileRecord>;
  /** The profile, or `undefined`. */
  get(profileId: string): Promise<LibraryProfileRecord | undefined>;
  /** A page of profiles in id order, those owned by `groupIds` when given. */
  list(options: {
    limit: number;
    cursor?: string;
    groupIds?: readonly string[];
  }): Promise<Page<LibraryProfileRecord>>;
  /** Every version without content, newest first; `ERR_PROFILE_NOT_FOUND` when unknown. */
  versions(profileId: string): Promise<ProfileVersionRecord[]>;
  /** One version (default the latest) decoded; `ERR_PROFILE_NOT_FOUND` when either is unknown. */
  read(profileId: string, version?: number): Promise<ProfileVersionContent>;
  /** Deletes the profile and its versions; `ERR_PROFILE_NOT_FOUND` when unknown. */
  delete(profileId: string): Promise<void>;
  /** Compatibility summary and removal rules of a stored version (or a decoded profile). */
  describe(version: ProfileVersionRecord | PlistDict): ProfileDescription;
  /**
   * The version (default latest) as an InstallProfile payload: signed DER, its payloads encrypted
   * to `encryptTo` (a device identity certificate) when given. Throws `ERR_PROFILE_NOT_FOUND`,
   * and `CryptoError` for a recipient it cannot encrypt to.
   */
  renderForDevice(
    profileId: string,
    version?: number,
    options?: { encryptTo?: CertificateInput },
  ): Promise<Buffer>;
  /** Whether Interactive profiles may be created at `groupId` (effective `profile-options`). */
  interactiveEnabled(groupId: string): Promise<boolean>;
}

/** Whether `value` is a stored version record rather than a decoded profile. */
function isVersionRecord(value: ProfileVersionRecord | PlistDict): value is ProfileVersionRecord {
  return typeof value.profileId === 'string' && value.content instanceof Uint8Array;
}

/** Creates the profile library over its store, the groups service and a signing identity. */
export function createProfileLibrary(deps: ProfileLibraryDeps): ProfileLibrary {
  const clock = deps.clock ?? (() => new Date());
  const knownRoots = deps.knownRoots ?? [deps.signing.certificate, ...(deps.signing.chain ?? [])];
  const ctx: LibraryContext = {
    ...{ deps, store: deps.store, clock, uuid: deps.randomUuid ?? randomUUID },
    read: (content) => readUpload(content, { knownRoots, at: clock() }),
  };
  return {
    upload: (input) => uploadProfile(ctx, input),
    addVersion: (id, content, actor) => addProfileVersion(ctx, id, content, actor),
    update: (id, change) => updateProfile(ctx, id, change),
    get: (id) => deps.store.findLibraryProfile(id),
    list: (options) => deps.store.listLibraryProfiles(options),
    async versions(id) {
      await existingProfile(ctx, id);
      return deps.store.listProfileVersions(id);
    },
    read: (id, version) => readProfileVersion(ctx, id, version),
    delete: (id) => deleteProfile(ctx, id),
    describe: (version) =>
      describeProfile(isVersionRecord(version) ? decodeProfile(version.content) : version),
    async renderForDevice(id, version, options = {}) {
      const found = await readProfileVersion(ctx, id, version);
      return renderProfile(found.version.content, deps.signing, {
        ...(options.encryptTo === undefined ? {} : { encryptTo: options.encryptTo }),
        signingTime: clock(),
      });
    },
    interactiveEnabled: (groupId) => interactiveEnabled(ctx, groupId),
  };
}

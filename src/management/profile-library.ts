/**
 * The profile library: `.mobileconfig` files owned by organization groups (A12), validated
 * against Apple's schema and kept with versions (M6: each version a new PayloadUUID under the
 * same PayloadIdentifier). What it sends is signed with the library's identity and, where the
 * device's identity is known, encrypted to it. Interactive profiles obey `profile-options` (A13).
 */
import { randomUUID } from 'node:crypto';
import type { CertificateInput } from '../crypto/keys.js';
import { ManagementError, StorageError, type ValidationIssue } from '../errors.js';
import type { PlatformCompatibility } from '../profile/validate.js';
import type { PlistDict } from '../protocol/plist.js';
import type {
  AssignmentType,
  LibraryProfileRecord,
  OrgGroupStore,
  Page,
  ProfileLibraryStore,
  ProfileVersionRecord,
} from '../storage/ports.js';
import { describeProfile, type ProfileDescription } from './profile-describe.js';
import { renderProfile, type ProfileSigner } from './profile-render.js';
import { readUpload, type ReadUpload, type UploadSigner } from './profile-upload.js';
import { decodeProfile } from '../profile/sign.js';
import { addVersionWithRetry, versionRecord } from './profile-versions.js';

export type { ProfileSigner } from './profile-render.js';

/** Settings page holding `interactiveEnabled` (A13). */
export const PROFILE_OPTIONS_PAGE = 'profile-options';

/** Where the library reads effective settings: the groups service's `effectiveSettings`. */
export interface ProfileOptionsSource {
  effectiveSettings(groupId: string, page: string): Promise<{ values: Record<string, unknown> }>;
}

/** What {@link createProfileLibrary} needs. */
export interface ProfileLibraryDeps {
  store: ProfileLibraryStore & Pick<OrgGroupStore, 'findGroup'>;
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

const notFound = (id: string): ManagementError =>
  new ManagementError('ERR_PROFILE_NOT_FOUND', `no profile ${id}`);

/** Creates the profile library over its store, the groups service and a signing identity. */
export function createProfileLibrary(deps: ProfileLibraryDeps): ProfileLibrary {
  const clock = deps.clock ?? (() => new Date());
  const uuid = deps.randomUuid ?? randomUUID;
  const { store } = deps;
  const knownRoots = deps.knownRoots ?? [deps.signing.certificate, ...(deps.signing.chain ?? [])];
  const read = (content: Uint8Array): ReadUpload =>
    readUpload(content, { knownRoots, at: clock() });

  async function existing(id: string): Promise<LibraryProfileRecord> {
    const found = await store.findLibraryProfile(id);
    if (found === undefined) throw notFound(id);
    return found;
  }
  async function existingGroup(groupId: string): Promise<void> {
    if ((await store.findGroup(groupId)) === undefined)
      throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
        group: groupId,
      });
  }
  async function interactiveEnabled(groupId: string): Promise<boolean> {
    const effective = await deps.groups.effectiveSettings(groupId, PROFILE_OPTIONS_PAGE);
    return effective.values.interactiveEnabled === true;
  }
  async function requireInteractive(groupId: string): Promise<void> {
    if (await interactiveEnabled(groupId)) return;
    throw new ManagementError(
      'ERR_INTERACTIVE_DISABLED',
      `the Interactive assignment type is disabled at organization group ${groupId} (profile-options.interactiveEnabled)`,
      { group: groupId, field: 'assignmentType' },
    );
  }
  const taken = (identifier: string): ManagementError =>
    new ManagementError(
      'ERR_PROFILE_IDENTIFIER_TAKEN',
      `a profile with PayloadIdentifier ${identifier} is already in the library`,
      { field: 'PayloadIdentifier' },
    );

  async function create(record: LibraryProfileRecord, first: ProfileVersionRecord): Promise<void> {
    let created: unknown;
    try {
      created = await store.createLibraryProfile(record, first);
    } catch (error) {
      // A racing upload of the same identifier: the store refuses; say so as the pre-check would.
      if (
        error instanceof StorageError &&
        (await store.findLibraryProfileByIdentifier(record.identifier))
      )
        throw taken(record.identifier);
      throw error;
    }
    if (created === false) throw taken(record.identifier);
  }

  async function byteVersion(id: string, n?: number): Promise<ProfileVersionContent> {
    const profile = await existing(id);
    const version = await store.findProfileVersion(id, n ?? profile.latestVersion);
    if (version === undefined)
      throw new ManagementError(
        'ERR_PROFILE_NOT_FOUND',
        `no version ${String(n)} of profile ${id}`,
      );
    return { profile, version, content: decodeProfile(version.content) };
  }

  return {
    async upload(input) {
      const parsed = read(input.content);
      await existingGroup(input.groupId);
      const assignmentType = input.assignmentType ?? 'auto';
      if (assignmentType === 'interactive') await requireInteractive(input.groupId);
      if (await store.findLibraryProfileByIdentifier(parsed.identifier))
        throw taken(parsed.identifier);
      const at = clock();
      const id = `prf_${uuid().replace(/-/g, '')}`;
      const display = parsed.profile.PayloadDisplayName;
      const record: LibraryProfileRecord = {
        ...{ id, groupId: input.groupId, identifier: parsed.identifier },
        name:
          input.name ??
          (typeof display === 'string' && display !== '' ? display : parsed.identifier),
        ...{ assignmentType, latestVersion: 1, createdAt: at, updatedAt: at },
      };
      const first = versionRecord(id, 1, parsed.profile, {
        actor: input.actor,
        at,
        ...signerOf(parsed),
      });
      await create(record, first);
      return {
        profile: record,
        version: first,
        warnings: parsed.warnings,
        compatibility: parsed.compatibility,
        ...signerOf(parsed),
      };
    },
    async addVersion(profileId, content, actor) {
      const parsed = read(content);
      const current = await existing(profileId);
      if (parsed.identifier !== current.identifier)
        throw new ManagementError(
          'ERR_PROFILE_IDENTIFIER_MISMATCH',
          `a new version must keep PayloadIdentifier ${current.identifier} (got ${parsed.identifier})`,
          { field: 'PayloadIdentifier' },
        );
      return addVersionWithRetry({ store, clock, uuid, current, parsed, actor });
    },
    async update(profileId, change) {
      const current = await existing(profileId);
      const groupId = change.groupId ?? current.groupId;
      if (change.groupId !== undefined) await existingGroup(change.groupId);
      const type = change.assignmentType ?? current.assignmentType;
      const newlyInteractive =
        type === 'interactive' &&
        (current.assignmentType !== 'interactive' || groupId !== current.groupId);
      if (newlyInteractive) await requireInteractive(groupId);
      const updated = await store.updateLibraryProfile(profileId, change, clock());
      if (updated === undefined) throw notFound(profileId);
      return updated;
    },
    get: (id) => store.findLibraryProfile(id),
    list: (options) => store.listLibraryProfiles(options),
    async versions(profileId) {
      await existing(profileId);
      return store.listProfileVersions(profileId);
    },
    read: byteVersion,
    async delete(profileId) {
      if (!(await store.deleteLibraryProfile(profileId))) throw notFound(profileId);
    },
    describe(version) {
      const isRecord =
        'content' in version && version.content instanceof Uint8Array && 'profileId' in version;
      return describeProfile(
        isRecord ? decodeProfile(version.content as Uint8Array) : (version as PlistDict),
      );
    },
    async renderForDevice(profileId, version, options = {}) {
      const found = await byteVersion(profileId, version);
      return renderProfile(found.version.content, deps.signing, {
        ...(options.encryptTo === undefined ? {} : { encryptTo: options.encryptTo }),
        signingTime: clock(),
      });
    },
    interactiveEnabled,
  };
}

function signerOf(parsed: ReadUpload): { signer?: UploadSigner } {
  return parsed.signer === undefined ? {} : { signer: parsed.signer };
}

/**
 * Adding a version to a library profile (M6): the next number under optimistic locking, and a
 * fresh PayloadUUID when the upload reuses one an earlier version had, so devices that hold the
 * profile reinstall it instead of treating it as the same one.
 */
import { createHash } from 'node:crypto';
import type { PlistDict } from '../protocol/plist.js';
import { ManagementError, type ValidationIssue } from '../errors.js';
import type {
  LibraryProfileRecord,
  ProfileLibraryStore,
  ProfileVersionRecord,
} from '../storage/ports.js';
import type { VersionResult } from './profile-library.js';
import { storedBytes, type ReadUpload, type UploadSigner } from './profile-upload.js';

/** A version record of `profile` for `profileId`. */
export function versionRecord(
  profileId: string,
  version: number,
  profile: PlistDict,
  extra: { actor: string; at: Date; signer?: UploadSigner },
): ProfileVersionRecord {
  const content = storedBytes(profile);
  return {
    profileId,
    version,
    payloadUuid: profile.PayloadUUID as string,
    sha256: createHash('sha256').update(content).digest('hex'),
    content,
    ...(extra.signer === undefined ? {} : { uploadedSigner: extra.signer.subject }),
    createdBy: extra.actor,
    createdAt: extra.at,
  };
}

/** How often a version is retried when another writer added one first. */
const ATTEMPTS = 4;

/** What {@link addVersionWithRetry} works with. */
export interface AddVersionContext {
  store: ProfileLibraryStore;
  clock: () => Date;
  uuid: () => string;
  /** The profile as last read. */
  current: LibraryProfileRecord;
  /** The validated upload; its identifier already matches. */
  parsed: ReadUpload;
  actor: string;
}

/** The upload's profile with a PayloadUUID no earlier version used, and what changed. */
function freshUuid(
  parsed: ReadUpload,
  earlier: readonly ProfileVersionRecord[],
  uuid: () => string,
): { profile: ReadUpload['profile']; warnings: ValidationIssue[] } {
  const used = new Set(earlier.map((v) => v.payloadUuid.toUpperCase()));
  if (!used.has(parsed.payloadUuid.toUpperCase())) return { profile: parsed.profile, warnings: [] };
  let next = uuid().toUpperCase();
  while (used.has(next)) next = uuid().toUpperCase();
  return {
    profile: { ...parsed.profile, PayloadUUID: next },
    warnings: [
      {
        path: 'PayloadUUID',
        code: 'payload-uuid-replaced',
        message: `PayloadUUID ${parsed.payloadUuid} was used by an earlier version; the server assigned ${next} so devices reinstall the profile`,
        severity: 'warning',
      },
    ],
  };
}

/**
 * Stores the upload as the profile's next version, re-reading and retrying when another writer
 * added a version first. Throws ManagementError `ERR_PROFILE_NOT_FOUND` when the profile
 * vanished and `ERR_MANAGEMENT_BUSY` (503) after repeated conflicts.
 */
export async function addVersionWithRetry(ctx: AddVersionContext): Promise<VersionResult> {
  let current = ctx.current;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const earlier = await ctx.store.listProfileVersions(current.id);
    const { profile, warnings } = freshUuid(ctx.parsed, earlier, ctx.uuid);
    const number = current.latestVersion + 1;
    const record = versionRecord(current.id, number, profile, {
      actor: ctx.actor,
      at: ctx.clock(),
      ...(ctx.parsed.signer === undefined ? {} : { signer: ctx.parsed.signer }),
    });
    const updated = await ctx.store.addProfileVersion(record);
    if (updated !== undefined)
      return {
        profile: updated,
        version: record,
        warnings: [...ctx.parsed.warnings, ...warnings],
        compatibility: ctx.parsed.compatibility,
        ...(ctx.parsed.signer === undefined ? {} : { signer: ctx.parsed.signer }),
      };
    const again = await ctx.store.findLibraryProfile(current.id);
    if (again === undefined)
      throw new ManagementError('ERR_PROFILE_NOT_FOUND', `no profile ${current.id}`);
    current = again;
  }
  throw new ManagementError(
    'ERR_MANAGEMENT_BUSY',
    'other versions of this profile were added at the same time; try again',
  );
}

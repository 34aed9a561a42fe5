/**
 * The profile library's operations, one function each, over a context the factory builds once:
 * the rules of ownership (the owner group must exist), of A13 (Interactive only where the
 * owner's effective `profile-options` allow it) and of unique identifiers.
 */
import { ManagementError, StorageError } from '../errors.js';
import { decodeProfile } from '../profile/sign.js';
import type { LibraryProfileRecord, ProfileVersionRecord } from '../storage/ports.js';
import type {
  ProfileChange,
  ProfileLibraryDeps,
  ProfileVersionContent,
  UploadInput,
  VersionResult,
} from './profile-library.js';
import { PROFILE_OPTIONS_PAGE } from './pages.js';
import type { ReadUpload } from './profile-upload.js';
import { addVersionWithRetry, versionRecord } from './profile-versions.js';

/** What every operation works with. */
export interface LibraryContext {
  deps: ProfileLibraryDeps;
  store: ProfileLibraryDeps['store'];
  clock: () => Date;
  uuid: () => string;
  /** Reads and validates an upload (see `readUpload`). */
  read(content: Uint8Array): ReadUpload;
}

const notFound = (id: string): ManagementError =>
  new ManagementError('ERR_PROFILE_NOT_FOUND', `no profile ${id}`);

const taken = (identifier: string): ManagementError =>
  new ManagementError(
    'ERR_PROFILE_IDENTIFIER_TAKEN',
    `a profile with PayloadIdentifier ${identifier} is already in the library`,
    { field: 'PayloadIdentifier' },
  );

/** The profile `id`; `ERR_PROFILE_NOT_FOUND` when unknown. */
export async function existingProfile(
  ctx: LibraryContext,
  id: string,
): Promise<LibraryProfileRecord> {
  const found = await ctx.store.findLibraryProfile(id);
  if (found === undefined) throw notFound(id);
  return found;
}

async function existingGroup(ctx: LibraryContext, groupId: string): Promise<void> {
  if ((await ctx.store.findGroup(groupId)) === undefined)
    throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
      group: groupId,
    });
}

/** Whether the effective `profile-options` at `groupId` allow Interactive profiles (A13). */
export async function interactiveEnabled(ctx: LibraryContext, groupId: string): Promise<boolean> {
  const effective = await ctx.deps.groups.effectiveSettings(groupId, PROFILE_OPTIONS_PAGE.id);
  return effective.values.interactiveEnabled === true;
}

async function requireInteractive(ctx: LibraryContext, groupId: string): Promise<void> {
  if (await interactiveEnabled(ctx, groupId)) return;
  throw new ManagementError(
    'ERR_INTERACTIVE_DISABLED',
    `the Interactive assignment type is disabled at organization group ${groupId} (profile-options.interactiveEnabled)`,
    { group: groupId, field: 'assignmentType' },
  );
}

async function create(
  ctx: LibraryContext,
  record: LibraryProfileRecord,
  first: ProfileVersionRecord,
): Promise<void> {
  let created: unknown;
  try {
    created = await ctx.store.createLibraryProfile(record, first);
  } catch (error) {
    // A store that refuses a taken identifier by throwing: say so as the pre-check would.
    const found = error instanceof StorageError;
    if (found && (await ctx.store.findLibraryProfileByIdentifier(record.identifier)))
      throw taken(record.identifier);
    throw error;
  }
  // A racing upload of the same identifier got there first.
  if (created === false) throw taken(record.identifier);
}

const signerOf = (parsed: ReadUpload) =>
  parsed.signer === undefined ? {} : { signer: parsed.signer };

/** See `ProfileLibrary.upload`. */
export async function uploadProfile(
  ctx: LibraryContext,
  input: UploadInput,
): Promise<VersionResult> {
  const parsed = ctx.read(input.content);
  await existingGroup(ctx, input.groupId);
  const assignmentType = input.assignmentType ?? 'auto';
  if (assignmentType === 'interactive') await requireInteractive(ctx, input.groupId);
  if (await ctx.store.findLibraryProfileByIdentifier(parsed.identifier))
    throw taken(parsed.identifier);
  const at = ctx.clock();
  const id = `prf_${ctx.uuid().replace(/-/g, '')}`;
  const display = parsed.profile.PayloadDisplayName;
  const name = typeof display === 'string' && display !== '' ? display : parsed.identifier;
  const record: LibraryProfileRecord = {
    ...{ id, groupId: input.groupId, identifier: parsed.identifier, name: input.name ?? name },
    ...{ assignmentType, latestVersion: 1, createdAt: at, updatedAt: at },
  };
  const extra = { actor: input.actor, at, ...signerOf(parsed) };
  const first = versionRecord(id, 1, parsed.profile, extra);
  await create(ctx, record, first);
  const { warnings, compatibility } = parsed;
  return { profile: record, version: first, warnings, compatibility, ...signerOf(parsed) };
}

/** See `ProfileLibrary.addVersion`. */
export async function addProfileVersion(
  ctx: LibraryContext,
  profileId: string,
  content: Uint8Array,
  actor: string,
): Promise<VersionResult> {
  const parsed = ctx.read(content);
  const current = await existingProfile(ctx, profileId);
  if (parsed.identifier !== current.identifier)
    throw new ManagementError(
      'ERR_PROFILE_IDENTIFIER_MISMATCH',
      `a new version must keep PayloadIdentifier ${current.identifier} (got ${parsed.identifier})`,
      { field: 'PayloadIdentifier' },
    );
  const { store, clock, uuid } = ctx;
  return addVersionWithRetry({ store, clock, uuid, current, parsed, actor });
}

/**
 * See `ProfileLibrary.update`. Only a change that makes the profile newly Interactive at its
 * (new) owner is judged by A13: an existing Interactive profile stays as it is.
 */
export async function updateProfile(
  ctx: LibraryContext,
  profileId: string,
  change: ProfileChange,
): Promise<LibraryProfileRecord> {
  const current = await existingProfile(ctx, profileId);
  const groupId = change.groupId ?? current.groupId;
  if (change.groupId !== undefined) await existingGroup(ctx, change.groupId);
  const type = change.assignmentType ?? current.assignmentType;
  const moved = groupId !== current.groupId;
  if (type === 'interactive' && (current.assignmentType !== 'interactive' || moved))
    await requireInteractive(ctx, groupId);
  const updated = await ctx.store.updateLibraryProfile(profileId, change, ctx.clock());
  if (updated === undefined) throw notFound(profileId);
  return updated;
}

/** See `ProfileLibrary.read`. */
export async function readProfileVersion(
  ctx: LibraryContext,
  id: string,
  n?: number,
): Promise<ProfileVersionContent> {
  const profile = await existingProfile(ctx, id);
  const version = await ctx.store.findProfileVersion(id, n ?? profile.latestVersion);
  if (version === undefined)
    throw new ManagementError('ERR_PROFILE_NOT_FOUND', `profile ${id} has no version ${String(n)}`);
  return { profile, version, content: decodeProfile(version.content) };
}

/** See `ProfileLibrary.delete`. */
export async function deleteProfile(ctx: LibraryContext, id: string): Promise<void> {
  // A profile a policy assigns is unassigned first, so its devices are planned (and previewed).
  const assigned = (await ctx.store.listProfileAssignments?.(id)) ?? [];
  if (assigned.length > 0)
    throw new ManagementError(
      'ERR_PROFILE_ASSIGNED',
      `profile ${id} is assigned in ${String(assigned.length)} policy(ies) (${assigned
        .map((a) => a.policyId)
        .join(', ')}): remove it from them first`,
    );
  if (!(await ctx.store.deleteLibraryProfile(id))) throw notFound(id);
}

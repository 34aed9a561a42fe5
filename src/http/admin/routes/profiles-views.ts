/**
 * What the profile routes share: the JSON views of library profiles, versions and their
 * description, the base64 `.mobileconfig` field, and the A12 visibility check every profile
 * route starts with (a profile out of the caller's sight is 404, as if it did not exist).
 */
import { z } from '@hono/zod-openapi';
import type { Caller } from '../../../admin/principals.js';
import { ManagementError } from '../../../errors.js';
import type { ProfileDescription } from '../../../management/profile-describe.js';
import type { GroupTree } from '../../../management/tree.js';
import type { LibraryProfileRecord, ProfileVersionRecord } from '../../../storage/ports.js';
import type { AdminApiDeps } from '../route.js';
import { Instant } from '../schemas.js';
import { badField } from '../validate.js';
import { iso } from '../views.js';
import { findVisibleOwned } from './owned-list.js';

/** Largest body of the upload routes: a 3 MiB profile in base64 plus the other fields. */
export const PROFILE_BODY_LIMIT = 4 * 1024 * 1024 + 64 * 1024;

/** The `.mobileconfig` field: base64 (whitespace allowed) of an XML, binary or signed profile. */
export const Mobileconfig = z
  .string({ error: 'mobileconfig must be a base64 string' })
  .min(1, { error: 'mobileconfig must be a base64 string' })
  .openapi({
    description:
      'the .mobileconfig, base64: an XML or binary plist, or CMS-signed (the signature must verify; it is removed before storing)',
    format: 'byte',
  });

/** The bytes of a base64 `mobileconfig` field; 400 `ERR_BAD_REQUEST` naming it when not base64. */
export function mobileconfigBytes(value: string): Buffer {
  const text = value.replace(/\s+/g, '');
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw badField('mobileconfig', 'mobileconfig must be a base64 string');
  return Buffer.from(text, 'base64');
}

/** An assignment type field. */
export const AssignmentTypeField = z
  .enum(['auto', 'optional', 'interactive'], {
    error: 'assignmentType must be auto, optional or interactive',
  })
  .openapi({
    description:
      'how the profile reaches devices (M5); interactive only where profile-options.interactiveEnabled is effectively true (A13)',
  });

/** A library profile as the API shows it. */
export const LibraryProfileView = z
  .object({
    id: z.string(),
    groupId: z.string().openapi({ description: 'the owning organization group (A12)' }),
    identifier: z.string().openapi({ description: 'PayloadIdentifier' }),
    name: z.string(),
    assignmentType: AssignmentTypeField,
    latestVersion: z.number().int(),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .openapi('LibraryProfile');

/** One version of a library profile, without content. */
export const ProfileVersionView = z
  .object({
    version: z.number().int(),
    payloadUuid: z.string().openapi({ description: 'top-level PayloadUUID of this version' }),
    sha256: z.string(),
    uploadedSigner: z.string().nullable().openapi({ description: 'subject of the upload signer' }),
    createdBy: z.string(),
    createdAt: Instant,
  })
  .openapi('ProfileVersion');

/** Compatibility summary and removal rules of a version. */
export const ProfileDescriptionView = z
  .object({
    compatibility: z.record(z.string(), z.unknown()).openapi({
      description:
        'platforms, minimumOs, removedIn, requiresSupervision, enrollmentTypes, manualInstall, deprecations, details',
    }),
    removal: z.record(z.string(), z.unknown()).openapi({
      description:
        'removalDisallowed, hasRemovalPassword, removalDate, durationUntilRemoval, and canRemove answers for typical cases',
    }),
  })
  .openapi('ProfileDescription');

/** The API view of a library profile. */
export function libraryProfileView(p: LibraryProfileRecord): z.infer<typeof LibraryProfileView> {
  return {
    ...{ id: p.id, groupId: p.groupId, identifier: p.identifier, name: p.name },
    ...{ assignmentType: p.assignmentType, latestVersion: p.latestVersion },
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

/** The API view of a version (content left out). */
export function profileVersionView(v: ProfileVersionRecord): z.infer<typeof ProfileVersionView> {
  return {
    ...{ version: v.version, payloadUuid: v.payloadUuid, sha256: v.sha256 },
    uploadedSigner: v.uploadedSigner ?? null,
    createdBy: v.createdBy,
    createdAt: iso(v.createdAt),
  };
}

/** The API view of a description: dates as ISO 8601, the rest as plain JSON. */
export function descriptionView(d: ProfileDescription): z.infer<typeof ProfileDescriptionView> {
  const { removalDate, ...removal } = d.removal;
  return {
    compatibility: { ...d.compatibility },
    removal: { ...removal, removalDate: iso(removalDate) },
  };
}

/**
 * The profile `id` when the caller may `access` it (A12): 404 `ERR_PROFILE_NOT_FOUND` when it
 * is unknown or out of sight, 403 `ERR_ADMIN_SCOPE` when visible but not editable.
 */
export async function visibleProfile(
  deps: Pick<AdminApiDeps, 'profiles' | 'groups'>,
  caller: Caller,
  id: string,
  access: 'read' | 'write',
): Promise<{ profile: LibraryProfileRecord; tree: GroupTree }> {
  const { record, tree } = await findVisibleOwned(
    deps,
    caller,
    access,
    () => deps.profiles.get(id),
    () => new ManagementError('ERR_PROFILE_NOT_FOUND', `no profile ${id}`),
  );
  return { profile: record, tree };
}

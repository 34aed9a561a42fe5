/**
 * Admin routes over the versions of a library profile (list, add, read one as readable JSON)
 * and its installation on devices: InstallProfile with the profile signed by the library's
 * identity, encrypted per device when asked (each device its own ciphertext, so one command each).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { isGlobalCaller } from '../../../admin/principals.js';
import { AdminError, ManagementError } from '../../../errors.js';
import type { VersionResult } from '../../../management/profile-library.js';
import type { LibraryProfileRecord } from '../../../storage/ports.js';
import { normaliseSerial } from '../../../identity/ca/store.js';
import { toReadableJson } from '../../../profile/inspect.js';
import { callerOf, audit, defineRoute, json, jsonResponse, type AdminApiDeps } from '../route.js';
import { IdParams, idSchema } from '../schemas.js';
import { enqueueAudited, existingEnrollment } from './enrollments.js';
import {
  descriptionView,
  LibraryProfileView,
  libraryProfileView,
  Mobileconfig,
  mobileconfigBytes,
  PROFILE_BODY_LIMIT,
  ProfileDescriptionView,
  ProfileVersionView,
  profileVersionView,
  visibleProfile,
} from './profiles-views.js';

const Issue = z.record(z.string(), z.unknown());

/** What an upload or a new version answers. */
export const UploadedView = z
  .object({
    profile: LibraryProfileView,
    version: ProfileVersionView,
    warnings: z
      .array(Issue)
      .openapi({ description: 'schema warnings and what the server changed' }),
    signer: z
      .object({ subject: z.string(), trusted: z.boolean() })
      .nullable()
      .openapi({ description: 'the upload signer; trusted when it chains to a known root' }),
    ...ProfileDescriptionView.shape,
  })
  .openapi('ProfileUploaded');

/** The API view of an upload's result, with the version's description. */
export function uploadedView(
  deps: Pick<AdminApiDeps, 'profiles'>,
  r: VersionResult,
): z.infer<typeof UploadedView> {
  return {
    profile: libraryProfileView(r.profile),
    version: profileVersionView(r.version),
    warnings: r.warnings.map((w) => ({ ...w })),
    signer: r.signer ?? null,
    ...descriptionView(deps.profiles.describe(r.version)),
  };
}

const VersionParams = IdParams.extend({
  version: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, { error: 'version must be a positive integer' })
    .openapi({ param: { name: 'version', in: 'path' } }),
});

const VersionBody = z.strictObject({ mobileconfig: Mobileconfig }).openapi('ProfileVersionUpload');

const idsError = 'enrollmentIds must be an array of 1 to 1000 ids';
const InstallBody = z
  .strictObject({
    enrollmentIds: z
      .array(idSchema('enrollmentIds[]'), { error: idsError })
      .min(1, { error: idsError })
      .max(1000, { error: idsError }),
    version: z
      .number({ error: 'version must be a positive integer' })
      .int({ error: 'version must be a positive integer' })
      .min(1, { error: 'version must be a positive integer' })
      .optional()
      .openapi({ description: 'default the latest' }),
    encrypt: z.boolean({ error: 'encrypt must be a boolean' }).optional().openapi({
      description:
        "encrypt the payloads to each device's identity certificate (one command per device); only certificates Orchard's CA issued are known",
    }),
  })
  .openapi('ProfileInstall');

const Queued = z
  .object({ commands: z.array(z.object({ enrollmentId: z.string(), commandUuid: z.string() })) })
  .openapi('ProfileInstallQueued');

const versions = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/profiles/{id}/versions',
    summary: "A profile's versions, newest first",
    request: { params: IdParams },
    responses: {
      200: jsonResponse('every version', z.object({ items: z.array(ProfileVersionView) })),
    },
  }),
  async handle(deps, req) {
    const { profile } = await visibleProfile(deps, callerOf(req), req.params.id, 'read');
    const items = await deps.profiles.versions(profile.id);
    return json(200, { items: items.map(profileVersionView) });
  },
});

const addVersion = defineRoute({
  auth: 'write',
  scoped: true,
  bodyLimit: PROFILE_BODY_LIMIT,
  route: createRoute({
    method: 'post',
    path: '/api/v1/profiles/{id}/versions',
    summary:
      'Upload a new version (same PayloadIdentifier; a reused PayloadUUID is replaced by a fresh one)',
    request: {
      params: IdParams,
      body: { required: true, content: { 'application/json': { schema: VersionBody } } },
    },
    responses: { 201: jsonResponse('the new version', UploadedView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { profile } = await visibleProfile(deps, caller, req.params.id, 'write');
    const content = mobileconfigBytes(req.body.mobileconfig);
    const result = await deps.profiles.addVersion(profile.id, content, caller.principal.id);
    // Rule M6: the new version goes only to devices that have (or are getting) the profile.
    const report = await deps.delivery.apply({
      kind: 'profile-version',
      profileId: profile.id,
      version: result.version.version,
    });
    await audit(deps, req, 'profile.version.create', profile.id, {
      version: result.version.version,
      payloadUuid: result.version.payloadUuid,
      devices: report.devices,
      commandsQueued: report.commandsQueued,
    });
    return json(201, uploadedView(deps, result));
  },
});

const oneVersion = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/profiles/{id}/versions/{version}',
    summary: 'One version as readable JSON, with its compatibility summary and removal rules',
    request: { params: VersionParams },
    responses: {
      200: jsonResponse(
        'the version',
        ProfileVersionView.extend({
          profile: z.record(z.string(), z.unknown()).openapi({
            description: 'the profile as readable JSON (data as base64, dates as ISO 8601)',
          }),
          ...ProfileDescriptionView.shape,
        }),
      ),
    },
  }),
  async handle(deps, req) {
    const { profile } = await visibleProfile(deps, callerOf(req), req.params.id, 'read');
    const found = await deps.profiles.read(profile.id, Number(req.params.version));
    return json(200, {
      ...profileVersionView(found.version),
      profile: toReadableJson(found.content),
      ...descriptionView(deps.profiles.describe(found.content)),
    });
  },
});

/** A bound serial as the CA store spells it; `undefined` when it is not a hex serial. */
function serialOf(serial: string): string | undefined {
  try {
    return normaliseSerial(serial);
  } catch {
    return undefined;
  }
}

/** The DER of the identity certificate bound to `enrollmentId`, when Orchard's CA issued it. */
async function deviceCertificate(
  deps: Pick<AdminApiDeps, 'storage' | 'certificates'>,
  enrollmentId: string,
): Promise<Uint8Array> {
  const binding = await deps.storage.findCertificateBinding(enrollmentId);
  const serial = binding?.serial === undefined ? undefined : serialOf(binding.serial);
  const issued = serial === undefined ? undefined : await deps.certificates.findIssued(serial);
  if (issued === undefined)
    throw new AdminError(
      'ERR_CONFLICT',
      `the identity certificate of enrollment ${enrollmentId} is unknown (only certificates Orchard's CA issued can be encrypted to)`,
      { field: 'enrollmentIds' },
    );
  return issued.der;
}

/**
 * Records each queued install as Orchard's (rule M6): `pending` with its command, so the device's
 * acknowledgement makes it `installed` and only then may Orchard remove it.
 */
async function recordProvenance(
  deps: Pick<AdminApiDeps, 'admin' | 'profiles'>,
  profile: LibraryProfileRecord,
  version: number,
  commands: readonly { enrollmentId: string; commandUuid: string }[],
): Promise<void> {
  const { version: stored } = await deps.profiles.read(profile.id, version);
  const updatedAt = new Date();
  await deps.admin.putDeviceProfiles(
    commands.map(({ enrollmentId, commandUuid }) => ({
      ...{ enrollmentId, identifier: profile.identifier, profileId: profile.id, version },
      ...{ payloadUuid: stored.payloadUuid, state: 'pending' as const, channel: 'admin' as const },
      ...{ commandUuid, updatedAt },
    })),
  );
}

const install = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: '/api/v1/profiles/{id}/install',
    summary:
      'Queue InstallProfile with the signed profile (encrypted per device when asked) and push; root-scoped administrators only',
    request: {
      params: IdParams,
      body: { required: true, content: { 'application/json': { schema: InstallBody } } },
    },
    responses: { 201: jsonResponse('one command per device, or one for all', Queued) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    // Devices are not owned by groups yet: only a root-scoped administrator may target them.
    if (!isGlobalCaller(caller))
      throw new ManagementError(
        'ERR_ADMIN_SCOPE',
        'only administrators scoped at the root group may install profiles on devices',
        { group: caller.principal.groupId },
      );
    const { profile } = await visibleProfile(deps, caller, req.params.id, 'write');
    // Rule M5: nobody but the enrolled user starts an Interactive install (from the portal).
    if (profile.assignmentType === 'interactive')
      throw new ManagementError(
        'ERR_PROFILE_INTERACTIVE',
        'an Interactive profile is installed only when its user presses Install in the self-service portal',
      );
    const { enrollmentIds: ids, version, encrypt } = req.body;
    for (const id of ids) await existingEnrollment(deps, id);
    // Render every payload before queueing any, so a device we cannot encrypt to queues nothing.
    const payloads =
      encrypt === true
        ? await Promise.all(
            ids.map(async (id) => ({
              ids: [id],
              bytes: await deps.profiles.renderForDevice(profile.id, version, {
                encryptTo: await deviceCertificate(deps, id),
              }),
            })),
          )
        : [{ ids, bytes: await deps.profiles.renderForDevice(profile.id, version) }];
    const commands: { enrollmentId: string; commandUuid: string }[] = [];
    for (const p of payloads) {
      const command = { RequestType: 'InstallProfile', Payload: new Uint8Array(p.bytes) };
      const answer = await enqueueAudited(deps, req, p.ids, command);
      const { commandUuid } = answer.body as { commandUuid: string };
      for (const enrollmentId of p.ids) commands.push({ enrollmentId, commandUuid });
    }
    await recordProvenance(deps, profile, version ?? profile.latestVersion, commands);
    await audit(deps, req, 'profile.install', profile.id, {
      version: version ?? profile.latestVersion,
      encrypt: encrypt === true,
      enrollmentIds: ids,
    });
    return json(201, { commands });
  },
});

/** The routes over versions and installation. */
export const profileVersionRoutes = [versions, addVersion, oneVersion, install];

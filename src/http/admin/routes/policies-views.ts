/**
 * The zod schemas and JSON views of the policy routes: policies, their profile assignments, the
 * change report of a previewed or applied change (S4), and the A12 visibility check every
 * policy route starts with (a policy out of the caller's sight is 404, as if it did not exist).
 */
import { z } from '@hono/zod-openapi';
import type { Caller } from '../../../admin/principals.js';
import { ManagementError } from '../../../errors.js';
import type { ChangeReport } from '../../../management/delivery/types.js';
import {
  MAX_POLICY_DESCRIPTION_LENGTH,
  MAX_POLICY_NAME_LENGTH,
} from '../../../management/policies-rules.js';
import type { GroupTree } from '../../../management/tree.js';
import type {
  LibraryProfileRecord,
  PolicyAssignmentRecord,
  PolicyRecord,
} from '../../../storage/ports.js';
import type { AdminApiDeps } from '../route.js';
import { idSchema, Instant } from '../schemas.js';
import { iso } from '../views.js';
import { findVisibleOwned } from './owned-list.js';
import { AssignmentTypeField } from './profiles-views.js';

const nameError = `name must be a string of 1 to ${MAX_POLICY_NAME_LENGTH} characters`;
const name = z
  .string({ error: nameError })
  .min(1, { error: nameError })
  .max(MAX_POLICY_NAME_LENGTH, { error: nameError })
  .openapi({ description: 'unique (case-insensitively)' });
const description = z
  .string({ error: 'description must be a string' })
  .max(MAX_POLICY_DESCRIPTION_LENGTH, {
    error: `description is longer than ${MAX_POLICY_DESCRIPTION_LENGTH} characters`,
  });
const DryRun = z
  .boolean({ error: 'dryRun must be a boolean' })
  .optional()
  .openapi({ description: 'preview what the change does to each device (S4), storing nothing' });

/** A removal control field (S8). */
export const RemovalField = z
  .enum(['always', 'with-authorization', 'never'], {
    error: 'removal must be always, with-authorization or never',
  })
  .openapi({
    description:
      'how the profile may be removed (S8): always; with-authorization (a removal password Orchard generates); never (PayloadRemovalDisallowed, honoured on supervised devices only)',
  });

/** A policy as the API shows it. */
export const PolicyView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    groupId: z.string().openapi({ description: 'the owning organization group (A12)' }),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .openapi('Policy');

/** One profile of a policy (the removal password is never shown here). */
export const AssignmentView = z
  .object({
    policyId: z.string(),
    profileId: z.string(),
    name: z.string().nullable().openapi({ description: "the library profile's name" }),
    identifier: z.string().nullable().openapi({ description: 'its PayloadIdentifier' }),
    assignmentType: AssignmentTypeField,
    removal: RemovalField,
    createdAt: Instant,
    updatedAt: Instant,
  })
  .openapi('PolicyAssignment');

const Named = z.object({ identifier: z.string(), reason: z.string() });

/** What a change does to one device (S4). */
export const DevicePlanView = z
  .object({
    enrollmentId: z.string(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    updated: z.array(z.string()),
    unchanged: z.array(z.string()),
    skipped: z.array(Named),
    blocked: z.array(Named),
    actions: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'install, remove, skip, block or keep, per profile identifier',
    }),
  })
  .openapi('DevicePlan');

/** A change report: what a previewed (`applied: false`) or applied change does to devices. */
export const ChangeReportView = z
  .object({
    applied: z.boolean().openapi({ description: 'false for a preview (dryRun)' }),
    devices: z.number().int().openapi({ description: 'devices the change reaches' }),
    totals: z.object({
      added: z.number().int(),
      removed: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      skipped: z.number().int(),
      blocked: z.number().int(),
    }),
    plans: z.array(DevicePlanView).openapi({ description: 'the first devices, by enrollment id' }),
    truncated: z.boolean(),
    commandsQueued: z.number().int(),
  })
  .openapi('ChangeReport');

/** Body of `POST /api/v1/policies`. */
export const PolicyCreateBody = z
  .strictObject({ name, description: description.optional(), groupId: idSchema('groupId') })
  .openapi('PolicyCreate');

/** Body of `PATCH /api/v1/policies/{id}`. */
export const PolicyUpdateBody = z
  .strictObject({
    name: name.optional(),
    description: description.nullable().optional().openapi({ description: 'null clears it' }),
    groupId: idSchema('groupId').optional().openapi({
      description: 'a new owner; the caller must be able to change both owners',
    }),
  })
  .openapi('PolicyUpdate');

/** Body of `PUT /api/v1/policies/{id}/profiles/{profileId}`. */
export const AssignBody = z
  .strictObject({
    assignmentType: AssignmentTypeField.optional().openapi({
      description:
        "default: the current assignment's, else the library profile's; interactive only where the policy's group allows it (A13)",
    }),
    removal: RemovalField.optional().openapi({
      description: "default: the current assignment's, else always",
    }),
    dryRun: DryRun,
  })
  .openapi('PolicyAssign');

/** Query of `DELETE /api/v1/policies/{id}/profiles/{profileId}`. */
export const DryRunQuery = z.strictObject({
  dryRun: z
    .enum(['true', 'false'], { error: 'dryRun must be true or false' })
    .optional()
    .openapi({ description: 'preview (S4), storing nothing' }),
});

/** Body of `PUT /api/v1/groups/{id}/policy`. */
export const GroupPolicyBody = z
  .strictObject({
    policyId: idSchema('policyId')
      .nullable()
      .openapi({ description: "the group's default policy; null clears it" }),
    dryRun: DryRun,
  })
  .openapi('GroupPolicyWrite');

/** Path parameters `{id}` and `{profileId}`. */
export const AssignmentParams = z.object({
  id: idSchema('id').openapi({ param: { name: 'id', in: 'path' } }),
  profileId: idSchema('profileId').openapi({ param: { name: 'profileId', in: 'path' } }),
});

/** The API view of a policy. */
export function policyView(p: PolicyRecord): z.infer<typeof PolicyView> {
  return {
    ...{ id: p.id, name: p.name, description: p.description ?? null, groupId: p.groupId },
    ...{ createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) },
  };
}

/** The API view of an assignment, with its library profile's name and identifier. */
export function assignmentView(
  a: PolicyAssignmentRecord,
  profile: LibraryProfileRecord | undefined,
): z.infer<typeof AssignmentView> {
  return {
    ...{ policyId: a.policyId, profileId: a.profileId },
    ...{ name: profile?.name ?? null, identifier: profile?.identifier ?? null },
    ...{ assignmentType: a.assignmentType, removal: a.removal },
    ...{ createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt) },
  };
}

/** The API view of a change report (already plain JSON). */
export function reportView(r: ChangeReport): z.infer<typeof ChangeReportView> {
  return r;
}

/**
 * The policy `id` when the caller may `access` it (A12): 404 `ERR_POLICY_NOT_FOUND` when it is
 * unknown or out of sight, 403 `ERR_ADMIN_SCOPE` when visible but not editable.
 */
export async function visiblePolicy(
  deps: Pick<AdminApiDeps, 'admin' | 'groups'>,
  caller: Caller,
  id: string,
  access: 'read' | 'write',
): Promise<{ policy: PolicyRecord; tree: GroupTree }> {
  const { record, tree } = await findVisibleOwned(
    deps,
    caller,
    access,
    () => deps.admin.findPolicy(id),
    () => new ManagementError('ERR_POLICY_NOT_FOUND', `no policy ${id}`),
  );
  return { policy: record, tree };
}

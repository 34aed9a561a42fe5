/**
 * Schemas and views of a device's profiles (`/api/v1/enrollments/{id}/profiles`): what the
 * delivery service says a device has, wants and was refused, the explain trace (B1), and the
 * one record an install or a removal answers.
 */
import { z } from '@hono/zod-openapi';
import type { DeviceProfileRecord } from '../../../storage/ports.js';
import { idSchema, IdParams, Instant } from '../schemas.js';
import { iso } from '../views.js';

/** Grammar of a `PayloadIdentifier` in a path: printable, no slash or backslash, at most 512. */
export const IDENTIFIER_PATTERN = /^(?!\.\.?$)[^\s/\\\p{Cc}]{1,512}$/u;

/** Path parameters `{id}` and `{identifier}` (a profile's `PayloadIdentifier`). */
export const IdIdentifierParams = IdParams.extend({
  identifier: z
    .string()
    .regex(IDENTIFIER_PATTERN, { error: 'identifier has an invalid format' })
    .openapi({
      param: { name: 'identifier', in: 'path' },
      description: "the profile's PayloadIdentifier (percent-encoded)",
    }),
});

/** Body of `POST /api/v1/enrollments/{id}/profiles`. */
export const DeviceInstallBody = z
  .strictObject({
    profileId: idSchema('profileId').openapi({
      description: 'a library profile the device is offered as Optional by its effective policy',
    }),
  })
  .openapi('DeviceProfileInstall');

const AssignmentType = z.enum(['auto', 'optional', 'interactive']);
const Removal = z.enum(['always', 'with-authorization', 'never']);
const State = z
  .enum(['pending', 'installed', 'failed', 'skipped', 'blocked', 'removing', 'removed'])
  .openapi({ description: 'what became of the profile on this device' });
const Channel = z.enum(['policy', 'admin', 'user']).openapi({
  description: "who asked for it: the policy's Auto assignment, an administrator, the user",
});
const PolicySource = z
  .object({ kind: z.enum(['user', 'group', 'none']), groupId: z.string().optional() })
  .openapi('PolicySource', {
    description: "the user's own policy, a group's default (groupId), or none",
  });

/** One profile of a device, as the delivery service shows it. */
export const DeviceProfileView = z
  .object({
    identifier: z.string().openapi({ description: 'PayloadIdentifier' }),
    profileId: z.string(),
    name: z.string(),
    assignmentType: AssignmentType.optional(),
    removal: Removal.optional(),
    desired: z.boolean().openapi({ description: 'the effective policy assigns or offers it' }),
    state: State.optional().openapi({ description: 'absent when nothing was decided yet' }),
    reason: z.string().optional(),
    version: z.number().int().optional(),
    latestVersion: z.number().int(),
    channel: Channel.optional(),
    commandUuid: z.string().optional(),
    installedAt: z.string().optional().openapi({ format: 'date-time' }),
    updatedAt: z.string().optional().openapi({ format: 'date-time' }),
  })
  .openapi('DeviceProfile');

const list = z.array(DeviceProfileView);

/** Every profile of a device, by what became of it. */
export const DeviceProfilesView = z
  .object({
    enrollmentId: z.string(),
    userId: z.string().optional(),
    groupId: z.string().optional().openapi({ description: "the device's organization group" }),
    policy: z
      .object({ id: z.string(), name: z.string(), source: PolicySource })
      .optional()
      .openapi({ description: 'the effective policy; absent when none applies' }),
    desired: list,
    installed: list,
    pending: list,
    skipped: list.openapi({ description: 'incompatible with the device, each with its reason' }),
    failed: list,
    blocked: list.openapi({ description: 'an unresolved variable, each with its reason' }),
    offered: list.openapi({ description: 'Optional and Interactive profiles not installed now' }),
    removed: list,
    reconciledAt: z.string().optional().openapi({ format: 'date-time' }),
  })
  .openapi('DeviceProfiles');

const Check = z.object({
  check: z.enum(['platform', 'os-version', 'supervision', 'enrollment-type', 'channel', 'payload']),
  ok: z.boolean(),
  detail: z.string(),
});

const ExplainGroupView = z.object({
  groupId: z.string(),
  name: z.string(),
  policyId: z.string().optional(),
  settings: z.array(
    z.object({
      page: z.string(),
      currentSetting: z.enum(['inherit', 'override']),
      sourceGroupId: z.string(),
      values: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** The decision trace of one profile on one device (B1). */
export const ExplainTraceView = z
  .object({
    enrollmentId: z.string(),
    identifier: z.string(),
    decision: z.enum([
      'install',
      'installed',
      'pending',
      'skipped',
      'blocked',
      'failed',
      'offered',
      'removed',
      'not-assigned',
    ]),
    summary: z.string().openapi({ description: 'one sentence saying why' }),
    device: z.object({
      type: z.string(),
      platform: z.string().nullable(),
      osVersion: z.string().nullable(),
      supervised: z.boolean().nullable(),
      enrollment: z.enum(['device', 'user', 'ade']),
      unknown: z.array(z.enum(['platform', 'osVersion', 'supervised'])),
    }),
    groups: z.array(ExplainGroupView).openapi({
      description: "the device's organization group and its ancestors, nearest first",
    }),
    user: z.object({ id: z.string(), username: z.string(), groupId: z.string() }).nullable(),
    policy: z.object({ id: z.string(), name: z.string(), source: PolicySource }).nullable(),
    assignment: z
      .object({ policyId: z.string(), assignmentType: AssignmentType, removal: Removal })
      .nullable(),
    profile: z
      .object({
        id: z.string(),
        name: z.string(),
        groupId: z.string(),
        latestVersion: z.number().int(),
      })
      .nullable(),
    compatibility: z.array(Check),
    variables: z.array(z.object({ name: z.string(), resolved: z.boolean(), source: z.string() })),
    removal: z
      .object({ control: Removal.nullable(), effect: z.string(), user: z.string() })
      .nullable(),
    record: z
      .object({
        state: State,
        reason: z.string().nullable(),
        version: z.number().int(),
        channel: Channel,
        updatedAt: z.string().openapi({ format: 'date-time' }),
      })
      .nullable(),
  })
  .openapi('ExplainTrace');

/** One device profile record, as an install or a removal answers it. */
export const DeviceProfileRecordView = z
  .object({
    enrollmentId: z.string(),
    identifier: z.string(),
    profileId: z.string(),
    version: z.number().int(),
    payloadUuid: z.string().nullable().openapi({ description: 'the PayloadUUID sent, if any' }),
    state: State,
    reason: z.string().nullable(),
    channel: Channel,
    commandUuid: z.string().nullable().openapi({
      description: 'the InstallProfile or RemoveProfile command awaiting an answer',
    }),
    installedAt: Instant,
    updatedAt: Instant,
  })
  .openapi('DeviceProfileRecord');

/** The JSON of a device profile record: absent fields as `null`, instants in ISO 8601. */
export function deviceProfileRecordView(
  r: DeviceProfileRecord,
): z.output<typeof DeviceProfileRecordView> {
  return {
    enrollmentId: r.enrollmentId,
    identifier: r.identifier,
    profileId: r.profileId,
    version: r.version,
    payloadUuid: r.payloadUuid ?? null,
    state: r.state,
    reason: r.reason ?? null,
    channel: r.channel,
    commandUuid: r.commandUuid ?? null,
    installedAt: iso(r.installedAt),
    updatedAt: iso(r.updatedAt),
  };
}

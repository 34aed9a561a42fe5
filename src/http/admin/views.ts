/**
 * JSON views of stored records for the admin API, each with its zod schema (the response schema
 * of the routes that answer it): enrollments with their facts, commands with each target's status
 * and the device's report decoded from its plist, in the typed JSON encoding of docs/plist.md
 * (exact) or, on request, the readable one (lossy); API keys and enrollment links without secrets.
 */
import { z } from '@hono/zod-openapi';
import { toReadableJson } from '../../profile/inspect.js';
import { decodePlist, toTypedJson } from '../../protocol/plist.js';
import type {
  AuditEntry,
  CommandRecord,
  EnrollmentCommand,
  EnrollmentOwner,
  EnrollmentRecord,
  PushOutcomeRecord,
} from '../../storage/ports.js';
export { adminView, apiKeyView, tokenView } from '../../admin/views.js';
import { Instant, PlistValue } from './schemas.js';
import { COMMAND_BODY_DEPTH, type ResultEncoding } from './validate.js';

/** An instant as ISO 8601, or `null` when absent: how every admin view writes optional times. */
export const iso = (d: Date | undefined): string | null =>
  d === undefined ? null : d.toISOString();

/** The latest push of a command target. */
export const PushView = z
  .object({
    outcome: z.string().openapi({ description: 'accepted, failed, deferred or no-token' }),
    reason: z.string().nullable(),
    apnsId: z.string().nullable(),
    at: Instant,
  })
  .openapi('Push');

/** The latest push of a command target, `null` before one was recorded. */
function pushView(p: PushOutcomeRecord | undefined): z.infer<typeof PushView> | null {
  if (p === undefined) return null;
  return { outcome: p.outcome, reason: p.reason ?? null, apnsId: p.apnsId ?? null, at: iso(p.at) };
}

/** One enrollment's outcome of a push. */
export const PushResultView = PushView.extend({
  enrollmentId: z.string(),
  status: z.number().int().nullable(),
}).openapi('PushResult');

/**
 * One enrollment's outcome of `POST /api/v1/enrollments/{id}/push`: `accepted` by APNs, `failed`
 * (APNs's reason or the transport error), `deferred` (e.g. `CircuitOpen`) or `no-token`.
 */
export function pushResultView(
  r: PushOutcomeRecord & { enrollmentId: string; status?: number },
): z.infer<typeof PushResultView> {
  return {
    enrollmentId: r.enrollmentId,
    outcome: r.outcome,
    reason: r.reason ?? null,
    apnsId: r.apnsId ?? null,
    at: iso(r.at),
    status: r.status ?? null,
  };
}

/** The list view of an enrollment. */
export const EnrollmentSummary = z
  .object({
    id: z.string(),
    type: z.string(),
    deviceId: z.string(),
    udid: z.string().optional(),
    enrollmentId: z.string().optional(),
    parentId: z.string().optional(),
    serialNumber: z.unknown(),
    osVersion: z.unknown(),
    model: z.unknown(),
    enrolled: z.boolean(),
    createdAt: Instant,
    lastSeenAt: Instant,
    userId: z.string().optional().openapi({ description: 'the user it belongs to, when owned' }),
    groupId: z.string().optional().openapi({ description: "the owner's organization group" }),
  })
  .openapi('EnrollmentSummary');

const fact = (facts: Record<string, unknown>, key: string): unknown => facts[key] ?? null;

/** The list view of an enrollment, with its owner's user and group when `owner` is given. */
export function enrollmentSummary(
  e: EnrollmentRecord,
  owner?: Pick<EnrollmentOwner, 'userId' | 'groupId'>,
): z.infer<typeof EnrollmentSummary> {
  return {
    id: e.id,
    type: e.type,
    deviceId: e.deviceId,
    ...(e.type === 'user-enrollment-device' ? { enrollmentId: e.deviceId } : { udid: e.deviceId }),
    ...(e.parentId === undefined ? {} : { parentId: e.parentId }),
    serialNumber: fact(e.facts, 'SerialNumber'),
    osVersion: fact(e.facts, 'OSVersion'),
    model: fact(e.facts, 'Model'),
    enrolled: e.enrolled,
    createdAt: iso(e.createdAt),
    lastSeenAt: iso(e.lastSeenAt),
    ...(owner === undefined ? {} : { userId: owner.userId, groupId: owner.groupId }),
  };
}

/** The detail view: the summary plus every stored fact and user names. */
export const EnrollmentDetail = EnrollmentSummary.extend({
  userShortName: z.string().optional(),
  userLongName: z.string().optional(),
  updatedAt: Instant,
  tokenUpdateCount: z.number().int(),
  facts: z.record(z.string(), z.unknown()),
}).openapi('EnrollmentDetail');

/** The detail view: the summary plus every stored fact and user names. */
export function enrollmentDetail(
  e: EnrollmentRecord,
  owner?: Pick<EnrollmentOwner, 'userId' | 'groupId'>,
): z.infer<typeof EnrollmentDetail> {
  return {
    ...enrollmentSummary(e, owner),
    ...(e.userShortName === undefined ? {} : { userShortName: e.userShortName }),
    ...(e.userLongName === undefined ? {} : { userLongName: e.userLongName }),
    updatedAt: iso(e.updatedAt),
    tokenUpdateCount: e.tokenUpdateCount,
    facts: e.facts,
  };
}

/**
 * A stored plist (command body or device report) as JSON; `null` when absent. Bytes that no
 * longer decode are shown as `{undecodable: <base64>}` (typed: `{undecodable: {$data}}`).
 */
function plistJson(bytes: Uint8Array | undefined, encoding: ResultEncoding): unknown {
  if (bytes === undefined) return null;
  let value;
  try {
    // One level more than a command body may have: the stored envelope wraps it.
    value = decodePlist(bytes, { maxDepth: COMMAND_BODY_DEPTH + 1 });
  } catch {
    const base64 = Buffer.from(bytes).toString('base64');
    return { undecodable: encoding === 'typed' ? { $data: base64 } : base64 };
  }
  return encoding === 'typed' ? toTypedJson(value) : toReadableJson(value);
}

const CommandTargetView = z.object({
  enrollmentId: z.string(),
  status: z.string(),
  updatedAt: Instant,
  lastPush: PushView.nullable(),
  result: PlistValue.nullable(),
});

/** A command with every target and its decoded result. */
export const CommandView = z
  .object({
    commandUuid: z.string(),
    requestType: z.string(),
    createdAt: Instant,
    expiresAt: Instant,
    command: PlistValue.nullable(),
    targets: z.array(CommandTargetView),
  })
  .openapi('Command');

/**
 * A command with every target and its decoded result, in `encoding` (default `typed`: the
 * exact JSON form of docs/plist.md).
 */
export function commandView(
  c: CommandRecord,
  encoding: ResultEncoding = 'typed',
): z.infer<typeof CommandView> {
  return {
    commandUuid: c.uuid,
    requestType: c.requestType,
    createdAt: iso(c.createdAt),
    expiresAt: iso(c.expiresAt),
    command: plistJson(c.body, encoding),
    targets: c.targets.map((t) => ({
      enrollmentId: t.enrollmentId,
      status: t.status,
      updatedAt: iso(t.updatedAt),
      lastPush: pushView(t.lastPush),
      result: plistJson(t.result, encoding),
    })),
  };
}

/** One entry of an enrollment's command list. */
export const EnrollmentCommandView = z
  .object({
    commandUuid: z.string(),
    requestType: z.string(),
    status: z.string(),
    createdAt: Instant,
    updatedAt: Instant,
    lastPush: PushView.nullable(),
    result: PlistValue.nullable(),
  })
  .openapi('EnrollmentCommand');

/** One entry of an enrollment's command list, with the device's result (`null` before one). */
export function enrollmentCommandView(
  c: EnrollmentCommand,
  encoding: ResultEncoding = 'typed',
): z.infer<typeof EnrollmentCommandView> {
  return {
    commandUuid: c.uuid,
    requestType: c.requestType,
    status: c.status,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    lastPush: pushView(c.lastPush),
    result: plistJson(c.result, encoding),
  };
}

/** An API key without its secret. */
export const ApiKeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(['read', 'write']),
    principalId: z.string().openapi({ description: 'the administrator the key belongs to' }),
    createdAt: Instant,
    revokedAt: Instant,
  })
  .openapi('ApiKey');

/** An administrator: a role and the organization group its scope starts at. */
export const AdminView = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['read-only', 'full']),
    groupId: z.string().openapi({ description: 'scope: this group and everything below it' }),
    createdAt: Instant,
    disabledAt: Instant,
  })
  .openapi('Admin');

/** An enrollment link without its secret. */
export const TokenView = z
  .object({
    id: z.string(),
    singleUse: z.boolean(),
    uses: z.number().int().openapi({ description: 'profile downloads' }),
    enrollments: z
      .number()
      .int()
      .openapi({ description: 'certificates issued against its challenges' }),
    user: z.string().nullable(),
    expiresAt: Instant,
    createdAt: Instant,
    revokedAt: Instant,
  })
  .openapi('EnrollmentToken');

/** One audit log entry. */
export const AuditView = z
  .object({
    seq: z.number().int(),
    at: z.string().openapi({ format: 'date-time' }),
    actor: z.string(),
    action: z.string(),
    target: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEntry');

/** One audit log entry with its time as ISO 8601. */
export function auditView(e: AuditEntry): z.infer<typeof AuditView> {
  return { ...e, at: e.at.toISOString() };
}

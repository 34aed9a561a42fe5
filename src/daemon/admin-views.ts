/**
 * JSON views of stored records for the admin API: enrollments with their facts, commands with
 * each target's status and the device's report decoded from its plist, in the typed JSON
 * encoding of docs/plist.md (exact) or, on request, the readable one (lossy).
 */
import {
  decodePlist,
  toReadableJson,
  toTypedJson,
  type CommandRecord,
  type EnrollmentCommand,
  type EnrollmentRecord,
  type JsonValue,
  type PushOutcomeRecord,
  type TypedJson,
} from '../index.js';
import type { ApiKeyRecord } from './admin-store.js';
import type { EnrollmentTokenRecord } from './admin-store-tokens.js';
import { COMMAND_BODY_DEPTH, type ResultEncoding } from './admin-validate.js';

/** An instant as ISO 8601, or `null` when absent: how every admin view writes optional times. */
export const iso = (d: Date | undefined): string | null =>
  d === undefined ? null : d.toISOString();

/** The latest push of a command target, `null` before one was recorded. */
function pushView(p: PushOutcomeRecord | undefined): Record<string, unknown> | null {
  if (p === undefined) return null;
  return { outcome: p.outcome, reason: p.reason ?? null, apnsId: p.apnsId ?? null, at: iso(p.at) };
}

/**
 * One enrollment's outcome of `POST /api/v1/enrollments/{id}/push`: `accepted` by APNs, `failed`
 * (APNs's reason or the transport error), `deferred` (e.g. `CircuitOpen`) or `no-token`.
 */
export function pushResultView(
  r: PushOutcomeRecord & { enrollmentId: string; status?: number },
): Record<string, unknown> {
  return { enrollmentId: r.enrollmentId, ...pushView(r), status: r.status ?? null };
}

function fact(facts: Record<string, unknown>, key: string): unknown {
  return facts[key] ?? null;
}

/** The list view of an enrollment. */
export function enrollmentSummary(e: EnrollmentRecord): Record<string, unknown> {
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
  };
}

/** The detail view: the summary plus every stored fact and user names. */
export function enrollmentDetail(e: EnrollmentRecord): Record<string, unknown> {
  return {
    ...enrollmentSummary(e),
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
function plistJson(
  bytes: Uint8Array | undefined,
  encoding: ResultEncoding,
): JsonValue | TypedJson | null {
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

/**
 * A command with every target and its decoded result, in `encoding` (default `typed`: the
 * exact JSON form of docs/plist.md).
 */
export function commandView(
  c: CommandRecord,
  encoding: ResultEncoding = 'typed',
): Record<string, unknown> {
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

/** One entry of an enrollment's command list, with the device's result (`null` before one). */
export function enrollmentCommandView(
  c: EnrollmentCommand,
  encoding: ResultEncoding = 'typed',
): Record<string, unknown> {
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
export function apiKeyView(k: ApiKeyRecord): Record<string, unknown> {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    createdAt: iso(k.createdAt),
    revokedAt: iso(k.revokedAt),
  };
}

/**
 * An enrollment token without its secret: `uses` counts profile downloads, `enrollments` the
 * certificates issued against its challenges (a single-use link is spent at one).
 */
export function tokenView(t: EnrollmentTokenRecord): Record<string, unknown> {
  return {
    id: t.id,
    singleUse: t.singleUse,
    uses: t.uses,
    enrollments: t.enrollments,
    user: t.user ?? null,
    expiresAt: iso(t.expiresAt),
    createdAt: iso(t.createdAt),
    revokedAt: iso(t.revokedAt),
  };
}

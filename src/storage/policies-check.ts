/**
 * Checks and small rules of policies, assignments, device-profile records and the owned-enrollment
 * filter, shared by every adapter so memory and SQLite accept, refuse and name things alike. Pure
 * functions on plain values; the adapters run them before they change anything.
 */
import { checkAssignment } from './management-check.js';
import type {
  DeliveryChannel,
  DeviceProfileRecord,
  DeviceProfileState,
  OwnedEnrollmentFilter,
  Page,
  PolicyAssignmentRecord,
  PolicyRecord,
  ReconcileRecord,
  RemovalControl,
} from './ports.js';
import { checkDate, checkId, decodeCursor, encodeCursor } from './support.js';

/** Largest page of {@link UserStore.listOwnedEnrollments} (the delivery service reads 10,000). */
export const MAX_OWNED_PAGE = 10_000;

/** How many ids one SQL statement binds at most (a JSON array, or an IN list elsewhere). */
export const ID_CHUNK = 500;

const REMOVALS: readonly RemovalControl[] = ['always', 'with-authorization', 'never'];
const STATES: readonly DeviceProfileState[] = [
  'pending',
  'installed',
  'failed',
  'skipped',
  'blocked',
  'removing',
  'removed',
];
const CHANNELS: readonly DeliveryChannel[] = ['policy', 'admin', 'user'];
const FILTER_KEYS = [
  'userPolicyIds',
  'groupsWithoutUserPolicy',
  'groupIds',
  'userIds',
  'enrollmentIds',
] as const;

/** Ids of policies look like this (`pol_` and URL-safe characters); cursors of the list are such ids. */
const POLICY_ID = /^pol_[A-Za-z0-9_-]{1,128}$/;

/** Throws TypeError unless `id` is a policy id. */
export function checkPolicyId(id: unknown, what = 'policy id'): asserts id is string {
  if (typeof id !== 'string' || !POLICY_ID.test(id)) throw new TypeError(`invalid ${what}`);
}

/**
 * The key policy names are unique by: the name in lower case (JavaScript's full Unicode folding,
 * computed by the adapter, so SQLite's ASCII-only `lower()` never decides).
 */
export function policyNameKey(name: string): string {
  return name.toLowerCase();
}

/** Throws TypeError unless `name` is a non-empty string. */
export function checkPolicyName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '')
    throw new TypeError('policy name must be a non-empty string');
}

/** Throws TypeError unless `record` is a valid new policy. */
export function checkPolicyRecord(record: PolicyRecord): void {
  checkPolicyId(record.id);
  checkPolicyName(record.name);
  checkId(record.groupId, 'policy groupId');
  if (record.description !== undefined && typeof record.description !== 'string')
    throw new TypeError('policy description must be a string');
  checkDate(record.createdAt, 'policy createdAt');
  checkDate(record.updatedAt, 'policy updatedAt');
}

/** Throws TypeError unless `change` is a valid policy change. */
export function checkPolicyChange(change: {
  name?: string;
  description?: string | null;
  groupId?: string;
}): void {
  if (change.name !== undefined) checkPolicyName(change.name);
  if (change.groupId !== undefined) checkId(change.groupId, 'policy groupId');
  const d = change.description;
  if (d !== undefined && d !== null && typeof d !== 'string')
    throw new TypeError('policy description must be a string or null');
}

/** Throws TypeError unless `removal` is a {@link RemovalControl}. */
export function checkRemoval(removal: unknown): asserts removal is RemovalControl {
  if (!REMOVALS.includes(removal as RemovalControl))
    throw new TypeError(`bad removal control ${String(removal)}`);
}

/**
 * Throws TypeError unless `record` is a valid assignment: known type and control, and a removal
 * password exactly when the control is `with-authorization`.
 */
export function checkAssignmentRecord(record: PolicyAssignmentRecord): void {
  checkPolicyId(record.policyId);
  checkId(record.profileId, 'assignment profileId');
  checkAssignment(record.assignmentType);
  checkRemoval(record.removal);
  const password: unknown = record.removalPassword;
  if (record.removal === 'with-authorization') {
    if (typeof password !== 'string' || password === '')
      throw new TypeError('with-authorization needs a removal password');
  } else if (password !== undefined) {
    throw new TypeError(`removal control ${record.removal} takes no removal password`);
  }
  checkDate(record.createdAt, 'assignment createdAt');
  checkDate(record.updatedAt, 'assignment updatedAt');
}

/** Throws TypeError unless `record` is a valid device-profile record. */
export function checkDeviceProfile(record: DeviceProfileRecord): void {
  checkId(record.enrollmentId, 'enrollment id');
  checkId(record.identifier, 'profile identifier');
  checkId(record.profileId, 'profile id');
  if (!Number.isInteger(record.version) || record.version < 1)
    throw new TypeError('device profile version must be a positive integer');
  const { state, channel } = record as { state: unknown; channel: unknown };
  if (!STATES.includes(state as DeviceProfileState))
    throw new TypeError(`bad state ${String(state)}`);
  if (!CHANNELS.includes(channel as DeliveryChannel))
    throw new TypeError(`bad channel ${String(channel)}`);
  for (const key of ['payloadUuid', 'reason', 'commandUuid'] as const) {
    const value: unknown = record[key];
    if (value !== undefined && typeof value !== 'string')
      throw new TypeError(`device profile ${key} must be a string`);
  }
  if (record.installedAt !== undefined) checkDate(record.installedAt, 'installedAt');
  checkDate(record.updatedAt, 'device profile updatedAt');
}

/** Throws TypeError unless `records` holds valid records, each (enrollment, identifier) once. */
export function checkDeviceProfiles(records: readonly DeviceProfileRecord[]): void {
  const given: unknown = records;
  if (!Array.isArray(given)) throw new TypeError('device profile records must be an array');
  const seen = new Set<string>();
  for (const record of records) {
    checkDeviceProfile(record);
    const key = `${record.enrollmentId}\u0000${record.identifier}`;
    if (seen.has(key))
      throw new TypeError(`device profile ${record.enrollmentId}/${record.identifier} twice`);
    seen.add(key);
  }
}

/** Throws TypeError unless `record` is a valid reconciliation record. */
export function checkReconcile(record: ReconcileRecord): void {
  checkId(record.enrollmentId, 'enrollment id');
  if (record.commandUuid !== undefined) checkId(record.commandUuid, 'commandUuid');
  if (record.queuedAt !== undefined) checkDate(record.queuedAt, 'queuedAt');
  if (record.reconciledAt !== undefined) checkDate(record.reconciledAt, 'reconciledAt');
}

/**
 * Whether a reconciliation record (or none) is due at `before`: never reconciled or last
 * reconciled before it, and no ProfileList queued since.
 */
export function reconcileDue(record: ReconcileRecord | undefined, before: Date): boolean {
  if (record === undefined) return true;
  const t = before.getTime();
  if (record.reconciledAt !== undefined && record.reconciledAt.getTime() >= t) return false;
  return record.queuedAt === undefined || record.queuedAt.getTime() < t;
}

/** Throws TypeError unless `limit` is an integer from 1 to `max`. */
export function checkLimit(limit: unknown, max: number): asserts limit is number {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > max)
    throw new TypeError(`limit must be an integer from 1 to ${String(max)}, got ${String(limit)}`);
}

/** Throws TypeError unless every id of `ids` is a non-empty string. */
export function checkIds(ids: readonly string[], what: string): void {
  const given: unknown = ids;
  if (!Array.isArray(given)) throw new TypeError(`${what} must be an array`);
  for (const id of ids) checkId(id, what);
}

/** Throws TypeError unless `filter` holds arrays of non-empty strings only. */
export function checkOwnedFilter(filter: OwnedEnrollmentFilter): void {
  if (typeof filter !== 'object' || (filter as unknown) === null)
    throw new TypeError('owned enrollment filter must be an object');
  for (const key of FILTER_KEYS) {
    const ids = filter[key];
    if (ids !== undefined) checkIds(ids, key);
  }
}

/**
 * Checks a request for a page of owned enrollments (filter and limit) and resolves where it
 * starts: the id its cursor carries, or `''` for the first page. Throws TypeError.
 */
export function ownedPageStart(
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
): string {
  checkOwnedFilter(filter);
  checkLimit(options.limit, MAX_OWNED_PAGE);
  return options.cursor === undefined ? '' : decodeCursor(options.cursor, 'string');
}

/**
 * The page of the first `limit` of `items` (read `limit + 1` at most), with a cursor after its
 * last enrollment when there were more.
 */
export function ownedPage<T extends { enrollmentId: string }>(items: T[], limit: number): Page<T> {
  const page = items.length > limit ? items.slice(0, limit) : items;
  const last = page.at(-1);
  return items.length > limit && last !== undefined
    ? { items: page, nextCursor: encodeCursor(last.enrollmentId) }
    : { items: page };
}

/** Whether `filter` names no condition at all (so it matches every owned enrollment). */
export function filterIsEmpty(filter: OwnedEnrollmentFilter): boolean {
  return FILTER_KEYS.every((key) => filter[key] === undefined);
}

/** Throws TypeError unless `facts` is a plain object (JSON-safe values are the caller's). */
export function checkFacts(facts: unknown): asserts facts is Record<string, unknown> {
  if (typeof facts !== 'object' || facts === null || Array.isArray(facts))
    throw new TypeError('facts must be an object');
}

/** `ids` in slices of at most `size` (for statements binding a bounded list). */
export function chunks<T>(ids: readonly T[], size = ID_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** `ids` without repeats, in first-seen order. */
export function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** An opaque cursor holding an (enrollment id, identifier) pair. */
export function encodePairCursor(enrollmentId: string, identifier: string): string {
  return encodeCursor(JSON.stringify([enrollmentId, identifier]));
}

/** The pair of a cursor made by {@link encodePairCursor}; TypeError for any other cursor. */
export function decodePairCursor(cursor: string): [string, string] {
  let value: unknown;
  try {
    value = JSON.parse(decodeCursor(cursor, 'string'));
  } catch {
    throw new TypeError('invalid cursor');
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    typeof value[0] !== 'string' ||
    typeof value[1] !== 'string'
  )
    throw new TypeError('invalid cursor');
  return [value[0], value[1]];
}

const isSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdfff;

/**
 * Orders strings as SQLite's BINARY collation does: by their UTF-8 bytes, which is code point
 * order. UTF-16 units only disagree with it where a surrogate (a code point above U+FFFF) meets a
 * unit from U+E000; compared unit by unit without allocating, as sorting 100,000 ids needs.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = isSurrogate(x);
    if (xs === isSurrogate(y)) return x < y ? -1 : 1;
    return xs ? 1 : -1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

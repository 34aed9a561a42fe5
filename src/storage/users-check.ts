/**
 * Checks and small rules of users and the new enrollment-link fields, shared by every adapter so
 * memory and SQLite accept, refuse and name things alike. Pure functions on plain values.
 */
import {
  OPTIONAL_USER_FIELDS,
  type EnrollmentLinkKind,
  type EnrollmentOwner,
  type NewEnrollmentToken,
  type UserFields,
} from './ports.js';

const KINDS: readonly EnrollmentLinkKind[] = ['single', 'personal', 'generic'];

/** Every field an administrator sets, in column order. */
export const USER_FIELDS = ['username', 'email', 'groupId', ...OPTIONAL_USER_FIELDS] as const;

/** Ids of users look like this (`usr_` and URL-safe characters). */
const USER_ID = /^usr_[A-Za-z0-9_-]{1,128}$/;

/**
 * The key usernames are unique by: ASCII letters folded to lower case, as SQLite's `NOCASE`
 * collation folds them (so both adapters agree on which names clash).
 */
export function foldUsername(username: string): string {
  return username.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** Throws TypeError unless `id` is a user id; cursors of the list are such ids. */
export function checkUserId(id: unknown, what = 'user id'): void {
  if (typeof id !== 'string' || !USER_ID.test(id)) throw new TypeError(`invalid ${what}`);
}

/** Throws TypeError unless `fields` has a non-empty username, an email and text fields only. */
export function checkUserFields(fields: Partial<UserFields>, complete: boolean): void {
  if (typeof fields !== 'object' || (fields as unknown) === null)
    throw new TypeError('user fields must be an object');
  for (const key of USER_FIELDS) {
    const value: unknown = fields[key];
    const required = complete && (key === 'username' || key === 'email' || key === 'groupId');
    if (value === undefined && !required) continue;
    if (typeof value !== 'string') throw new TypeError(`user ${key} must be a string`);
  }
  if (fields.username === '') throw new TypeError('username must not be empty');
  if (fields.groupId === '') throw new TypeError('user groupId must not be empty');
}

/** Whether two users have the same administrator-set fields (usernames compared exactly). */
export function sameUserFields(a: UserFields, b: UserFields): boolean {
  return USER_FIELDS.every((key) => a[key] === b[key]);
}

/**
 * `current` with `change` applied. Under `exactOptionalPropertyTypes` a caller clears an optional
 * field by passing it as `undefined` (cast); username, email and group are never cleared.
 */
export function applyUserChange(current: UserFields, change: Partial<UserFields>): UserFields {
  const next: Partial<UserFields> = {};
  for (const key of USER_FIELDS) {
    const value = key in change ? change[key] : current[key];
    if (value !== undefined) next[key] = value;
  }
  return {
    ...next,
    username: change.username ?? current.username,
    email: change.email ?? current.email,
    groupId: change.groupId ?? current.groupId,
  };
}

/** Only the administrator-set fields of `fields` (dropping anything else a caller passed). */
export function pickUserFields(fields: UserFields): UserFields {
  const next: UserFields = {
    username: fields.username,
    email: fields.email,
    groupId: fields.groupId,
  };
  for (const key of OPTIONAL_USER_FIELDS) {
    const value = fields[key];
    if (value !== undefined) next[key] = value;
  }
  return next;
}

/** Throws TypeError unless `prefix` can name generic users. */
export function checkGenericPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || prefix === '')
    throw new TypeError('generic user prefix must be a non-empty string');
}

/**
 * The lowest `n` >= 1 for which `${prefix}-${n}` is not among `taken` (folded usernames, see
 * {@link foldUsername}); names that are not `prefix-<decimal>` do not matter.
 */
export function lowestFreeGeneric(prefix: string, taken: Iterable<string>): number {
  const head = `${foldUsername(prefix)}-`;
  const used = new Set<number>();
  for (const name of taken) {
    if (!name.startsWith(head)) continue;
    const tail = name.slice(head.length);
    if (/^[1-9][0-9]{0,14}$/.test(tail)) used.add(Number(tail));
  }
  let n = 1;
  while (used.has(n)) n += 1;
  return n;
}

/**
 * Throws TypeError unless `input`'s kind is known, a personal link names its user and a
 * generic link its group.
 */
export function checkNewLink(input: NewEnrollmentToken): EnrollmentLinkKind {
  const kind = input.kind ?? 'single';
  if (!KINDS.includes(kind))
    throw new TypeError(`bad enrollment link kind ${JSON.stringify(kind)}`);
  if (kind === 'personal' && typeof input.userId !== 'string')
    throw new TypeError('a personal link needs its userId');
  if (kind === 'generic' && typeof input.groupId !== 'string')
    throw new TypeError('a generic link needs its groupId');
  if (input.secret !== undefined && typeof input.secret !== 'string')
    throw new TypeError('a kept link secret must be a string');
  return kind;
}

/** Throws TypeError unless `owner` has its ids and a valid time. */
export function checkOwner(owner: EnrollmentOwner): void {
  for (const key of ['enrollmentId', 'userId', 'groupId'] as const)
    if (typeof owner[key] !== 'string' || owner[key] === '')
      throw new TypeError(`owner ${key} must be a non-empty string`);
  if (owner.linkId !== undefined && typeof owner.linkId !== 'string')
    throw new TypeError('owner linkId must be a string');
  if (!(owner.assignedAt instanceof Date) || Number.isNaN(owner.assignedAt.getTime()))
    throw new TypeError('owner assignedAt must be a valid Date');
}

/**
 * What a user's fields may hold (rule M9), checked the same way for the API, the CLI and each
 * CSV row: usernames of the characters most MDMs accept, e-mail addresses of a plain shape,
 * names and free text of bounded length without control characters. Pure functions.
 */

import { ManagementError } from '../errors.js';
import type { GroupTree } from './tree.js';

/** Longest username, name, policy name or organization group reference. */
export const MAX_NAME_LENGTH = 128;
/** Longest e-mail address or Managed Apple Account (RFC 5321's path limit). */
export const MAX_EMAIL_LENGTH = 254;
/** Longest custom field (values for profile variables). */
export const MAX_CUSTOM_LENGTH = 256;

/** Letters, digits and `. _ @ + -`, 1 to 128 characters. */
const USERNAME = /^[A-Za-z0-9._@+-]{1,128}$/;
/** `local@domain.tld`: no whitespace, no second `@`, no characters mail headers treat specially. */
const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/u;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
// eslint-disable-next-line no-control-regex -- custom fields may span lines, nothing else
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

/** The fields an administrator sets on a user, as the API and the CSV name them. */
export type UserField =
  | 'username'
  | 'email'
  | 'firstName'
  | 'lastName'
  | 'groupId'
  | 'policy'
  | 'managedAppleId'
  | 'custom1'
  | 'custom2'
  | 'custom3';

/** Why `value` is not a username, or `undefined` when it is one. */
export function usernameProblem(value: string): string | undefined {
  if (value === '') return 'username is empty';
  if (value.length > MAX_NAME_LENGTH)
    return `username is longer than ${MAX_NAME_LENGTH} characters`;
  if (!USERNAME.test(value)) return 'username may hold only letters, digits and . _ @ + -';
  return undefined;
}

/** Why `value` is not an e-mail address (`what` names the field), or `undefined`. */
export function emailProblem(value: string, what = 'email'): string | undefined {
  if (value === '') return `${what} is empty`;
  if (value.length > MAX_EMAIL_LENGTH)
    return `${what} is longer than ${MAX_EMAIL_LENGTH} characters`;
  if (!EMAIL.test(value)) return `${what} is not an e-mail address`;
  return undefined;
}

/** Why `value` is not a one-line name of at most `max` characters, or `undefined`. */
export function nameProblem(
  value: string,
  what: string,
  max = MAX_NAME_LENGTH,
): string | undefined {
  if (value === '') return `${what} is empty`;
  if (value.length > max) return `${what} is longer than ${max} characters`;
  if (CONTROL.test(value)) return `${what} contains control characters`;
  return undefined;
}

/** Why `value` is not a custom field (line breaks and tabs allowed), or `undefined`. */
export function customProblem(value: string, what: string): string | undefined {
  if (value.length > MAX_CUSTOM_LENGTH)
    return `${what} is longer than ${MAX_CUSTOM_LENGTH} characters`;
  if (CONTROL_EXCEPT_LINES.test(value)) return `${what} contains control characters`;
  return undefined;
}

/**
 * Why `value` cannot be `field` of a user, or `undefined` when it can. `groupId` is checked as a
 * name here; whether the group exists is the caller's business.
 */
export function userFieldProblem(field: UserField, value: string): string | undefined {
  switch (field) {
    case 'username':
      return usernameProblem(value);
    case 'email':
      return emailProblem(value);
    case 'managedAppleId':
      return emailProblem(value, 'managedAppleId');
    case 'custom1':
    case 'custom2':
    case 'custom3':
      return customProblem(value, field);
    default:
      return nameProblem(value, field);
  }
}

/** 404 `ERR_USER_NOT_FOUND`: the same answer for an unknown user and one out of scope. */
export function userNotFound(id: string): ManagementError {
  return new ManagementError('ERR_USER_NOT_FOUND', `no user ${id}`);
}

/** 404 `ERR_GROUP_NOT_FOUND` for a group that is unknown or out of scope. */
export function groupNotFound(groupId: string): ManagementError {
  return new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
    group: groupId,
  });
}

/** Whether `groupId` exists and lies at or below `scope` (the root when absent). */
export function inScope(tree: GroupTree, groupId: string, scope: string | undefined): boolean {
  return tree.get(groupId) !== undefined && tree.isWithin(groupId, scope ?? tree.rootId);
}

/** 409 `ERR_USERNAME_TAKEN`: whoever holds it, wherever (no detail about that user). */
export function usernameTaken(username: string): ManagementError {
  return new ManagementError('ERR_USERNAME_TAKEN', `username ${username} is taken`, {
    field: 'username',
  });
}

/**
 * The rules of policies that need no store: what a policy name and description may be, and the
 * refusals the policy service answers. Removal passwords and whether `never` can be honoured for
 * a profile are the planner's (`delivery/removal-control.ts`).
 */
import { AdminError, ManagementError } from '../errors.js';
import type { PolicyReferences } from '../storage/ports.js';
import { MAX_NAME_LENGTH, nameProblem } from './user-fields.js';

/** Longest policy name (as user and group names). */
export const MAX_POLICY_NAME_LENGTH = MAX_NAME_LENGTH;
/** Longest policy description. */
export const MAX_POLICY_DESCRIPTION_LENGTH = 1024;

/** 400 `ERR_BAD_REQUEST` naming `field` unless `value` is a one-line name of 1 to 128 characters. */
export function checkPolicyName(value: string, field = 'name'): void {
  const problem = nameProblem(value, field, MAX_POLICY_NAME_LENGTH);
  if (problem !== undefined) throw new AdminError('ERR_BAD_REQUEST', problem, { field });
}

/** 400 `ERR_BAD_REQUEST` unless `value` is a description of at most 1024 characters. */
export function checkPolicyDescription(value: string): void {
  if (value.length > MAX_POLICY_DESCRIPTION_LENGTH)
    throw new AdminError(
      'ERR_BAD_REQUEST',
      `description is longer than ${MAX_POLICY_DESCRIPTION_LENGTH} characters`,
      { field: 'description' },
    );
}

/** 404 `ERR_POLICY_NOT_FOUND`. */
export function policyNotFound(id: string): ManagementError {
  return new ManagementError('ERR_POLICY_NOT_FOUND', `no policy ${id}`);
}

/** 409 `ERR_POLICY_NAME_TAKEN`. */
export function policyNameTaken(name: string): ManagementError {
  return new ManagementError('ERR_POLICY_NAME_TAKEN', `a policy named ${name} already exists`, {
    field: 'name',
  });
}

/** 404 `ERR_ASSIGNMENT_NOT_FOUND`. */
export function assignmentNotFound(
  policyId: string,
  profileId: string,
  what = 'is not assigned in',
): ManagementError {
  return new ManagementError(
    'ERR_ASSIGNMENT_NOT_FOUND',
    `profile ${profileId} ${what} policy ${policyId}`,
  );
}

/** 409 `ERR_POLICY_IN_USE` naming what uses the policy, or nothing when nothing does. */
export function checkUnused(policyId: string, refs: PolicyReferences): void {
  if (refs.users + refs.groups + refs.links === 0) return;
  throw new ManagementError(
    'ERR_POLICY_IN_USE',
    `policy ${policyId} is in use by ${refs.users} user(s), ${refs.groups} group(s) as their default policy and ${refs.links} enrollment link(s): change those first`,
  );
}

/** 422 `ERR_REMOVAL_CONTROL` for `never` on a profile no supervised device can take. */
export function removalControlRefused(profileId: string): ManagementError {
  return new ManagementError(
    'ERR_REMOVAL_CONTROL',
    `removal control never needs a supervised device, and no supervised device can take profile ${profileId}`,
    { field: 'removal' },
  );
}

/** 422 `ERR_INTERACTIVE_DISABLED` for an Interactive assignment where A13 forbids it. */
export function interactiveDisabled(groupId: string, policyId: string): ManagementError {
  return new ManagementError(
    'ERR_INTERACTIVE_DISABLED',
    `the Interactive assignment type is disabled at organization group ${groupId}, which owns policy ${policyId} (profile-options.interactiveEnabled)`,
    { group: groupId, field: 'assignmentType' },
  );
}

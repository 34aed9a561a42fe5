/**
 * The changes of the policy service that can reach devices: assigning a profile in a policy
 * (assignment type, A13, removal control S8), removing it, and a group's default policy. Each is
 * previewed (S4, storing nothing) on a dry run, else stored and then carried out through
 * {@link PolicyEffects}.
 */
import { ManagementError } from '../errors.js';
import { decodeProfile } from '../profile/sign.js';
import { profileCompatibility } from '../profile/validate.js';
import type {
  LibraryProfileRecord,
  PolicyAssignmentRecord,
  PolicyRecord,
  RemovalControl,
} from '../storage/ports.js';
import type {
  AssignmentInput,
  PolicyChange,
  PolicyChangeOptions,
  PolicyChangeResult,
} from './delivery/types.js';
import { removalControlPossible } from './delivery/removal-control.js';
import { PROFILE_OPTIONS_PAGE } from './pages.js';
import type { PolicyContext } from './policies.js';
import {
  assignmentNotFound,
  interactiveDisabled,
  policyNotFound,
  removalControlRefused,
} from './policies-rules.js';
import { policyUnknown } from './policies-ref.js';

/** The assignment without its removal password (what every view gets). */
export function withoutPassword(a: PolicyAssignmentRecord): PolicyAssignmentRecord {
  const { removalPassword: _secret, ...rest } = a;
  return rest;
}

/** The policy `id`; 404 `ERR_POLICY_NOT_FOUND`. */
export async function existingPolicy(ctx: PolicyContext, id: string): Promise<PolicyRecord> {
  const found = await ctx.store.findPolicy(id);
  if (found === undefined) throw policyNotFound(id);
  return found;
}

/** The stored assignment of `profileId` in `policyId` (password included), or `undefined`. */
export async function findAssignment(
  ctx: PolicyContext,
  policyId: string,
  profileId: string,
): Promise<PolicyAssignmentRecord | undefined> {
  const all = await ctx.store.listAssignments(policyId);
  return all.find((a) => a.profileId === profileId);
}

/** Whether the effective `profile-options` at `groupId` allow Interactive profiles (A13). */
export async function interactiveAllowed(ctx: PolicyContext, groupId: string): Promise<boolean> {
  const effective = await ctx.groups.effectiveSettings(groupId, PROFILE_OPTIONS_PAGE.id);
  return effective.values.interactiveEnabled === true;
}

/** 422 `ERR_REMOVAL_CONTROL` unless some supervised device can take the profile's latest version. */
async function requireNeverPossible(ctx: PolicyContext, profile: LibraryProfileRecord) {
  const version = await ctx.store.findProfileVersion(profile.id, profile.latestVersion);
  if (version === undefined)
    throw new ManagementError('ERR_PROFILE_NOT_FOUND', `profile ${profile.id} has no version`);
  const compatibility = profileCompatibility(decodeProfile(version.content));
  if (!removalControlPossible(compatibility)) throw removalControlRefused(profile.id);
}

/** Previews `change` on a dry run, else runs `write` and applies it. */
async function carryOut<T>(
  ctx: PolicyContext,
  change: PolicyChange,
  options: PolicyChangeOptions,
  write: () => Promise<T | undefined>,
): Promise<PolicyChangeResult<T>> {
  const limit = options.limit === undefined ? {} : { limit: options.limit };
  if (options.dryRun === true) return { report: await ctx.effects.preview(change, limit) };
  const value = await write();
  const report = await ctx.effects.apply(change, limit);
  return value === undefined ? { report } : { value, report };
}

/** The password an assignment keeps or gets: kept while it stays `with-authorization`. */
function passwordFor(
  ctx: PolicyContext,
  removal: RemovalControl,
  current: PolicyAssignmentRecord | undefined,
): string | undefined {
  if (removal !== 'with-authorization') return undefined;
  if (current?.removal === 'with-authorization' && current.removalPassword !== undefined)
    return current.removalPassword;
  return ctx.password();
}

/**
 * See `PolicyService.assign`. A new assignment defaults to the library profile's assignment type
 * and removal `always`; a re-assignment keeps what the input leaves out. A13 is judged only when
 * the result is newly Interactive (an existing Interactive assignment stays as it is).
 */
export async function assignProfile(
  ctx: PolicyContext,
  policyId: string,
  profileId: string,
  input: AssignmentInput,
  options: PolicyChangeOptions = {},
): Promise<PolicyChangeResult<PolicyAssignmentRecord>> {
  const policy = await existingPolicy(ctx, policyId);
  const profile = await ctx.store.findLibraryProfile(profileId);
  if (profile === undefined)
    throw new ManagementError('ERR_PROFILE_NOT_FOUND', `no profile ${profileId}`);
  const current = await findAssignment(ctx, policyId, profileId);
  const assignmentType = input.assignmentType ?? current?.assignmentType ?? profile.assignmentType;
  const removal = input.removal ?? current?.removal ?? 'always';
  const newlyInteractive = current?.assignmentType !== 'interactive';
  if (assignmentType === 'interactive' && newlyInteractive)
    if (!(await interactiveAllowed(ctx, policy.groupId)))
      throw interactiveDisabled(policy.groupId, policy.id);
  if (removal === 'never') await requireNeverPossible(ctx, profile);
  const change: PolicyChange = { kind: 'assign', policyId, profileId, assignmentType, removal };
  return carryOut(ctx, change, options, async () => {
    const at = ctx.clock();
    const password = passwordFor(ctx, removal, current);
    const record: PolicyAssignmentRecord = {
      ...{ policyId, profileId, assignmentType, removal },
      ...(password === undefined ? {} : { removalPassword: password }),
      ...{ createdAt: current?.createdAt ?? at, updatedAt: at },
    };
    await ctx.store.putAssignment(record);
    return withoutPassword(record);
  });
}

/** See `PolicyService.unassign`. */
export async function unassignProfile(
  ctx: PolicyContext,
  policyId: string,
  profileId: string,
  options: PolicyChangeOptions = {},
): Promise<PolicyChangeResult<never>> {
  await existingPolicy(ctx, policyId);
  if ((await findAssignment(ctx, policyId, profileId)) === undefined)
    throw assignmentNotFound(policyId, profileId);
  const change: PolicyChange = { kind: 'unassign', policyId, profileId };
  return carryOut<never>(ctx, change, options, async () => {
    if (!(await ctx.store.deleteAssignment(policyId, profileId)))
      throw assignmentNotFound(policyId, profileId);
    return undefined;
  });
}

/** See `PolicyService.removalPassword`. */
export async function removalPasswordOf(
  ctx: PolicyContext,
  policyId: string,
  profileId: string,
): Promise<string> {
  await existingPolicy(ctx, policyId);
  const found = await findAssignment(ctx, policyId, profileId);
  if (found?.removal !== 'with-authorization' || found.removalPassword === undefined)
    throw assignmentNotFound(policyId, profileId, 'has no removal password in');
  return found.removalPassword;
}

/**
 * See `PolicyService.setGroupPolicy`: 404 `ERR_GROUP_NOT_FOUND` for an unknown group, 422
 * `ERR_POLICY_UNKNOWN` (field `policyId`) for an unknown policy.
 */
export async function setGroupDefault(
  ctx: PolicyContext,
  groupId: string,
  policyId: string | undefined,
  options: PolicyChangeOptions = {},
): Promise<PolicyChangeResult<never>> {
  if ((await ctx.groups.tree()).get(groupId) === undefined)
    throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
      group: groupId,
    });
  if (policyId !== undefined && (await ctx.store.findPolicy(policyId)) === undefined)
    throw policyUnknown(policyId, 'policyId');
  const change: PolicyChange = {
    kind: 'group-policy',
    groupId,
    ...(policyId === undefined ? {} : { policyId }),
  };
  return carryOut<never>(ctx, change, options, async () => {
    await ctx.store.setGroupPolicy(groupId, policyId);
    return undefined;
  });
}

/**
 * Policies (rules M5, S4, S8, A13): named sets of library profiles owned by organization groups,
 * each profile with an assignment type (Auto, Optional, Interactive) and a removal control, and
 * the groups' default policies. A user's one effective policy is their own, else the nearest
 * group default up the tree. Every change that can reach devices is previewed or applied through
 * {@link PolicyEffects}; the store is written first, then delivery carries the change out.
 */
import { randomUUID } from 'node:crypto';
import { ManagementError } from '../errors.js';
import type { EnrollmentLinkStore, ManagementStorage, PolicyRecord } from '../storage/ports.js';
import { generateRemovalPassword } from './delivery/removal-control.js';
import { loadPolicySnapshot } from './delivery/snapshot.js';
import type { PolicyEffects, PolicyService } from './delivery/types.js';
import type { GroupService } from './groups-service.js';
import {
  assignProfile,
  existingPolicy,
  interactiveAllowed,
  removalPasswordOf,
  setGroupDefault,
  unassignProfile,
  withoutPassword,
} from './policies-assign.js';
import { readEffectivePolicy, resolvePolicyRef } from './policies-ref.js';
import {
  checkPolicyDescription,
  checkPolicyName,
  checkUnused,
  interactiveDisabled,
  policyNameTaken,
  policyNotFound,
} from './policies-rules.js';

/** What {@link createPolicyService} needs. */
export interface PolicyServiceDeps {
  store: ManagementStorage & EnrollmentLinkStore;
  /** The group tree and effective `profile-options` (A13). */
  groups: Pick<GroupService, 'tree' | 'effectiveSettings'>;
  /** Delivery: previews and applies every change that can reach devices. */
  effects: PolicyEffects;
  clock?: () => Date;
  /** A fresh UUID for policy ids; default `crypto.randomUUID`. */
  uuid?: () => string;
  /** A fresh removal password for `with-authorization`; default 24 unambiguous random characters. */
  password?: () => string;
}

/** What every policy operation works with. */
export interface PolicyContext {
  store: PolicyServiceDeps['store'];
  groups: PolicyServiceDeps['groups'];
  effects: PolicyEffects;
  clock: () => Date;
  password: () => string;
}

async function requireGroup(ctx: PolicyContext, groupId: string): Promise<void> {
  if ((await ctx.groups.tree()).get(groupId) === undefined)
    throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
      group: groupId,
    });
}

/** A13 again when a policy moves: its Interactive assignments must be allowed at the new owner. */
async function checkMove(ctx: PolicyContext, policy: PolicyRecord, groupId: string) {
  if (groupId === policy.groupId) return;
  const assignments = await ctx.store.listAssignments(policy.id);
  if (!assignments.some((a) => a.assignmentType === 'interactive')) return;
  if (!(await interactiveAllowed(ctx, groupId))) throw interactiveDisabled(groupId, policy.id);
}

async function createPolicy(
  ctx: PolicyContext,
  id: string,
  input: { name: string; description?: string; groupId: string },
): Promise<PolicyRecord> {
  checkPolicyName(input.name);
  if (input.description !== undefined) checkPolicyDescription(input.description);
  await requireGroup(ctx, input.groupId);
  if (await ctx.store.findPolicyByName(input.name)) throw policyNameTaken(input.name);
  const at = ctx.clock();
  const record: PolicyRecord = {
    ...{ id, name: input.name, groupId: input.groupId, createdAt: at, updatedAt: at },
    ...(input.description === undefined ? {} : { description: input.description }),
  };
  if (!(await ctx.store.createPolicy(record))) throw policyNameTaken(input.name);
  return record;
}

async function updatePolicy(
  ctx: PolicyContext,
  id: string,
  change: { name?: string; description?: string | null; groupId?: string },
): Promise<PolicyRecord> {
  if (change.name !== undefined) checkPolicyName(change.name);
  if (typeof change.description === 'string') checkPolicyDescription(change.description);
  const current = await existingPolicy(ctx, id);
  if (change.groupId !== undefined) {
    await requireGroup(ctx, change.groupId);
    await checkMove(ctx, current, change.groupId);
  }
  const updated = await ctx.store.updatePolicy(id, change, ctx.clock());
  if (updated === 'name-taken') throw policyNameTaken(change.name ?? current.name);
  if (updated === undefined) throw policyNotFound(id);
  return updated;
}

async function deletePolicy(ctx: PolicyContext, id: string): Promise<void> {
  await existingPolicy(ctx, id);
  checkUnused(id, await ctx.store.countPolicyReferences(id));
  if (!(await ctx.store.deletePolicy(id))) throw policyNotFound(id);
}

/** Creates the policy service over the admin store, the group service and delivery's effects. */
export function createPolicyService(deps: PolicyServiceDeps): PolicyService {
  const uuid = deps.uuid ?? randomUUID;
  const ctx: PolicyContext = {
    ...{ store: deps.store, groups: deps.groups, effects: deps.effects },
    clock: deps.clock ?? (() => new Date()),
    password: deps.password ?? generateRemovalPassword,
  };
  const { store } = deps;
  return {
    create: (input) => createPolicy(ctx, `pol_${uuid().replace(/-/g, '')}`, input),
    update: (id, change) => updatePolicy(ctx, id, change),
    delete: (id) => deletePolicy(ctx, id),
    get: (id) => existingPolicy(ctx, id),
    async resolve(ref) {
      return resolvePolicyRef(store, await deps.groups.tree(), ref);
    },
    list: (options) => store.listPolicies(options),
    async assignments(policyId) {
      await existingPolicy(ctx, policyId);
      return (await store.listAssignments(policyId)).map(withoutPassword);
    },
    assign: (policyId, profileId, input, options) =>
      assignProfile(ctx, policyId, profileId, input, options),
    unassign: (policyId, profileId, options) => unassignProfile(ctx, policyId, profileId, options),
    removalPassword: (policyId, profileId) => removalPasswordOf(ctx, policyId, profileId),
    setGroupPolicy: (groupId, policyId, options) =>
      setGroupDefault(ctx, groupId, policyId, options),
    async effectivePolicy(user) {
      return readEffectivePolicy(store, await deps.groups.tree(), user);
    },
    async snapshot() {
      return loadPolicySnapshot(store, await deps.groups.tree());
    },
  };
}

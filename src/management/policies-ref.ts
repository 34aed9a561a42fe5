/**
 * How users, links and groups name policies: a reference (a policy id or its name) resolved to
 * the stored policy within what the caller may see (A12), a user's effective policy read straight
 * from the store, and policy names for the views that show them.
 */
import { ManagementError } from '../errors.js';
import type { PolicyRecord, PolicyStore, UserRecord } from '../storage/ports.js';
import { effectivePolicy } from './delivery/snapshot.js';
import type { EffectivePolicy } from './delivery/types.js';
import type { GroupTree } from './tree.js';

/** What resolving a policy reference reads. */
export type PolicyRefStore = Pick<PolicyStore, 'findPolicy' | 'findPolicyByName'>;

/** 422 `ERR_POLICY_UNKNOWN` naming `ref` (and `field`, default `policy`). */
export function policyUnknown(ref: string, field = 'policy'): ManagementError {
  return new ManagementError('ERR_POLICY_UNKNOWN', `no policy ${ref}`, { field });
}

/**
 * Whether a caller scoped at `scope` sees a policy owned by `groupId` (A12): the owner is at,
 * below or above the scope. Every policy when `scope` is absent.
 */
export function policyVisible(tree: GroupTree, groupId: string, scope?: string): boolean {
  if (scope === undefined) return true;
  return tree.isWithin(groupId, scope) || tree.isWithin(scope, groupId);
}

/** The policy `ref` names (its id first, else its name case-insensitively), or `undefined`. */
export async function findPolicyRef(
  store: PolicyRefStore,
  ref: string,
): Promise<PolicyRecord | undefined> {
  return (await store.findPolicy(ref)) ?? (await store.findPolicyByName(ref));
}

/**
 * The policy `ref` names when a caller scoped at `scope` sees it; 422 `ERR_POLICY_UNKNOWN`
 * (naming `field`) when it is unknown or out of sight.
 */
export async function resolvePolicyRef(
  store: PolicyRefStore,
  tree: GroupTree,
  ref: string,
  options: { scope?: string | undefined; field?: string } = {},
): Promise<PolicyRecord> {
  const found = await findPolicyRef(store, ref);
  if (found === undefined || !policyVisible(tree, found.groupId, options.scope))
    throw policyUnknown(ref, options.field);
  return found;
}

/** What {@link readEffectivePolicy} reads. */
export type EffectivePolicyStore = Pick<PolicyStore, 'findPolicy' | 'listGroupPolicies'>;

/**
 * A user's effective policy read from the store (their own, else the nearest group default up
 * `tree`), without loading every policy: one read of the group defaults and one per policy named
 * on the way.
 */
export async function readEffectivePolicy(
  store: EffectivePolicyStore,
  tree: GroupTree,
  user: UserRecord,
): Promise<EffectivePolicy> {
  const policies = new Map<string, PolicyRecord>();
  const groupPolicies = await store.listGroupPolicies();
  const wanted = [
    ...(user.policy === undefined ? [] : [user.policy]),
    ...tree
      .chain(user.groupId)
      .map((g) => groupPolicies.get(g))
      .filter((id): id is string => id !== undefined),
  ];
  for (const id of new Set(wanted)) {
    const found = await store.findPolicy(id);
    if (found) policies.set(id, found);
  }
  const snapshot = { tree, policies, groupPolicies, assignments: new Map(), profiles: new Map() };
  return effectivePolicy(snapshot, user);
}

/** The names of the policies `ids` name, by id (an unknown id is left out). */
export async function policyNames(
  store: Pick<PolicyStore, 'findPolicy'>,
  ids: Iterable<string | undefined>,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of new Set(ids)) {
    if (id === undefined || names.has(id)) continue;
    const found = await store.findPolicy(id);
    if (found) names.set(id, found.name);
  }
  return names;
}

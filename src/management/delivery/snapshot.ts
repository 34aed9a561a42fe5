/**
 * Policies as one consistent snapshot, and the pure rules over it: a user's one effective
 * policy (their own, else the nearest group's default up the tree), the profiles it assigns,
 * a proposed change laid over the snapshot (for previews), and which enrollments a change can
 * reach (as a store filter).
 */
import type {
  LibraryProfileRecord,
  OwnedEnrollmentFilter,
  PolicyAssignmentRecord,
  PolicyRecord,
  PolicyStore,
  ProfileLibraryStore,
  UserRecord,
} from '../../storage/ports.js';
import type { GroupTree } from '../tree.js';
import type { DesiredProfile, EffectivePolicy, PolicyChange, PolicySnapshot } from './types.js';

/** What {@link loadPolicySnapshot} reads. */
export type SnapshotStore = Pick<
  PolicyStore,
  'listPolicies' | 'listAssignments' | 'listGroupPolicies'
> &
  Pick<ProfileLibraryStore, 'findLibraryProfile'>;

/** Reads every policy, assignment, group default and assigned profile over `tree`. */
export async function loadPolicySnapshot(
  store: SnapshotStore,
  tree: GroupTree,
): Promise<PolicySnapshot> {
  const policies = new Map<string, PolicyRecord>();
  let cursor: string | undefined;
  do {
    const page = await store.listPolicies({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const p of page.items) policies.set(p.id, p);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const assignments = new Map<string, readonly PolicyAssignmentRecord[]>();
  const profiles = new Map<string, LibraryProfileRecord>();
  for (const id of policies.keys()) {
    const list = await store.listAssignments(id);
    assignments.set(id, list);
    for (const a of list) {
      if (profiles.has(a.profileId)) continue;
      const profile = await store.findLibraryProfile(a.profileId);
      if (profile) profiles.set(a.profileId, profile);
    }
  }
  const groupPolicies = await store.listGroupPolicies();
  return { tree, policies, assignments, groupPolicies, profiles };
}

/** The nearest group at or above `groupId` with a default policy, or `undefined`. */
function nearestDefault(snapshot: PolicySnapshot, groupId: string) {
  for (const id of snapshot.tree.chain(groupId)) {
    const policyId = snapshot.groupPolicies.get(id);
    const policy = policyId === undefined ? undefined : snapshot.policies.get(policyId);
    if (policy) return { groupId: id, policy };
  }
  return undefined;
}

/**
 * A user's one effective policy: their own if set (and it exists), else the default policy of
 * the nearest group up the tree from the user's group, else none.
 */
export function effectivePolicy(snapshot: PolicySnapshot, user: UserRecord): EffectivePolicy {
  if (user.policy !== undefined) {
    const own = snapshot.policies.get(user.policy);
    if (own) return { policy: own, source: { kind: 'user' } };
  }
  const found = nearestDefault(snapshot, user.groupId);
  if (found) return { policy: found.policy, source: { kind: 'group', groupId: found.groupId } };
  return { source: { kind: 'none' } };
}

/** Every profile the user's effective policy assigns (all assignment types), in profile id order. */
export function desiredProfiles(snapshot: PolicySnapshot, user: UserRecord): DesiredProfile[] {
  const { policy } = effectivePolicy(snapshot, user);
  if (!policy) return [];
  const out: DesiredProfile[] = [];
  for (const assignment of snapshot.assignments.get(policy.id) ?? []) {
    const profile = snapshot.profiles.get(assignment.profileId);
    if (profile) out.push({ policy, assignment, profile });
  }
  return out;
}

/**
 * The groups whose effective default policy is `policyId` (the nearest default at or above them
 * is that policy): their users without a policy of their own get it.
 */
export function groupsWithDefault(snapshot: PolicySnapshot, policyId: string): string[] {
  return snapshot.tree
    .groups()
    .filter((g) => nearestDefault(snapshot, g.id)?.policy.id === policyId)
    .map((g) => g.id);
}

function withAssignment(
  snapshot: PolicySnapshot,
  policyId: string,
  profileId: string,
  next: PolicyAssignmentRecord | undefined,
  profile: LibraryProfileRecord | undefined,
): PolicySnapshot {
  const assignments = new Map(snapshot.assignments);
  const kept = (assignments.get(policyId) ?? []).filter((a) => a.profileId !== profileId);
  const list = next ? [...kept, next].sort((a, b) => a.profileId.localeCompare(b.profileId)) : kept;
  assignments.set(policyId, list);
  const profiles = new Map(snapshot.profiles);
  if (profile) profiles.set(profile.id, profile);
  return { ...snapshot, assignments, profiles };
}

/**
 * `snapshot` with `change` laid over it, as the store will hold it once the change is written
 * (for previews); `profile` is the library record an `assign` names. Users are not part of a
 * snapshot: a `user-policy` change is laid over the user by {@link userAfter}.
 */
export function applyChange(
  snapshot: PolicySnapshot,
  change: PolicyChange,
  at: Date,
  profile?: LibraryProfileRecord,
): PolicySnapshot {
  switch (change.kind) {
    case 'assign': {
      const current = snapshot.assignments
        .get(change.policyId)
        ?.find((a) => a.profileId === change.profileId);
      const next: PolicyAssignmentRecord = {
        ...{ policyId: change.policyId, profileId: change.profileId },
        ...{ assignmentType: change.assignmentType, removal: change.removal },
        createdAt: current?.createdAt ?? at,
        updatedAt: at,
      };
      return withAssignment(snapshot, change.policyId, change.profileId, next, profile);
    }
    case 'unassign':
      return withAssignment(snapshot, change.policyId, change.profileId, undefined, undefined);
    case 'group-policy': {
      const groupPolicies = new Map(snapshot.groupPolicies);
      if (change.policyId === undefined) groupPolicies.delete(change.groupId);
      else groupPolicies.set(change.groupId, change.policyId);
      return { ...snapshot, groupPolicies };
    }
    case 'profile-version': {
      const current = snapshot.profiles.get(change.profileId);
      if (!current) return snapshot;
      const profiles = new Map(snapshot.profiles);
      profiles.set(change.profileId, { ...current, latestVersion: change.version });
      return { ...snapshot, profiles };
    }
    default:
      return snapshot;
  }
}

/** The user as a `user-policy` change leaves them (other changes leave users alone). */
export function userAfter(user: UserRecord, change: PolicyChange): UserRecord {
  if (change.kind !== 'user-policy' || change.userId !== user.id) return user;
  const { policy: _old, ...rest } = user;
  return change.policyId === undefined ? rest : { ...rest, policy: change.policyId };
}

/**
 * The owned enrollments a change can reach, as a store filter: the union over the snapshots
 * before and after it, so devices that lose a policy are reached too. A `profile-version` change
 * reaches the devices that have the profile, which the delivery service reads from its records
 * (this returns `undefined` for it).
 */
export function reachOf(
  before: PolicySnapshot,
  after: PolicySnapshot,
  change: PolicyChange,
): OwnedEnrollmentFilter | undefined {
  const byPolicy = (ids: readonly string[]): OwnedEnrollmentFilter => {
    const groups = new Set<string>();
    for (const s of [before, after])
      for (const id of ids) for (const g of groupsWithDefault(s, id)) groups.add(g);
    return { userPolicyIds: ids, groupsWithoutUserPolicy: [...groups] };
  };
  switch (change.kind) {
    case 'assign':
    case 'unassign':
      return byPolicy([change.policyId]);
    case 'group-policy': {
      // Everyone under the group may change: their nearest default is at or below it, or above.
      const groups = before.tree.subtree(change.groupId);
      return { groupsWithoutUserPolicy: groups };
    }
    case 'user-policy':
      return { userIds: [change.userId] };
    case 'users':
      return { userIds: change.userIds };
    case 'groups':
      return { groupIds: change.groupIds };
    case 'profile-version':
      return undefined;
  }
}

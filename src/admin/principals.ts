/**
 * Administrators' scope (rules A4 and A12): who may see and who may change what an organization
 * group owns. A caller is an administrator (role and scope group) seen through one API key
 * (read or write scope); the narrower of the two wins.
 */
import { ManagementError } from '../errors.js';
import type { GroupTree } from '../management/tree.js';
import {
  ROOT_GROUP_ID,
  type ApiKeyScope,
  type PrincipalRecord,
} from '../storage/ports.js';

/** Who is calling: the administrator and the scope of the key it called with. */
export interface Caller {
  principal: PrincipalRecord;
  keyScope: ApiKeyScope;
}

/** What a caller wants to do with something a group owns. */
export type Access = 'read' | 'write';

/** Whether the caller may change anything at all: a full administrator with a write key. */
export function mayWrite(caller: Caller): boolean {
  return caller.principal.role === 'full' && caller.keyScope === 'write';
}

/** Whether the caller's scope is the root group, so it may see and manage everything. */
export function isGlobalCaller(caller: Caller): boolean {
  return caller.principal.groupId === ROOT_GROUP_ID;
}

/**
 * Whether the caller sees what `groupId` owns (A12): the owner is the caller's scope group, lies
 * below it, or is one of its ancestors (what an ancestor owns reaches the caller's groups).
 */
export function canSee(tree: GroupTree, caller: Caller, groupId: string): boolean {
  const scope = caller.principal.groupId;
  return tree.isWithin(groupId, scope) || tree.isWithin(scope, groupId);
}

/** Whether the caller may change what `groupId` owns (A4, A12): a writer scoped at it or above. */
export function canEdit(tree: GroupTree, caller: Caller, groupId: string): boolean {
  return mayWrite(caller) && tree.isWithin(groupId, caller.principal.groupId);
}

/**
 * Throws unless the caller may `access` what `groupId` owns: 404 `ERR_GROUP_NOT_FOUND` when the
 * group is unknown or out of the caller's sight (its existence is not revealed), 403
 * `ERR_ADMIN_SCOPE` naming the caller's scope when it may see but not change it.
 */
export function authorizeGroup(
  tree: GroupTree,
  caller: Caller,
  groupId: string,
  access: Access,
): void {
  if (tree.get(groupId) === undefined || !canSee(tree, caller, groupId))
    throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
      group: groupId,
    });
  if (access === 'write' && !canEdit(tree, caller, groupId))
    throw new ManagementError(
      'ERR_ADMIN_SCOPE',
      mayWrite(caller)
        ? `organization group ${groupId} is outside this administrator's scope (${caller.principal.groupId})`
        : 'this administrator or API key may only read',
      { group: groupId },
    );
}

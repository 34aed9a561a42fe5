/**
 * Administrators' scope (rules A4 and A12): who may see and who may change what an organization
 * group owns. A caller is an administrator (role and scope group) seen through one API key
 * (read or write scope); the narrower of the two wins.
 */
import { ManagementError } from '../errors.js';
import type { GroupTree } from '../management/tree.js';
import {
  OWNER_PRINCIPAL_ID,
  ROOT_GROUP_ID,
  type AdminRole,
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

/** 404 `ERR_ADMIN_NOT_FOUND`: the same answer for an unknown administrator and a hidden one. */
function notFound(id: string): ManagementError {
  return new ManagementError('ERR_ADMIN_NOT_FOUND', `no administrator ${id}`);
}

/**
 * Returns `target` when the caller may `access` it, judged by its scope group as an object that
 * group owns (A12): 404 `ERR_ADMIN_NOT_FOUND` when unknown or out of sight (existence is not
 * revealed), 403 `ERR_ADMIN_SCOPE` when visible but not editable (an ancestor's administrator,
 * or a caller that may only read).
 */
export function authorizeAdmin(
  tree: GroupTree,
  caller: Caller,
  id: string,
  target: PrincipalRecord | undefined,
  access: Access,
): PrincipalRecord {
  if (target === undefined || tree.get(target.groupId) === undefined) throw notFound(id);
  if (!canSee(tree, caller, target.groupId)) throw notFound(id);
  authorizeGroup(tree, caller, target.groupId, access);
  return target;
}

/** Throws 409 `ERR_ADMIN_DISABLED` when `target` is disabled: a disabled administrator is final. */
function assertActive(target: PrincipalRecord): void {
  if (target.disabledAt !== undefined)
    throw new ManagementError('ERR_ADMIN_DISABLED', `administrator ${target.id} is disabled`);
}

/**
 * Throws unless the caller may change `target` (already authorized for write) with `change`:
 * 409 `ERR_ADMIN_OWNER` for the owner (immutable), 409 `ERR_ADMIN_DISABLED` for a disabled one,
 * 404/403 when the new scope group is out of sight or not editable (nobody scopes an
 * administrator above their own scope), 409 `ERR_ADMIN_SELF` when a caller changes its own role
 * or scope (another administrator must).
 */
export function checkAdminChange(
  tree: GroupTree,
  caller: Caller,
  target: PrincipalRecord,
  change: { role?: AdminRole; groupId?: string },
): void {
  if (target.id === OWNER_PRINCIPAL_ID)
    throw new ManagementError('ERR_ADMIN_OWNER', 'the owner administrator cannot be changed');
  assertActive(target);
  if (change.groupId !== undefined) authorizeGroup(tree, caller, change.groupId, 'write');
  const moves =
    (change.role !== undefined && change.role !== target.role) ||
    (change.groupId !== undefined && change.groupId !== target.groupId);
  if (moves && target.id === caller.principal.id)
    throw new ManagementError(
      'ERR_ADMIN_SELF',
      "an administrator's own role and scope are changed by another administrator",
    );
}

/**
 * Throws unless the caller may disable `target` (already authorized for write): 409
 * `ERR_ADMIN_OWNER` for the owner, 409 `ERR_ADMIN_SELF` for the caller itself, 409
 * `ERR_ADMIN_DISABLED` when it already is.
 */
export function checkAdminDisable(caller: Caller, target: PrincipalRecord): void {
  if (target.id === OWNER_PRINCIPAL_ID)
    throw new ManagementError('ERR_ADMIN_OWNER', 'the owner administrator cannot be disabled');
  if (target.id === caller.principal.id)
    throw new ManagementError(
      'ERR_ADMIN_SELF',
      'an administrator is disabled by another administrator',
    );
  assertActive(target);
}

/**
 * Throws unless `target` may hold a new key of `scope`: 409 `ERR_ADMIN_DISABLED` when disabled,
 * 422 `ERR_ADMIN_READ_ONLY` (field `scope`) for a write key of a read-only administrator. Used by
 * the API and the CLI alike.
 */
export function checkKeyScope(target: PrincipalRecord, scope: ApiKeyScope): void {
  assertActive(target);
  if (scope === 'write' && target.role !== 'full')
    throw new ManagementError(
      'ERR_ADMIN_READ_ONLY',
      `administrator ${target.id} is read-only: its keys may only read`,
      { field: 'scope' },
    );
}

/**
 * Throws unless the caller may create a key of `scope` for `target` (already authorized for
 * write): {@link checkKeyScope}, and 409 `ERR_ADMIN_OWNER` when someone else asks for one of the
 * owner's keys (nobody acts as the owner but the owner).
 */
export function checkKeyFor(caller: Caller, target: PrincipalRecord, scope: ApiKeyScope): void {
  if (target.id === OWNER_PRINCIPAL_ID && caller.principal.id !== OWNER_PRINCIPAL_ID)
    throw new ManagementError('ERR_ADMIN_OWNER', "only the owner creates the owner's keys");
  checkKeyScope(target, scope);
}

/**
 * Throws unless the caller may list `target`'s keys (already authorized for read): its own, or
 * an administrator scoped at or below the caller's scope; 403 `ERR_ADMIN_SCOPE` otherwise.
 */
export function checkKeyListing(tree: GroupTree, caller: Caller, target: PrincipalRecord): void {
  if (target.id === caller.principal.id) return;
  if (!tree.isWithin(target.groupId, caller.principal.groupId))
    throw new ManagementError(
      'ERR_ADMIN_SCOPE',
      `administrator ${target.id} is outside this administrator's scope (${caller.principal.groupId})`,
      { group: target.groupId },
    );
}

/**
 * Reading what organization groups own, as a scoped caller sees it (A12): a caller sees records
 * owned at, below or above its scope group. Shared by the routes over group-owned records
 * (policies, library profiles): one page of what the caller sees, and one record or a 404.
 */
import { authorizeGroup, canSee, isGlobalCaller, type Caller } from '../../../admin/principals.js';
import type { GroupTree } from '../../../management/tree.js';
import type { Page } from '../../../storage/ports.js';
import type { AdminApiDeps } from '../route.js';
import { listWithCursor } from '../validate.js';
import { cursorOf } from './enrollments.js';

/** Owners whose records the caller sees (A12); `undefined` for a root-scoped caller (all). */
export function visibleOwners(tree: GroupTree, caller: Caller): string[] | undefined {
  if (isGlobalCaller(caller)) return undefined;
  const scope = caller.principal.groupId;
  return [...new Set([...tree.subtree(scope), ...tree.chain(scope)])];
}

/** The storage paging options of a page query: `limit` (default 100) and the client's cursor. */
export function pagingOf(query: { limit?: string | undefined; cursor?: string | undefined }): {
  limit: number;
  cursor?: string;
} {
  return { limit: Number(query.limit ?? 100), ...cursorOf(query) };
}

/** The JSON body of a page: `items` and `nextCursor` (`null` on the last page). */
export function pageJson<T, V>(page: Page<T>, view: (item: T) => V) {
  return { items: page.items.map(view), nextCursor: page.nextCursor ?? null };
}

/**
 * A page of the records the caller sees: those owned by `query.groupId` (which the caller must
 * be able to read: 404/403 otherwise) or else by every group it sees. `list` is the store's
 * list call; a foreign cursor is `ERR_BAD_REQUEST`.
 */
export async function listOwned<T>(
  deps: Pick<AdminApiDeps, 'groups'>,
  caller: Caller,
  query: { groupId?: string | undefined; limit?: string | undefined; cursor?: string | undefined },
  list: (options: { limit: number; cursor?: string; groupIds?: string[] }) => Promise<Page<T>>,
): Promise<Page<T>> {
  const tree = await deps.groups.tree();
  const { groupId } = query;
  if (groupId !== undefined) authorizeGroup(tree, caller, groupId, 'read');
  const owners = groupId === undefined ? visibleOwners(tree, caller) : [groupId];
  const paging = pagingOf(query);
  return listWithCursor(paging, () =>
    list({ ...paging, ...(owners === undefined ? {} : { groupIds: owners }) }),
  );
}

/**
 * A group-owned record the caller sees, with the group tree: `notFound()` is thrown when it is
 * absent or out of sight (as if it did not exist), and for `write` the caller must be able to
 * change its owner (403 `ERR_ADMIN_SCOPE` otherwise).
 */
export async function findVisibleOwned<T extends { groupId: string }>(
  deps: Pick<AdminApiDeps, 'groups'>,
  caller: Caller,
  access: 'read' | 'write',
  find: () => Promise<T | undefined>,
  notFound: () => Error,
): Promise<{ record: T; tree: GroupTree }> {
  const [record, tree] = await Promise.all([find(), deps.groups.tree()]);
  if (record === undefined || !canSee(tree, caller, record.groupId)) throw notFound();
  if (access === 'write') authorizeGroup(tree, caller, record.groupId, 'write');
  return { record, tree };
}

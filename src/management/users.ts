/**
 * Users (rule M9): people an organization group owns, each with an e-mail address, an optional
 * Managed Apple Account, policy and three custom fields. An administrator sees and changes only
 * the users of its scope group and the groups below it (people's data does not flow down from
 * ancestors); anything else answers as if it did not exist. CSV import is in `user-import.ts`.
 */
import { ManagementError } from '../errors.js';
import type { Page, UserFields, UserRecord, UserStore } from '../storage/ports.js';
import type { GroupService } from './groups-service.js';
import { policyNames, resolvePolicyRef, type PolicyRefStore } from './policies-ref.js';
import type { GroupTree } from './tree.js';
import { importUsers, type UserImportOptions, type UserImportReport } from './user-import.js';
import {
  groupNotFound,
  inScope,
  userFieldProblem,
  userNotFound,
  usernameTaken,
  type UserField,
} from './user-fields.js';

/** The optional fields of a user, which a change may clear with `null`. */
export type OptionalUserField =
  'firstName' | 'lastName' | 'policy' | 'managedAppleId' | 'custom1' | 'custom2' | 'custom3';

/**
 * A new user: what `POST /api/v1/users` and `orchard users add` take. `policy` names a policy by
 * id or name (stored as its id).
 */
export type UserInput = UserFields;

/** A change of a user: the fields given change, `null` clears an optional one. */
export type UserPatch = { username?: string; email?: string; groupId?: string } & {
  [K in OptionalUserField]?: string | null;
};

/** Whose users a call may touch. */
export interface UserScope {
  /**
   * The caller's scope group: only users of it and the groups below it exist for the call.
   * Default: every group (the offline CLI).
   */
  scope?: string;
}

/** What {@link createUserService} works on. */
export interface UserServiceDeps {
  /** Users, and the policies a user's `policy` names (by id or name). */
  store: UserStore & PolicyRefStore;
  /** The group tree scope and `og` references are judged on. */
  groups: Pick<GroupService, 'tree'>;
  /**
   * Called (and awaited) after users were created, or their policy or group changed, by a
   * create, an update or an import: e.g. delivery re-evaluating their devices. A rejection
   * reaches the caller (the change itself is stored).
   */
  onUsersChanged?: (userIds: readonly string[]) => Promise<unknown>;
}

/** Users of organization groups, as administrators manage them. */
export interface UserService {
  /**
   * Creates a user. Throws ManagementError 422 `ERR_USER_INVALID` (with `field`), 404
   * `ERR_GROUP_NOT_FOUND` (unknown or out of scope), 409 `ERR_USERNAME_TAKEN`, 422
   * `ERR_POLICY_UNKNOWN` when `policy` names no policy the caller sees.
   */
  create(input: UserInput, options?: UserScope): Promise<UserRecord>;
  /** The user; throws 404 `ERR_USER_NOT_FOUND` when unknown or out of scope. */
  get(id: string, options?: UserScope): Promise<UserRecord>;
  /**
   * Changes a user (moving it needs both groups in scope). Throws like {@link create} and 404
   * `ERR_USER_NOT_FOUND`.
   */
  update(id: string, patch: UserPatch, options?: UserScope): Promise<UserRecord>;
  /** Deletes a user with its personal links; the deleted user. Throws 404 `ERR_USER_NOT_FOUND`. */
  delete(id: string, options?: UserScope): Promise<UserRecord>;
  /**
   * A page of users in id order: of `groupId` and the groups below it when given (404
   * `ERR_GROUP_NOT_FOUND` when out of scope), else of the whole scope. A foreign cursor rejects
   * with the store's TypeError.
   */
  list(
    options: UserScope & { limit: number; cursor?: string; groupId?: string },
  ): Promise<Page<UserRecord>>;
  /**
   * Imports a CSV file (see `importUsers`): the per-row report. Throws 422 `ERR_USER_CSV` when
   * the file cannot be read, 404 `ERR_GROUP_NOT_FOUND` for a default group out of scope.
   */
  importUsers(text: string, options?: UserImportOptions): Promise<UserImportReport>;
  /** The JSON of each user, with its policy's name (`policy`) and id (`policyId`). */
  views(users: readonly UserRecord[]): Promise<UserJson[]>;
}

/** Throws 422 `ERR_USER_INVALID` naming the first field of `fields` that is not valid. */
function checkFields(fields: Partial<Record<UserField, string | null>>): void {
  for (const [field, value] of Object.entries(fields) as [UserField, string | null][]) {
    if (value === null || field === 'groupId') continue;
    const problem =
      value === '' && !['username', 'email'].includes(field) ? `${field} is empty` : undefined;
    const found = problem ?? userFieldProblem(field, value);
    if (found !== undefined) throw new ManagementError('ERR_USER_INVALID', found, { field });
  }
}

/** The store's change for a patch: `null` becomes a present `undefined`, which clears. */
function storeChange(patch: UserPatch): Partial<UserFields> {
  const change: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(patch) as [string, string | null | undefined][])
    if (value !== undefined) change[key] = value ?? undefined;
  return change;
}

/** `fields` with `policy` (a reference) replaced by the id of the policy it names. */
async function withPolicyId<T extends { policy?: string | null }>(
  store: PolicyRefStore,
  tree: GroupTree,
  fields: T,
  scope: string | undefined,
): Promise<T> {
  if (typeof fields.policy !== 'string') return fields;
  const policy = await resolvePolicyRef(store, tree, fields.policy, { scope });
  return { ...fields, policy: policy.id };
}

/** Creates the user service over `deps`. */
export function createUserService(deps: UserServiceDeps): UserService {
  const { store, groups } = deps;
  const changed = async (ids: readonly string[]) => {
    if (ids.length > 0) await deps.onUsersChanged?.(ids);
  };

  async function visible(id: string, scope: string | undefined) {
    const tree = await groups.tree();
    const user = await store.findUser(id);
    if (user === undefined || !inScope(tree, user.groupId, scope)) throw userNotFound(id);
    return { tree, user };
  }

  /** Runs a write whose group was checked earlier: a TypeError there means it vanished or a name clash. */
  async function guarded<T>(
    groupId: string,
    username: string | undefined,
    id: string | undefined,
    write: () => Promise<T>,
  ) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      if (!(await groups.tree()).get(groupId)) throw groupNotFound(groupId);
      const holder = username === undefined ? undefined : await store.findUserByUsername(username);
      if (holder !== undefined && holder.id !== id) throw usernameTaken(username ?? '');
      throw error;
    }
  }

  return {
    async create(input, options = {}) {
      checkFields(input);
      const tree = await groups.tree();
      if (!inScope(tree, input.groupId, options.scope)) throw groupNotFound(input.groupId);
      const fields = await withPolicyId(store, tree, input, options.scope);
      const user = await guarded(input.groupId, undefined, undefined, () =>
        store.createUser(fields),
      );
      if (user === undefined) throw usernameTaken(input.username);
      await changed([user.id]);
      return user;
    },
    get: async (id, options = {}) => (await visible(id, options.scope)).user,
    async update(id, patch, options = {}) {
      checkFields(patch);
      const { tree, user } = await visible(id, options.scope);
      const groupId = patch.groupId ?? user.groupId;
      if (!inScope(tree, groupId, options.scope)) throw groupNotFound(groupId);
      if (patch.username !== undefined) {
        const holder = await store.findUserByUsername(patch.username);
        if (holder !== undefined && holder.id !== id) throw usernameTaken(patch.username);
      }
      const resolved = await withPolicyId(store, tree, patch, options.scope);
      const updated = await guarded(groupId, patch.username, id, () =>
        store.updateUser(id, storeChange(resolved)),
      );
      if (updated === undefined) throw userNotFound(id);
      if (updated.policy !== user.policy || updated.groupId !== user.groupId) await changed([id]);
      return updated;
    },
    async delete(id, options = {}) {
      const { user } = await visible(id, options.scope);
      if (!(await store.deleteUser(id))) throw userNotFound(id);
      return user;
    },
    async list(options) {
      const tree = await groups.tree();
      const top = options.groupId ?? options.scope ?? tree.rootId;
      if (!inScope(tree, top, options.scope)) throw groupNotFound(top);
      const paging = {
        limit: options.limit,
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      };
      return store.listUsers(
        top === tree.rootId ? paging : { ...paging, groupIds: tree.subtree(top) },
      );
    },
    importUsers: (text, options = {}) =>
      importUsers(
        { store, groups, ...(deps.onUsersChanged ? { onUsersChanged: deps.onUsersChanged } : {}) },
        text,
        options,
      ),
    async views(users) {
      const names = await policyNames(
        store,
        users.map((u) => u.policy),
      );
      return users.map((u) => userJson(u, names));
    },
  };
}

/** A user as JSON (the API's and the CLI's view): absent optional fields are `null`. */
export interface UserJson {
  id: string;
  username: string;
  email: string;
  groupId: string;
  firstName: string | null;
  lastName: string | null;
  /** The name of the user's own policy (`null` when none: the group's default applies). */
  policy: string | null;
  /** The id (`pol_...`) of the user's own policy. */
  policyId: string | null;
  managedAppleId: string | null;
  custom1: string | null;
  custom2: string | null;
  custom3: string | null;
  generic: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * The JSON of a user; `names` maps policy ids to names (see `UserService.views`), and a policy
 * missing from it is shown by its id.
 */
export function userJson(u: UserRecord, names: ReadonlyMap<string, string> = new Map()): UserJson {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    groupId: u.groupId,
    firstName: u.firstName ?? null,
    lastName: u.lastName ?? null,
    policy: u.policy === undefined ? null : (names.get(u.policy) ?? u.policy),
    policyId: u.policy ?? null,
    managedAppleId: u.managedAppleId ?? null,
    custom1: u.custom1 ?? null,
    custom2: u.custom2 ?? null,
    custom3: u.custom3 ?? null,
    generic: u.generic,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

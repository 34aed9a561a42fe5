/**
 * Users and enrollment owners in memory. Usernames are unique by their folded spelling (see
 * `foldUsername`); every method is one synchronous step (no await inside), so two concurrent
 * generic users never get one name, and an atomic import works on copies it swaps in at the end.
 */
import { StorageError } from '../../errors.js';
import type {
  EnrollmentOwner,
  UserFields,
  UserRecord,
  UserStore,
  UserUpsert,
  UserUpsertOutcome,
} from '../ports.js';
import {
  applyUserChange,
  checkGenericPrefix,
  checkOwner,
  checkUserFields,
  checkUserId,
  foldUsername,
  lowestFreeGeneric,
  pickUserFields,
  sameUserFields,
} from '../users-check.js';
import {
  adminStep,
  byBytes,
  newAdminId,
  put,
  type AdminState,
  type OwnerRow,
  type UserRow,
} from './admin-state.js';
import { memoryOwnedEnrollments } from './owned-enrollments.js';

/** The users and usernames an operation works on: the state's own, or copies. */
interface UserMaps {
  users: Map<string, UserRow>;
  usernames: Map<string, string>;
}

function userRecord(row: UserRow): UserRecord {
  const { createdAt, updatedAt, ...rest } = row;
  return { ...rest, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
}

function ownerRecord(row: OwnerRow): EnrollmentOwner {
  const { assignedAt, ...rest } = row;
  return { ...rest, assignedAt: new Date(assignedAt) };
}

function knownGroup(s: AdminState, groupId: string): void {
  if (!s.groups.has(groupId)) throw new TypeError(`unknown group ${groupId}`);
}

/** Stores `row`, replacing the username index entry of its earlier spelling. */
function putUser(maps: UserMaps, row: UserRow, previous?: UserRow): void {
  if (previous !== undefined) maps.usernames.delete(foldUsername(previous.username));
  maps.users.set(row.id, row);
  maps.usernames.set(foldUsername(row.username), row.id);
}

function insertUser(s: AdminState, maps: UserMaps, fields: UserFields, generic: boolean): UserRow {
  const at = s.clock().getTime();
  const row: UserRow = {
    ...pickUserFields(fields),
    id: newAdminId('usr'),
    generic,
    createdAt: at,
    updatedAt: at,
  };
  if (maps.users.has(row.id))
    throw new StorageError('admin store operation failed: duplicate user id');
  putUser(maps, row);
  return row;
}

/** One import row on `maps`: created, updated (all fields replaced) or unchanged. */
function upsertOne(s: AdminState, maps: UserMaps, { fields }: UserUpsert): UserUpsertOutcome {
  checkUserFields(fields, true);
  knownGroup(s, fields.groupId);
  const current = maps.users.get(maps.usernames.get(foldUsername(fields.username)) ?? '');
  if (current === undefined)
    return { outcome: 'created', user: userRecord(insertUser(s, maps, fields, false)) };
  const wanted = pickUserFields(fields);
  if (sameUserFields(current, wanted)) return { outcome: 'unchanged', user: userRecord(current) };
  const { id, generic, createdAt } = current;
  const row: UserRow = { ...wanted, id, generic, createdAt, updatedAt: s.clock().getTime() };
  putUser(maps, row, current);
  return { outcome: 'updated', user: userRecord(row) };
}

function upsertAll(
  s: AdminState,
  rows: readonly UserUpsert[],
  atomic: boolean,
): UserUpsertOutcome[] {
  if (!atomic) return rows.map((row) => upsertOne(s, s, row));
  const copy: UserMaps = { users: new Map(s.users), usernames: new Map(s.usernames) };
  const outcomes = rows.map((row) => upsertOne(s, copy, row));
  s.users = copy.users;
  s.usernames = copy.usernames;
  return outcomes;
}

function update(s: AdminState, id: string, change: Partial<UserFields>): UserRecord | undefined {
  const row = s.users.get(id);
  if (row === undefined) return undefined;
  checkUserFields(change, false);
  const fields = applyUserChange(row, change);
  knownGroup(s, fields.groupId);
  const holder = s.usernames.get(foldUsername(fields.username));
  if (holder !== undefined && holder !== id)
    throw new TypeError(`username ${fields.username} is taken`);
  const { generic, createdAt } = row;
  const next: UserRow = {
    ...pickUserFields(fields),
    id,
    generic,
    createdAt,
    updatedAt: s.clock().getTime(),
  };
  putUser(s, next, row);
  return userRecord(next);
}

/** Deletes the user, revokes its active personal links and drops its enrollment ownerships. */
function remove(s: AdminState, id: string): boolean {
  const row = s.users.get(id);
  if (row === undefined) return false;
  const at = s.clock().getTime();
  s.users.delete(id);
  s.usernames.delete(foldUsername(row.username));
  for (const link of s.links.values())
    if (link.kind === 'personal' && link.userId === id && link.revokedAt === undefined)
      put(s.links, link.id, { ...link, revokedAt: at });
  for (const [key, owner] of s.owners) if (owner.userId === id) s.owners.delete(key);
  return true;
}

function createGeneric(
  s: AdminState,
  input: { prefix: string; groupId: string; policy?: string },
): UserRecord {
  checkGenericPrefix(input.prefix);
  knownGroup(s, input.groupId);
  const n = lowestFreeGeneric(input.prefix, s.usernames.keys());
  const fields: UserFields = {
    username: `${input.prefix}-${String(n)}`,
    email: '',
    groupId: input.groupId,
  };
  if (input.policy !== undefined) fields.policy = input.policy;
  return userRecord(insertUser(s, s, fields, true));
}

function assignOwner(s: AdminState, owner: EnrollmentOwner): void {
  checkOwner(owner);
  if (!s.users.has(owner.userId)) throw new TypeError(`unknown user ${owner.userId}`);
  knownGroup(s, owner.groupId);
  const row: OwnerRow = {
    enrollmentId: owner.enrollmentId,
    userId: owner.userId,
    groupId: owner.groupId,
    assignedAt: owner.assignedAt.getTime(),
  };
  if (owner.linkId !== undefined) row.linkId = owner.linkId;
  s.owners.set(row.enrollmentId, row);
}

/** The {@link UserStore} on the memory admin state. */
export function memoryUsers(s: AdminState): UserStore {
  return {
    createUser: (fields, options) =>
      adminStep(s, () => {
        checkUserFields(fields, true);
        knownGroup(s, fields.groupId);
        if (s.usernames.has(foldUsername(fields.username))) return undefined;
        return userRecord(insertUser(s, s, fields, options?.generic ?? false));
      }),
    upsertUsers: (rows, { atomic }) => adminStep(s, () => upsertAll(s, rows, atomic)),
    updateUser: (id, change) => adminStep(s, () => update(s, id, change)),
    deleteUser: (id) => adminStep(s, () => remove(s, id)),
    findUser: (id) =>
      adminStep(s, () => {
        const row = s.users.get(id);
        return row && userRecord(row);
      }),
    findUserByUsername: (username) =>
      adminStep(s, () => {
        const row = s.users.get(s.usernames.get(foldUsername(username)) ?? '');
        return row && userRecord(row);
      }),
    listUsers: ({ limit, cursor, groupIds }) =>
      adminStep(s, () => {
        if (cursor !== undefined) checkUserId(cursor, 'cursor');
        const after = cursor ?? '';
        const groups = groupIds && new Set(groupIds);
        const rows = [...s.users.values()]
          .filter((row) => byBytes(row.id, after) > 0 && (!groups || groups.has(row.groupId)))
          .sort((a, b) => byBytes(a.id, b.id))
          .slice(0, limit + 1);
        const items = rows.slice(0, limit).map(userRecord);
        const last = items.at(-1);
        return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
      }),
    createGenericUser: (input) => adminStep(s, () => createGeneric(s, input)),
    assignEnrollmentOwner: (owner) =>
      adminStep(s, () => {
        assignOwner(s, owner);
      }),
    findEnrollmentOwner: (enrollmentId) =>
      adminStep(s, () => {
        const row = s.owners.get(enrollmentId);
        return row && ownerRecord(row);
      }),
    listUserEnrollments: (userId) =>
      adminStep(s, () =>
        [...s.owners.values()]
          .filter((row) => row.userId === userId)
          .sort((a, b) => a.assignedAt - b.assignedAt || byBytes(a.enrollmentId, b.enrollmentId))
          .map(ownerRecord),
      ),
    ...memoryOwnedEnrollments(s),
  };
}

/**
 * Users in SQLite (migration 8; who owns each enrollment is in `enrollment-owners.ts`).
 * `username` is UNIQUE COLLATE NOCASE, so two daemons on one file never create one name twice;
 * writes that read first (an import, a generic user's number, a rename) run in IMMEDIATE
 * transactions. A group filter is bound as one JSON array (`json_each`), so a list of any length
 * uses one prepared statement.
 */
import type { UserFields, UserRecord, UserStore, UserUpsert, UserUpsertOutcome } from '../ports.js';
import {
  applyUserChange,
  checkGenericPrefix,
  checkUserFields,
  checkUserId,
  lowestFreeGeneric,
  pickUserFields,
  sameUserFields,
} from '../users-check.js';
import { adminGuard, newAdminId } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';
import { sqliteEnrollmentOwners } from './enrollment-owners.js';
import { sqliteOwnedEnrollments } from './owned-enrollments.js';

/** A row of `orchard_users`. */
export interface UserRow {
  id: string;
  username: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  group_id: string;
  policy: string | null;
  managed_apple_id: string | null;
  custom1: string | null;
  custom2: string | null;
  custom3: string | null;
  generic: number;
  created_at: number;
  updated_at: number;
}

/** Optional fields and their columns. */
const OPTIONAL = [
  ['firstName', 'first_name'],
  ['lastName', 'last_name'],
  ['policy', 'policy'],
  ['managedAppleId', 'managed_apple_id'],
  ['custom1', 'custom1'],
  ['custom2', 'custom2'],
  ['custom3', 'custom3'],
] as const;

const USERS = 'orchard_users';
const COLUMNS = `id, username, email, first_name, last_name, group_id, policy, managed_apple_id,
  custom1, custom2, custom3, generic, created_at, updated_at`;
const BY_NAME = `SELECT ${COLUMNS} FROM ${USERS} WHERE username = ? COLLATE NOCASE`;
const BY_ID = `SELECT ${COLUMNS} FROM ${USERS} WHERE id = ?`;
const GROUP = 'SELECT 1 FROM orchard_groups WHERE id = ?';

/** The record of a user row. */
export function userRecord(row: UserRow): UserRecord {
  const r: UserRecord = {
    id: row.id,
    username: row.username,
    email: row.email,
    groupId: row.group_id,
    generic: row.generic === 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  for (const [key, column] of OPTIONAL) {
    const value = row[column];
    if (value !== null) r[key] = value;
  }
  return r;
}

/** The bound values of a user's field columns, in {@link COLUMNS} order after the id. */
function fieldValues(f: UserFields): (string | null)[] {
  return [
    f.username,
    f.email,
    f.firstName ?? null,
    f.lastName ?? null,
    f.groupId,
    f.policy ?? null,
    f.managedAppleId ?? null,
    f.custom1 ?? null,
    f.custom2 ?? null,
    f.custom3 ?? null,
  ];
}

function knownGroup(ctx: SqliteContext, groupId: string): void {
  if (stmt(ctx, GROUP).get(groupId) === undefined) throw new TypeError(`unknown group ${groupId}`);
}

function get(ctx: SqliteContext, sql: string, value: string): UserRow | undefined {
  return stmt(ctx, sql).get(value) as UserRow | undefined;
}

/** Inserts a user; the caller checked the fields, the group and the name under the write lock. */
function insert(ctx: SqliteContext, fields: UserFields, generic: boolean): UserRecord {
  const id = newAdminId('usr');
  const at = ctx.clock().getTime();
  stmt(
    ctx,
    `INSERT INTO ${USERS} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, ...fieldValues(fields), generic ? 1 : 0, at, at);
  return userRecord(get(ctx, BY_ID, id) as UserRow);
}

/** Replaces a user's fields; the caller checked them under the write lock. */
function replace(ctx: SqliteContext, id: string, fields: UserFields): UserRecord {
  stmt(
    ctx,
    `UPDATE ${USERS} SET username = ?, email = ?, first_name = ?, last_name = ?, group_id = ?,
       policy = ?, managed_apple_id = ?, custom1 = ?, custom2 = ?, custom3 = ?, updated_at = ?
     WHERE id = ?`,
  ).run(...fieldValues(fields), ctx.clock().getTime(), id);
  return userRecord(get(ctx, BY_ID, id) as UserRow);
}

/** One import row: created, updated (every field replaced) or unchanged. */
function upsertOne(ctx: SqliteContext, { fields }: UserUpsert): UserUpsertOutcome {
  checkUserFields(fields, true);
  knownGroup(ctx, fields.groupId);
  const row = get(ctx, BY_NAME, fields.username);
  const wanted = pickUserFields(fields);
  if (row === undefined) return { outcome: 'created', user: insert(ctx, wanted, false) };
  const current = userRecord(row);
  if (sameUserFields(current, wanted)) return { outcome: 'unchanged', user: current };
  return { outcome: 'updated', user: replace(ctx, row.id, wanted) };
}

function upsertAll(
  ctx: SqliteContext,
  rows: readonly UserUpsert[],
  atomic: boolean,
): UserUpsertOutcome[] {
  if (atomic) return writeTx(ctx, () => rows.map((row) => upsertOne(ctx, row)));
  return rows.map((row) => writeTx(ctx, () => upsertOne(ctx, row)));
}

function update(
  ctx: SqliteContext,
  id: string,
  change: Partial<UserFields>,
): UserRecord | undefined {
  checkUserFields(change, false);
  return writeTx(ctx, () => {
    const row = get(ctx, BY_ID, id);
    if (row === undefined) return undefined;
    const fields = applyUserChange(userRecord(row), change);
    knownGroup(ctx, fields.groupId);
    const holder = get(ctx, BY_NAME, fields.username);
    if (holder !== undefined && holder.id !== id)
      throw new TypeError(`username ${fields.username} is taken`);
    return replace(ctx, id, pickUserFields(fields));
  });
}

/** Deletes the user (ownerships go by ON DELETE CASCADE) and revokes its active personal links. */
function remove(ctx: SqliteContext, id: string): boolean {
  return writeTx(ctx, () => {
    if (stmt(ctx, `DELETE FROM ${USERS} WHERE id = ?`).run(id).changes === 0) return false;
    stmt(
      ctx,
      `UPDATE orchard_admin_enrollment_tokens SET revoked_at = ?
       WHERE kind = 'personal' AND user_id = ? AND revoked_at IS NULL`,
    ).run(ctx.clock().getTime(), id);
    return true;
  });
}

/** Escapes `LIKE` wildcards so a prefix matches literally (with `ESCAPE '\'`). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`;
}

function createGeneric(
  ctx: SqliteContext,
  input: { prefix: string; groupId: string; policy?: string },
): UserRecord {
  checkGenericPrefix(input.prefix);
  return writeTx(ctx, () => {
    knownGroup(ctx, input.groupId);
    // LIKE is case-insensitive for ASCII, as NOCASE is; lowestFreeGeneric folds the same way.
    const taken = stmt(
      ctx,
      `SELECT lower(username) FROM ${USERS} WHERE username LIKE ? ESCAPE '\\'`,
    )
      .pluck()
      .all(likePrefix(input.prefix)) as string[];
    const n = lowestFreeGeneric(input.prefix, taken);
    const fields: UserFields = {
      username: `${input.prefix}-${String(n)}`,
      email: '',
      groupId: input.groupId,
    };
    if (input.policy !== undefined) fields.policy = input.policy;
    return insert(ctx, fields, true);
  });
}

function list(
  ctx: SqliteContext,
  { limit, cursor, groupIds }: { limit: number; cursor?: string; groupIds?: readonly string[] },
) {
  if (cursor !== undefined) checkUserId(cursor, 'cursor');
  const sql = `SELECT ${COLUMNS} FROM ${USERS} WHERE id > ?
    AND (? IS NULL OR group_id IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT ?`;
  const groups = groupIds === undefined ? null : JSON.stringify(groupIds);
  const rows = stmt(ctx, sql).all(cursor ?? '', groups, groups, limit + 1) as UserRow[];
  const items = rows.slice(0, limit).map(userRecord);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
}

/** The {@link UserStore} on a connection context. */
export function sqliteUsers(ctx: SqliteContext): UserStore {
  const run = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    createUser: (fields, options) =>
      run(() => {
        checkUserFields(fields, true);
        return writeTx(ctx, () => {
          knownGroup(ctx, fields.groupId);
          if (get(ctx, BY_NAME, fields.username) !== undefined) return undefined;
          return insert(ctx, pickUserFields(fields), options?.generic ?? false);
        });
      }),
    upsertUsers: (rows, { atomic }) => run(() => upsertAll(ctx, rows, atomic)),
    updateUser: (id, change) => run(() => update(ctx, id, change)),
    deleteUser: (id) => run(() => remove(ctx, id)),
    findUser: (id) =>
      run(() => {
        const row = get(ctx, BY_ID, id);
        return row && userRecord(row);
      }),
    findUserByUsername: (username) =>
      run(() => {
        const row = get(ctx, BY_NAME, username);
        return row && userRecord(row);
      }),
    listUsers: (options) => run(() => list(ctx, options)),
    createGenericUser: (input) => run(() => createGeneric(ctx, input)),
    ...sqliteEnrollmentOwners(ctx),
    ...sqliteOwnedEnrollments(ctx),
  };
}

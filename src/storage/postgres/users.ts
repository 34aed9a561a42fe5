/**
 * Users in PostgreSQL, who owns each enrollment, and the owned-enrollment pages. Usernames are
 * unique by `lower(username COLLATE "C")` (ASCII folding, as SQLite's NOCASE), so two daemons
 * never create one name twice: inserts are `ON CONFLICT DO NOTHING` and a loser re-reads the
 * winner's row. A CSV import reads every named user in one statement (`FOR UPDATE`, id order),
 * then writes its inserts and its updates as one statement each (`unnest`).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type {
  EnrollmentOwner,
  OwnedEnrollment,
  OwnedEnrollmentFilter,
  Page,
  UserFields,
  UserRecord,
  UserStore,
  UserUpsert,
  UserUpsertOutcome,
} from '../ports.js';
import { filterIsEmpty, ownedPage, ownedPageStart } from '../policies-check.js';
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
import { StorageError } from '../../errors.js';
import { isUniqueViolation, one, op, query, run, setIf, tx, type PgContext } from './db.js';
import type { Queryable } from './db.js';
import { knownGroup } from './management.js';

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
  generic: boolean;
  created_at: Date;
  updated_at: Date;
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

const FOLD = 'lower(username COLLATE "C")';
const COLUMNS = `id, username, email, first_name, last_name, group_id, policy, managed_apple_id,
  custom1, custom2, custom3, generic, created_at, updated_at`;
const FIELD_COLUMNS = `username, email, first_name, last_name, group_id, policy,
  managed_apple_id, custom1, custom2, custom3`;
const BY_NAME = `SELECT ${COLUMNS} FROM orchard_users WHERE ${FOLD} = $1`;
const BY_ID = `SELECT ${COLUMNS} FROM orchard_users WHERE id = $1`;
/** The unnest of an id and the ten field columns, as `v`. */
const VALUES = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
  $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
  AS v (id, ${FIELD_COLUMNS})`;
const INSERT_MANY = `INSERT INTO orchard_users (${COLUMNS})
  SELECT v.id, ${FIELD_COLUMNS.replace(/(\w+)/g, 'v.$1')}, $12, $13, $13 FROM ${VALUES}
  ON CONFLICT DO NOTHING RETURNING id`;
const UPDATE_MANY = `UPDATE orchard_users u SET username = v.username, email = v.email,
  first_name = v.first_name, last_name = v.last_name, group_id = v.group_id, policy = v.policy,
  managed_apple_id = v.managed_apple_id, custom1 = v.custom1, custom2 = v.custom2,
  custom3 = v.custom3, updated_at = $12 FROM ${VALUES} WHERE u.id = v.id`;

/** A fresh user id (`usr_` and 12 hex digits), as the other adapters make them. */
function newUserId(): string {
  return `usr_${randomBytes(6).toString('hex')}`;
}

/** The user of a row. */
export function userRecord(row: UserRow): UserRecord {
  const r: UserRecord = {
    id: row.id,
    username: row.username,
    email: row.email,
    groupId: row.group_id,
    generic: row.generic,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  for (const [key, column] of OPTIONAL) setIf(r, key, row[column]);
  return r;
}

/** The bound values of a user's field columns, in {@link FIELD_COLUMNS} order. */
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

/** The eleven column arrays (id, then the fields) of `users` for {@link VALUES}. */
function columnArrays(users: readonly UserRecord[]): (string | null)[][] {
  const columns: (string | null)[][] = Array.from({ length: 11 }, () => []);
  for (const u of users) {
    columns[0]?.push(u.id);
    fieldValues(u).forEach((value, i) => columns[i + 1]?.push(value));
  }
  return columns;
}

async function get(on: Queryable, sql: string, value: string): Promise<UserRecord | undefined> {
  const row = await one<UserRow>(on, sql, [value]);
  return row && userRecord(row);
}

/** Inserts a user unless its name is taken (then `undefined`); the caller checked the group. */
async function insert(
  ctx: PgContext,
  on: Queryable,
  fields: UserFields,
  generic: boolean,
): Promise<UserRecord | undefined> {
  const at = ctx.clock();
  const row = await one<UserRow>(
    on,
    `INSERT INTO orchard_users (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [newUserId(), ...fieldValues(fields), generic, at],
  );
  return row && userRecord(row);
}

// --- CSV upserts ------------------------------------------------------------------------------

/** What one import does to the database: users to insert and users to rewrite. */
interface UpsertPlan {
  outcomes: UserUpsertOutcome[];
  inserts: Map<string, UserRecord>;
  updates: Map<string, UserRecord>;
}

/** Plans checked rows in order against the current users by folded name (as SQLite would apply them one by one). */
function plan(rows: readonly UserFields[], current: Map<string, UserRecord>, at: Date): UpsertPlan {
  const p: UpsertPlan = { outcomes: [], inserts: new Map(), updates: new Map() };
  for (const wanted of rows) {
    const key = foldUsername(wanted.username);
    const held = current.get(key);
    if (held === undefined) {
      const user: UserRecord = {
        ...wanted,
        id: newUserId(),
        generic: false,
        createdAt: at,
        updatedAt: at,
      };
      current.set(key, user);
      p.inserts.set(key, user);
      p.outcomes.push({ outcome: 'created', user: { ...user } });
    } else if (sameUserFields(held, wanted)) {
      p.outcomes.push({ outcome: 'unchanged', user: { ...held } });
    } else {
      const { id, generic, createdAt } = held;
      const user: UserRecord = { ...wanted, id, generic, createdAt, updatedAt: at };
      current.set(key, user);
      if (p.inserts.has(key)) p.inserts.set(key, user);
      else p.updates.set(key, user);
      p.outcomes.push({ outcome: 'updated', user: { ...user } });
    }
  }
  return p;
}

/**
 * One attempt of an import inside a savepoint: reads and locks the named users, plans, inserts,
 * updates. Resolves `undefined` (rolled back to the savepoint) when a concurrent import
 * inserted one of the new names first; the caller tries again and then finds that row.
 */
async function attemptUpsert(
  ctx: PgContext,
  c: pg.PoolClient,
  rows: readonly UserFields[],
): Promise<UserUpsertOutcome[] | undefined> {
  await c.query('SAVEPOINT orchard_upsert');
  const names = [...new Set(rows.map((r) => foldUsername(r.username)))];
  const found = await query<UserRow>(
    c,
    `SELECT ${COLUMNS} FROM orchard_users WHERE ${FOLD} = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [names],
  );
  const current = new Map(found.map((row) => [foldUsername(row.username), userRecord(row)]));
  const at = ctx.clock();
  const p = plan(rows, current, at);
  if (p.inserts.size > 0) {
    // In name order: two imports inserting the same names wait for each other, not deadlock.
    const news = [...p.inserts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, u]) => u);
    const inserted = await query(c, INSERT_MANY, [...columnArrays(news), false, at]);
    if (inserted.length !== p.inserts.size) {
      await c.query('ROLLBACK TO SAVEPOINT orchard_upsert');
      return undefined;
    }
  }
  if (p.updates.size > 0) await run(c, UPDATE_MANY, [...columnArrays([...p.updates.values()]), at]);
  await c.query('RELEASE SAVEPOINT orchard_upsert');
  return p.outcomes;
}

/** The index of the first row failing its field checks (rows.length when none) and its error. */
function firstBadRow(rows: readonly UserUpsert[]): { index: number; error?: Error } {
  for (let i = 0; i < rows.length; i += 1) {
    try {
      checkUserFields((rows[i] as UserUpsert).fields, true);
    } catch (error) {
      return { index: i, error: error instanceof Error ? error : new TypeError(String(error)) };
    }
  }
  return { index: rows.length };
}

async function upsertAll(
  ctx: PgContext,
  rows: readonly UserUpsert[],
  atomic: boolean,
): Promise<UserUpsertOutcome[]> {
  const checked = firstBadRow(rows);
  if (atomic && checked.error !== undefined) throw checked.error;
  const result = await tx(ctx, async (c) => {
    let valid = rows.slice(0, checked.index).map((r) => pickUserFields(r.fields));
    let failure = checked.error;
    const groups = [...new Set(valid.map((f) => f.groupId))];
    const known = await query<{ id: string }>(
      c,
      'SELECT id FROM orchard_groups WHERE id = ANY($1::text[]) FOR KEY SHARE',
      [groups],
    );
    const ids = new Set(known.map((g) => g.id));
    const unknown = valid.findIndex((f) => !ids.has(f.groupId));
    if (unknown >= 0) {
      failure = new TypeError(`unknown group ${(valid[unknown] as UserFields).groupId}`);
      if (atomic) throw failure;
      valid = valid.slice(0, unknown);
    }
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const outcomes = valid.length === 0 ? [] : await attemptUpsert(ctx, c, valid);
      if (outcomes !== undefined) return { outcomes, failure };
    }
    throw new StorageError('user import kept meeting concurrent inserts');
  });
  if (result.failure !== undefined) throw result.failure;
  return result.outcomes;
}

// --- single users -----------------------------------------------------------------------------

function update(
  ctx: PgContext,
  id: string,
  change: Partial<UserFields>,
): Promise<UserRecord | undefined> {
  return tx(ctx, async (c) => {
    checkUserFields(change, false);
    const row = await get(c, `${BY_ID} FOR UPDATE`, id);
    if (row === undefined) return undefined;
    const fields = pickUserFields(applyUserChange(row, change));
    await knownGroup(c, fields.groupId);
    const holder = await get(c, BY_NAME, foldUsername(fields.username));
    if (holder !== undefined && holder.id !== id)
      throw new TypeError(`username ${fields.username} is taken`);
    const sql = `UPDATE orchard_users SET username = $1, email = $2, first_name = $3,
      last_name = $4, group_id = $5, policy = $6, managed_apple_id = $7, custom1 = $8,
      custom2 = $9, custom3 = $10, updated_at = $11 WHERE id = $12 RETURNING ${COLUMNS}`;
    try {
      const next = await one<UserRow>(c, sql, [...fieldValues(fields), ctx.clock(), id]);
      return next && userRecord(next);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new TypeError(`username ${fields.username} is taken`, { cause: error });
      throw error;
    }
  });
}

/** Deletes the user (ownerships go by ON DELETE CASCADE) and revokes its active personal links. */
function remove(ctx: PgContext, id: string): Promise<boolean> {
  return tx(ctx, async (c) => {
    if ((await run(c, 'DELETE FROM orchard_users WHERE id = $1', [id])) === 0) return false;
    await run(
      c,
      `UPDATE orchard_admin_enrollment_tokens SET revoked_at = $1
       WHERE kind = 'personal' AND user_id = $2 AND revoked_at IS NULL`,
      [ctx.clock(), id],
    );
    return true;
  });
}

/**
 * The next free `prefix-<n>`: the taken names come from the range `[prefix-, prefix.)` of the
 * folded-name index ('.' follows '-' in byte order); a name another daemon took meanwhile
 * makes the insert do nothing, and the range is read again.
 */
function createGeneric(
  ctx: PgContext,
  input: { prefix: string; groupId: string; policy?: string },
): Promise<UserRecord> {
  return tx(ctx, async (c) => {
    checkGenericPrefix(input.prefix);
    await knownGroup(c, input.groupId);
    const head = foldUsername(input.prefix);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const taken = await query<{ name: string }>(
        c,
        `SELECT ${FOLD} AS name FROM orchard_users WHERE ${FOLD} >= $1 AND ${FOLD} < $2`,
        [`${head}-`, `${head}.`],
      );
      const n = lowestFreeGeneric(
        input.prefix,
        taken.map((t) => t.name),
      );
      const fields: UserFields = {
        username: `${input.prefix}-${String(n)}`,
        email: '',
        groupId: input.groupId,
      };
      setIf(fields, 'policy', input.policy);
      const user = await insert(ctx, c, fields, true);
      if (user !== undefined) return user;
    }
    throw new StorageError('generic user names kept being taken concurrently');
  });
}

function createUser(
  ctx: PgContext,
  fields: UserFields,
  generic: boolean,
): Promise<UserRecord | undefined> {
  return tx(ctx, async (c) => {
    checkUserFields(fields, true);
    await knownGroup(c, fields.groupId);
    return insert(ctx, c, pickUserFields(fields), generic);
  });
}

async function list(
  ctx: PgContext,
  { limit, cursor, groupIds }: { limit: number; cursor?: string; groupIds?: readonly string[] },
): Promise<Page<UserRecord>> {
  if (cursor !== undefined) checkUserId(cursor, 'cursor');
  const base = `SELECT ${COLUMNS} FROM orchard_users WHERE id > $1`;
  const rows =
    groupIds === undefined
      ? await query<UserRow>(ctx.pool, `${base} ORDER BY id LIMIT $2`, [cursor ?? '', limit + 1])
      : await query<UserRow>(
          ctx.pool,
          `${base} AND group_id = ANY($2::text[]) ORDER BY id LIMIT $3`,
          [cursor ?? '', [...groupIds], limit + 1],
        );
  const items = rows.slice(0, limit).map(userRecord);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
}

// --- enrollment owners ------------------------------------------------------------------------

interface OwnerRow {
  enrollment_id: string;
  user_id: string;
  group_id: string;
  link_id: string | null;
  assigned_at: Date;
}

const OWNER_COLUMNS = 'enrollment_id, user_id, group_id, link_id, assigned_at';

function ownerRecord(row: OwnerRow): EnrollmentOwner {
  const r: EnrollmentOwner = {
    enrollmentId: row.enrollment_id,
    userId: row.user_id,
    groupId: row.group_id,
    assignedAt: row.assigned_at,
  };
  setIf(r, 'linkId', row.link_id);
  return r;
}

/** Records (or replaces) an enrollment's owner; the user and group are held until commit. */
async function assignOwner(
  ctx: PgContext,
  c: pg.PoolClient,
  owner: EnrollmentOwner,
): Promise<void> {
  checkOwner(owner);
  const user = 'SELECT 1 FROM orchard_users WHERE id = $1 FOR KEY SHARE';
  if ((await one(c, user, [owner.userId])) === undefined)
    throw new TypeError(`unknown user ${owner.userId}`);
  await knownGroup(c, owner.groupId);
  await run(
    c,
    `INSERT INTO orchard_enrollment_owners (${OWNER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (enrollment_id) DO UPDATE SET user_id = excluded.user_id,
       group_id = excluded.group_id, link_id = excluded.link_id,
       assigned_at = excluded.assigned_at`,
    [owner.enrollmentId, owner.userId, owner.groupId, owner.linkId ?? null, owner.assignedAt],
  );
}

// --- owned enrollments ------------------------------------------------------------------------

/** Each condition of the filter and its SQL (`$` takes the parameter number), in a fixed order. */
const CONDITIONS = [
  ['userPolicyIds', 'u.policy = ANY($::text[])'],
  ['groupsWithoutUserPolicy', '(u.policy IS NULL AND u.group_id = ANY($::text[]))'],
  ['groupIds', 'u.group_id = ANY($::text[])'],
  ['userIds', 'o.user_id = ANY($::text[])'],
  ['enrollmentIds', 'o.enrollment_id = ANY($::text[])'],
] as const;

/** What an owned listing selects, and from which tables. */
export interface OwnedShape {
  columns: string;
  from: string;
}

/** The owner's enrollment id and its user's columns, as every owned listing selects them. */
export const OWNED_COLUMNS = `o.enrollment_id AS owned_enrollment_id, ${COLUMNS.replace(/(\w+)/g, 'u.$1')}`;

/** Owners with their users' rows ({@link UserStore.listOwnedEnrollments}). */
const OWNERS: OwnedShape = {
  columns: OWNED_COLUMNS,
  from: 'orchard_enrollment_owners o JOIN orchard_users u ON u.id = o.user_id',
};

/**
 * The statement for `filter` and the lists it binds after the cursor ($1) and the limit ($2).
 * A page walks the owners' primary key from the cursor in enrollment id order and stops at the
 * limit (keyset paging: no sort of every match, no OFFSET); each owner's user comes by its key.
 */
export function ownedQuery(
  filter: OwnedEnrollmentFilter,
  shape: OwnedShape = OWNERS,
): {
  sql: string;
  lists: (readonly string[])[];
} {
  const given = CONDITIONS.filter(([key]) => filter[key] !== undefined);
  const terms = given.map(([, sql], i) => sql.replace('$', `$${String(i + 3)}`));
  const where = filterIsEmpty(filter) ? '' : `AND (${terms.join(' OR ')})`;
  return {
    sql: `SELECT ${shape.columns} FROM ${shape.from}
      WHERE o.enrollment_id > $1 ${where} ORDER BY o.enrollment_id LIMIT $2`,
    lists: given.map(([key]) => filter[key] ?? []),
  };
}

async function listOwned(
  ctx: PgContext,
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
): Promise<Page<OwnedEnrollment>> {
  const after = ownedPageStart(filter, options);
  const { sql, lists } = ownedQuery(filter);
  const rows = await query<UserRow & { owned_enrollment_id: string }>(ctx.pool, sql, [
    after,
    options.limit + 1,
    ...lists.map((l) => [...l]),
  ]);
  const items = rows.map((row) => ({
    enrollmentId: row.owned_enrollment_id,
    user: userRecord(row),
  }));
  return ownedPage(items, options.limit);
}

/** The {@link UserStore} on a context. */
export function pgUsers(ctx: PgContext): UserStore {
  return {
    createUser: (fields, options) => createUser(ctx, fields, options?.generic ?? false),
    upsertUsers: (rows, { atomic }) => op(ctx, () => upsertAll(ctx, rows, atomic)),
    updateUser: (id, change) => update(ctx, id, change),
    deleteUser: (id) => remove(ctx, id),
    findUser: (id) => op(ctx, () => get(ctx.pool, BY_ID, id)),
    findUserByUsername: (username) => op(ctx, () => get(ctx.pool, BY_NAME, foldUsername(username))),
    listUsers: (options) => op(ctx, () => list(ctx, options)),
    createGenericUser: (input) => createGeneric(ctx, input),
    assignEnrollmentOwner: (owner) => tx(ctx, (c) => assignOwner(ctx, c, owner)),
    findEnrollmentOwner: (enrollmentId) =>
      op(ctx, async () => {
        const row = await one<OwnerRow>(
          ctx.pool,
          `SELECT ${OWNER_COLUMNS} FROM orchard_enrollment_owners WHERE enrollment_id = $1`,
          [enrollmentId],
        );
        return row && ownerRecord(row);
      }),
    listUserEnrollments: (userId) =>
      op(ctx, async () =>
        (
          await query<OwnerRow>(
            ctx.pool,
            `SELECT ${OWNER_COLUMNS} FROM orchard_enrollment_owners WHERE user_id = $1
             ORDER BY assigned_at, enrollment_id`,
            [userId],
          )
        ).map(ownerRecord),
      ),
    listOwnedEnrollments: (filter, options) => op(ctx, () => listOwned(ctx, filter, options)),
  };
}

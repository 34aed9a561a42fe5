/**
 * Importing users from CSV (rule M9): each row creates or updates the user with its username,
 * or is refused with a reason; refused rows never stop the others, unless the import is atomic,
 * when any refusal applies nothing. Importing the same file again changes nothing (every row
 * `unchanged`). A row cannot reach a user or a group outside the caller's scope, and its reason
 * says no more about such a user than that the username is taken.
 */
import { ManagementError } from '../errors.js';
import {
  OPTIONAL_USER_FIELDS,
  type PolicyStore,
  type UserFields,
  type UserRecord,
  type UserStore,
  type UserUpsertOutcome,
} from '../storage/ports.js';
import type { GroupService } from './groups-service.js';
import type { GroupTree } from './tree.js';
import { parseUserCsv, type UserCsvOptions, type UserCsvRow } from './user-csv.js';
import { groupNotFound, inScope } from './user-fields.js';
import { findPolicyRef, policyVisible } from './policies-ref.js';

/** How {@link importUsers} runs. */
export interface UserImportOptions extends UserCsvOptions {
  /** All rows or none (default false: valid rows are applied, refused ones reported). */
  atomic?: boolean;
  /** The group of new users whose row has no `og`; default `scope`, else the root. */
  groupId?: string;
  /** The caller's scope group: rows reach only users and groups at or below it. Default: all. */
  scope?: string;
}

/** What happened to one row. */
export type UserImportOutcome = 'created' | 'updated' | 'unchanged' | 'refused';

/** One row of an import report. */
export interface UserImportRow {
  /** The line of the file the row starts on (the header is line 1). */
  line: number;
  username: string;
  outcome: UserImportOutcome;
  /** Why it was refused. */
  reason?: string;
  /** The user it created, updated or left unchanged. */
  userId?: string;
  /** The row asked for an invitation mail (`send_invite`); sending it is the caller's part. */
  sendInvite: boolean;
}

/**
 * The report of an import. The counts say what happened to the stored users: an atomic import
 * with a refused row has `applied: false` and every row `refused` (rows that were fine say so in
 * their reason), so nothing is counted as created.
 */
export interface UserImportReport {
  atomic: boolean;
  /** False only when an atomic import was refused as a whole. */
  applied: boolean;
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  rows: UserImportRow[];
}

/** What {@link importUsers} reads and writes. */
export interface UserImportDeps {
  /** Users, and the policies a `policy` cell names (by id or name). */
  store: Pick<UserStore, 'findUserByUsername' | 'upsertUsers'> &
    Pick<PolicyStore, 'findPolicy' | 'findPolicyByName'>;
  groups: Pick<GroupService, 'tree'>;
  /** Called (awaited) with the users created, or whose policy or group changed, once stored. */
  onUsersChanged?: (userIds: readonly string[]) => Promise<unknown>;
}

/** A row judged against the tree and the store: the fields to store, or why not. */
type Planned =
  | { row: UserCsvRow; fields: UserFields; current: UserRecord | undefined }
  | { row: UserCsvRow; reason: string };

/**
 * Resolves a `policy` cell: a policy id or name the caller sees, to its id; memoized for the
 * import (files repeat a few policy names over thousands of rows).
 */
function policyResolver(deps: UserImportDeps, tree: GroupTree, scope: string) {
  const seen = new Map<string, Promise<{ id: string } | { reason: string }>>();
  const lookup = async (ref: string) => {
    const found = await findPolicyRef(deps.store, ref);
    if (found === undefined || !policyVisible(tree, found.groupId, scope))
      return { reason: `policy ${ref}: no such policy in this administrator's scope` };
    return { id: found.id };
  };
  return (ref: string) => {
    let answer = seen.get(ref.toLowerCase());
    if (answer === undefined) seen.set(ref.toLowerCase(), (answer = lookup(ref)));
    return answer;
  };
}

/** Resolves an `og` cell: a group id in scope, else the one group in scope of that exact name. */
function groupResolver(tree: GroupTree, scope: string) {
  const byName = new Map<string, string[]>();
  for (const id of tree.subtree(scope)) {
    const name = tree.get(id)?.name ?? '';
    byName.set(name, [...(byName.get(name) ?? []), id]);
  }
  return (og: string): { groupId: string } | { reason: string } => {
    if (inScope(tree, og, scope)) return { groupId: og };
    const ids = byName.get(og) ?? [];
    if (ids.length === 1 && ids[0] !== undefined) return { groupId: ids[0] };
    if (ids.length > 1)
      return { reason: `og ${og} names ${ids.length} organization groups: give the group's id` };
    return { reason: `og ${og}: no such organization group in this administrator's scope` };
  };
}

/** The fields a row leaves `current` (or a new user) with; `policyId` replaces the `policy` cell. */
function mergedFields(
  row: UserCsvRow,
  groupId: string,
  current: UserRecord | undefined,
  policyId: string | undefined,
): UserFields {
  const fields: UserFields = { username: row.username, email: row.email, groupId };
  for (const key of OPTIONAL_USER_FIELDS) {
    const value = key in row.fields ? row.fields[key] : current?.[key];
    if (value !== undefined && value !== '') fields[key] = value;
  }
  if (policyId !== undefined) fields.policy = policyId;
  return fields;
}

/** Judges every row in order against one tree snapshot and the stored users. */
async function plan(
  deps: UserImportDeps,
  rows: readonly UserCsvRow[],
  tree: GroupTree,
  scope: string,
  defaultGroup: string,
): Promise<Planned[]> {
  const resolve = groupResolver(tree, scope);
  const policyOf = policyResolver(deps, tree, scope);
  const out: Planned[] = [];
  for (const row of rows) {
    if (row.problems.length > 0) {
      out.push({ row, reason: row.problems.join('; ') });
      continue;
    }
    const target = row.og === undefined ? undefined : resolve(row.og);
    if (target !== undefined && 'reason' in target) {
      out.push({ row, reason: target.reason });
      continue;
    }
    const ref = row.fields.policy;
    const policy = ref === undefined || ref === '' ? undefined : await policyOf(ref);
    if (policy !== undefined && 'reason' in policy) {
      out.push({ row, reason: policy.reason });
      continue;
    }
    const current = await deps.store.findUserByUsername(row.username);
    // Same words as the API's 409: whether the holder is out of scope is not said.
    if (current !== undefined && !inScope(tree, current.groupId, scope))
      out.push({ row, reason: `username ${row.username} is taken` });
    else {
      const groupId = target?.groupId ?? current?.groupId ?? defaultGroup;
      out.push({ row, current, fields: mergedFields(row, groupId, current, policy?.id) });
    }
  }
  return out;
}

/** Stores the planned rows; a group deleted meanwhile is 404 (the import may simply be rerun). */
async function apply(
  deps: UserImportDeps,
  fields: UserFields[],
  atomic: boolean,
): Promise<UserUpsertOutcome[]> {
  try {
    return await deps.store.upsertUsers(
      fields.map((f) => ({ fields: f })),
      { atomic },
    );
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const tree = await deps.groups.tree();
    const gone = fields.find((f) => tree.get(f.groupId) === undefined);
    if (gone === undefined) throw error;
    throw new ManagementError(
      'ERR_GROUP_NOT_FOUND',
      `organization group ${gone.groupId} was deleted during the import; import the file again`,
      { group: gone.groupId, cause: error },
    );
  }
}

/** A report row; `reason` and `userId` only when there is one. */
function reportRow(
  row: UserCsvRow,
  outcome: UserImportOutcome,
  extra: { reason?: string; userId?: string },
): UserImportRow {
  return { line: row.line, username: row.username, outcome, ...extra, sendInvite: row.sendInvite };
}

/** Counts the outcomes of `rows` into a report. */
function reportOf(rows: UserImportRow[], atomic: boolean, applied: boolean): UserImportReport {
  const count = (o: UserImportOutcome) => rows.filter((r) => r.outcome === o).length;
  return {
    atomic,
    applied,
    created: count('created'),
    updated: count('updated'),
    unchanged: count('unchanged'),
    refused: count('refused'),
    rows,
  };
}

/**
 * Imports a user CSV file (see `parseUserCsv` for its format): rows are upserted by username;
 * an empty cell clears its field, a column the file lacks leaves the field as it is, an empty
 * `og` keeps an existing user's group and puts a new one in `groupId`. Throws ManagementError
 * 422 `ERR_USER_CSV` when the file cannot be read, 404 `ERR_GROUP_NOT_FOUND` when `groupId` is
 * unknown or out of scope (or a group vanished while storing). A `policy` cell names a policy by
 * id or name (stored as its id); one the caller does not see refuses its row. Once stored,
 * `deps.onUsersChanged` hears of the users created or whose policy or group changed.
 */
export async function importUsers(
  deps: UserImportDeps,
  text: string,
  options: UserImportOptions = {},
): Promise<UserImportReport> {
  const atomic = options.atomic ?? false;
  const { rows } = parseUserCsv(text, options);
  const tree = await deps.groups.tree();
  const scope = options.scope ?? tree.rootId;
  const defaultGroup = options.groupId ?? scope;
  if (!inScope(tree, defaultGroup, scope)) throw groupNotFound(defaultGroup);
  const planned = await plan(deps, rows, tree, scope, defaultGroup);
  const failed = planned.filter((p) => 'reason' in p).length;
  if (atomic && failed > 0) {
    const why = `not applied: the import is atomic and ${failed} row(s) were refused`;
    const report = planned.map((p) =>
      reportRow(p.row, 'refused', { reason: 'reason' in p ? p.reason : why }),
    );
    return reportOf(report, atomic, false);
  }
  const valid = planned.flatMap((p) => ('fields' in p ? [p] : []));
  const outcomes = await apply(
    deps,
    valid.map((p) => p.fields),
    atomic,
  );
  let next = 0;
  const report = planned.map((p) => {
    if ('reason' in p) return reportRow(p.row, 'refused', { reason: p.reason });
    const done = outcomes[next++];
    if (done === undefined) throw new TypeError('the store answered fewer rows than it was given');
    return reportRow(p.row, done.outcome, { userId: done.user.id });
  });
  const changed = valid.flatMap((p, i) => {
    const done = outcomes[i];
    if (done === undefined || done.outcome === 'unchanged') return [];
    const moved = p.current?.groupId !== done.user.groupId || p.current.policy !== done.user.policy;
    return moved ? [done.user.id] : [];
  });
  if (changed.length > 0) await deps.onUsersChanged?.(changed);
  return reportOf(report, atomic, true);
}

/**
 * Policies in PostgreSQL: policies (UNIQUE `name_key`, the name folded by the adapter), their
 * assignments (removal passwords sealed with the secrets key when the store has one; rows go with
 * their policy or library profile by ON DELETE CASCADE) and the groups' default policies. Names
 * are taken with `INSERT ... ON CONFLICT DO NOTHING` and renames lock the policy row, so two
 * daemons never take one name; unknown groups, policies and profiles are told by the foreign key
 * a write broke.
 */
import { StorageError } from '../../errors.js';
import {
  checkAssignmentRecord,
  checkPolicyChange,
  checkPolicyId,
  checkPolicyRecord,
  policyNameKey,
} from '../policies-check.js';
import type {
  AssignmentType,
  Page,
  PolicyAssignmentRecord,
  PolicyRecord,
  PolicyReferences,
  PolicyStore,
  RemovalControl,
} from '../ports.js';
import { removalPasswordOwner } from '../sealed-owners.js';
import {
  isUniqueViolation,
  one,
  op,
  query,
  run,
  sqlState,
  tx,
  type PgContext,
  type Queryable,
} from './db.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface PolicyRow {
  id: string;
  name: string;
  description: string | null;
  group_id: string;
  created_at: Date;
  updated_at: Date;
}

interface AssignmentRow {
  policy_id: string;
  profile_id: string;
  assignment_type: AssignmentType;
  removal: RemovalControl;
  removal_password: Uint8Array | null;
  created_at: Date;
  updated_at: Date;
}

type PolicyChange = Parameters<PolicyStore['updatePolicy']>[1];

const POLICIES =
  'SELECT id, name, description, group_id, created_at, updated_at FROM orchard_policies';
const ASSIGNMENTS = `SELECT policy_id, profile_id, assignment_type, removal, removal_password,
  created_at, updated_at FROM orchard_policy_assignments`;
const NAME_KEY = 'orchard_policies_name_key';

function policyRecord(row: PolicyRow): PolicyRecord {
  const r: PolicyRecord = {
    id: row.id,
    name: row.name,
    groupId: row.group_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.description !== null) r.description = row.description;
  return r;
}

function assignmentRecord(ctx: PgContext, row: AssignmentRow): PolicyAssignmentRecord {
  const r: PolicyAssignmentRecord = {
    policyId: row.policy_id,
    profileId: row.profile_id,
    assignmentType: row.assignment_type,
    removal: row.removal,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.removal_password !== null) {
    const owner = removalPasswordOwner(row.policy_id, row.profile_id);
    const plain = fromStore(ctx, 'removal-password', owner, row.removal_password);
    r.removalPassword = Buffer.from(plain).toString('utf8');
  }
  return r;
}

/** True when `error` (or the driver error a StorageError wraps) broke foreign key `constraint`. */
function brokeForeignKey(error: unknown, constraint: string): boolean {
  const e = error instanceof StorageError ? error.cause : error;
  return sqlState(e) === '23503' && (e as { constraint?: string }).constraint === constraint;
}

/** Rethrows a broken foreign key of `known` (constraint to message) as TypeError, else as is. */
function rethrow(error: unknown, known: Record<string, string>): never {
  for (const [constraint, message] of Object.entries(known))
    if (brokeForeignKey(error, constraint)) throw new TypeError(message, { cause: error });
  throw error;
}

async function knownGroup(on: Queryable, groupId: string): Promise<void> {
  const found = await one(on, 'SELECT 1 FROM orchard_groups WHERE id = $1', [groupId]);
  if (found === undefined) throw new TypeError(`unknown group ${groupId}`);
}

async function find(on: Queryable, id: string, lock = false): Promise<PolicyRecord | undefined> {
  const sql = `${POLICIES} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`;
  const row = await one<PolicyRow>(on, sql, [id]);
  return row && policyRecord(row);
}

async function create(ctx: PgContext, p: PolicyRecord): Promise<boolean> {
  checkPolicyRecord(p);
  await knownGroup(ctx.pool, p.groupId);
  try {
    const stored = await run(
      ctx.pool,
      `INSERT INTO orchard_policies (id, name, name_key, description, group_id, created_at,
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name_key) DO NOTHING`,
      [
        p.id,
        p.name,
        policyNameKey(p.name),
        p.description ?? null,
        p.groupId,
        p.createdAt,
        p.updatedAt,
      ],
    );
    return stored === 1;
  } catch (error) {
    // The group went between the check and the insert.
    return rethrow(error, { orchard_policies_group_fk: `unknown group ${p.groupId}` });
  }
}

/** The policy `current` becomes with `change` at `at`. */
function changed(current: PolicyRecord, change: PolicyChange, at: Date): PolicyRecord {
  const next: PolicyRecord = { ...current, updatedAt: at };
  if (change.name !== undefined) next.name = change.name;
  if (change.description === null) delete next.description;
  else if (change.description !== undefined) next.description = change.description;
  if (change.groupId !== undefined) next.groupId = change.groupId;
  return next;
}

async function updateIn(
  on: Queryable,
  id: string,
  change: PolicyChange,
  at: Date,
): Promise<PolicyRecord | 'name-taken' | undefined> {
  const current = await find(on, id, true);
  if (current === undefined) return undefined;
  if (change.groupId !== undefined) await knownGroup(on, change.groupId);
  if (change.name !== undefined) {
    const sql = 'SELECT id FROM orchard_policies WHERE name_key = $1';
    const holder = await one<{ id: string }>(on, sql, [policyNameKey(change.name)]);
    if (holder !== undefined && holder.id !== id) return 'name-taken';
  }
  const next = changed(current, change, at);
  await run(
    on,
    `UPDATE orchard_policies SET name = $1, name_key = $2, description = $3, group_id = $4,
       updated_at = $5 WHERE id = $6`,
    [next.name, policyNameKey(next.name), next.description ?? null, next.groupId, at, id],
  );
  return next;
}

async function update(
  ctx: PgContext,
  id: string,
  change: PolicyChange,
  at: Date,
): Promise<PolicyRecord | 'name-taken' | undefined> {
  checkPolicyChange(change);
  try {
    return await tx(ctx, (client) => updateIn(client, id, change, at));
  } catch (error) {
    // Another writer took the name (or deleted the group) after this one looked.
    if (error instanceof StorageError && isUniqueViolation(error.cause, NAME_KEY))
      return 'name-taken';
    return rethrow(error, { orchard_policies_group_fk: `unknown group ${change.groupId ?? ''}` });
  }
}

async function list(
  ctx: PgContext,
  options: Parameters<PolicyStore['listPolicies']>[0],
): Promise<Page<PolicyRecord>> {
  if (options.cursor !== undefined) checkPolicyId(options.cursor, 'cursor');
  const after = options.cursor ?? '';
  const limit = options.limit + 1;
  const rows =
    options.groupIds === undefined
      ? await query<PolicyRow>(ctx.pool, `${POLICIES} WHERE id > $1 ORDER BY id LIMIT $2`, [
          after,
          limit,
        ])
      : await query<PolicyRow>(
          ctx.pool,
          `${POLICIES} WHERE id > $1 AND group_id = ANY($2::text[]) ORDER BY id LIMIT $3`,
          [after, [...options.groupIds], limit],
        );
  const items = rows.slice(0, options.limit).map(policyRecord);
  const last = items.at(-1);
  return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
}

async function countReferences(ctx: PgContext, policyId: string): Promise<PolicyReferences> {
  const row = await one<PolicyReferences>(
    ctx.pool,
    `SELECT
       (SELECT count(*) FROM orchard_users WHERE policy = $1) AS users,
       (SELECT count(*) FROM orchard_group_policies WHERE policy_id = $1) AS groups,
       (SELECT count(*) FROM orchard_admin_enrollment_tokens
         WHERE policy = $1 AND revoked_at IS NULL) AS links`,
    [policyId],
  );
  return row ?? { users: 0, groups: 0, links: 0 };
}

async function putAssignment(ctx: PgContext, a: PolicyAssignmentRecord): Promise<void> {
  checkAssignmentRecord(a);
  const password =
    a.removalPassword === undefined
      ? null
      : toStore(
          ctx,
          'removal-password',
          removalPasswordOwner(a.policyId, a.profileId),
          Buffer.from(a.removalPassword, 'utf8'),
        );
  try {
    await run(
      ctx.pool,
      `INSERT INTO orchard_policy_assignments (policy_id, profile_id, assignment_type, removal,
         removal_password, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (policy_id, profile_id) DO UPDATE SET assignment_type = EXCLUDED.assignment_type,
         removal = EXCLUDED.removal, removal_password = EXCLUDED.removal_password,
         created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`,
      [a.policyId, a.profileId, a.assignmentType, a.removal, password, a.createdAt, a.updatedAt],
    );
  } catch (error) {
    rethrow(error, {
      orchard_policy_assignments_policy_fk: `unknown policy ${a.policyId}`,
      orchard_policy_assignments_profile_fk: `unknown library profile ${a.profileId}`,
    });
  }
}

async function setGroupPolicy(
  ctx: PgContext,
  groupId: string,
  policyId: string | undefined,
): Promise<void> {
  await knownGroup(ctx.pool, groupId);
  if (policyId === undefined) {
    await run(ctx.pool, 'DELETE FROM orchard_group_policies WHERE group_id = $1', [groupId]);
    return;
  }
  let stored: number;
  try {
    stored = await run(
      ctx.pool,
      `INSERT INTO orchard_group_policies (group_id, policy_id)
       SELECT $1, id FROM orchard_policies WHERE id = $2
       ON CONFLICT (group_id) DO UPDATE SET policy_id = EXCLUDED.policy_id`,
      [groupId, policyId],
    );
  } catch (error) {
    return rethrow(error, { orchard_group_policies_group_fk: `unknown group ${groupId}` });
  }
  if (stored === 0) throw new TypeError(`unknown policy ${policyId}`);
}

async function assignments(
  ctx: PgContext,
  where: string,
  value: string,
): Promise<PolicyAssignmentRecord[]> {
  const rows = await query<AssignmentRow>(ctx.pool, `${ASSIGNMENTS} ${where}`, [value]);
  return rows.map((row) => assignmentRecord(ctx, row));
}

async function groupPolicies(ctx: PgContext): Promise<Map<string, string>> {
  const sql = 'SELECT group_id, policy_id FROM orchard_group_policies ORDER BY group_id';
  const rows = await query<{ group_id: string; policy_id: string }>(ctx.pool, sql);
  return new Map(rows.map((r) => [r.group_id, r.policy_id]));
}

/** The {@link PolicyStore} on a context. */
export function pgPolicies(ctx: PgContext): PolicyStore {
  const guard = <T>(fn: () => Promise<T>): Promise<T> => op(ctx, fn);
  return {
    createPolicy: (record) => guard(() => create(ctx, record)),
    updatePolicy: (id, change, at) => guard(() => update(ctx, id, change, at)),
    // Assignments go by ON DELETE CASCADE.
    deletePolicy: (id) =>
      guard(
        async () => (await run(ctx.pool, 'DELETE FROM orchard_policies WHERE id = $1', [id])) === 1,
      ),
    findPolicy: (id) => guard(() => find(ctx.pool, id)),
    findPolicyByName: (name) =>
      guard(async () => {
        const sql = `${POLICIES} WHERE name_key = $1`;
        const row = await one<PolicyRow>(ctx.pool, sql, [policyNameKey(name)]);
        return row && policyRecord(row);
      }),
    listPolicies: (options) => guard(() => list(ctx, options)),
    countPolicies: (groupId) =>
      guard(async () => {
        const sql = 'SELECT count(*) AS n FROM orchard_policies WHERE group_id = $1';
        return (await one<{ n: number }>(ctx.pool, sql, [groupId]))?.n ?? 0;
      }),
    countPolicyReferences: (policyId) => guard(() => countReferences(ctx, policyId)),
    putAssignment: (record) => guard(() => putAssignment(ctx, record)),
    deleteAssignment: (policyId, profileId) =>
      guard(
        async () =>
          (await run(
            ctx.pool,
            'DELETE FROM orchard_policy_assignments WHERE policy_id = $1 AND profile_id = $2',
            [policyId, profileId],
          )) === 1,
      ),
    listAssignments: (policyId) =>
      guard(() => assignments(ctx, 'WHERE policy_id = $1 ORDER BY profile_id', policyId)),
    listProfileAssignments: (profileId) =>
      guard(() => assignments(ctx, 'WHERE profile_id = $1 ORDER BY policy_id', profileId)),
    setGroupPolicy: (groupId, policyId) => guard(() => setGroupPolicy(ctx, groupId, policyId)),
    listGroupPolicies: () => guard(() => groupPolicies(ctx)),
  };
}

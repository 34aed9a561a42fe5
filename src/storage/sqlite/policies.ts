/**
 * Policies in SQLite (migration 9): policies (UNIQUE `name_key`, the name folded by the adapter),
 * their assignments (removal passwords sealed with the secrets key when the store has one; rows
 * go with their policy or library profile by ON DELETE CASCADE) and the groups' default policies.
 * Writes that read first run in IMMEDIATE transactions, so two daemons never take one name.
 */
import {
  checkAssignmentRecord,
  checkPolicyChange,
  checkPolicyId,
  checkPolicyRecord,
  policyNameKey,
} from '../policies-check.js';
import type {
  AssignmentType,
  PolicyAssignmentRecord,
  PolicyRecord,
  PolicyReferences,
  PolicyStore,
  RemovalControl,
} from '../ports.js';
import { adminGuard } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';
import { fromStore, removalPasswordOwner, toStore } from './sealed-secrets.js';

interface PolicyRow {
  id: string;
  name: string;
  description: string | null;
  group_id: string;
  created_at: number;
  updated_at: number;
}

interface AssignmentRow {
  policy_id: string;
  profile_id: string;
  assignment_type: AssignmentType;
  removal: RemovalControl;
  removal_password: Uint8Array | null;
  created_at: number;
  updated_at: number;
}

const POLICIES =
  'SELECT id, name, description, group_id, created_at, updated_at FROM orchard_policies';
const ASSIGNMENTS = 'SELECT * FROM orchard_policy_assignments';
const GROUP = 'SELECT 1 FROM orchard_groups WHERE id = ?';

function policyRecord(row: PolicyRow): PolicyRecord {
  const r: PolicyRecord = {
    id: row.id,
    name: row.name,
    groupId: row.group_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  if (row.description !== null) r.description = row.description;
  return r;
}

function assignmentRecord(ctx: SqliteContext, row: AssignmentRow): PolicyAssignmentRecord {
  const r: PolicyAssignmentRecord = {
    policyId: row.policy_id,
    profileId: row.profile_id,
    assignmentType: row.assignment_type,
    removal: row.removal,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  if (row.removal_password !== null) {
    const owner = removalPasswordOwner(row.policy_id, row.profile_id);
    const plain = fromStore(ctx, 'removal-password', owner, row.removal_password);
    r.removalPassword = Buffer.from(plain).toString('utf8');
  }
  return r;
}

function knownGroup(ctx: SqliteContext, groupId: string): void {
  if (stmt(ctx, GROUP).get(groupId) === undefined) throw new TypeError(`unknown group ${groupId}`);
}

function find(ctx: SqliteContext, id: string): PolicyRecord | undefined {
  const row = stmt(ctx, `${POLICIES} WHERE id = ?`).get(id) as PolicyRow | undefined;
  return row && policyRecord(row);
}

function create(ctx: SqliteContext, p: PolicyRecord): boolean {
  checkPolicyRecord(p);
  return writeTx(ctx, () => {
    knownGroup(ctx, p.groupId);
    const key = policyNameKey(p.name);
    if (stmt(ctx, 'SELECT 1 FROM orchard_policies WHERE name_key = ?').get(key) !== undefined)
      return false;
    stmt(
      ctx,
      `INSERT INTO orchard_policies (id, name, name_key, description, group_id, created_at,
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      ...[p.id, p.name, key, p.description ?? null, p.groupId],
      ...[p.createdAt.getTime(), p.updatedAt.getTime()],
    );
    return true;
  });
}

function update(
  ctx: SqliteContext,
  id: string,
  change: Parameters<PolicyStore['updatePolicy']>[1],
  at: Date,
): PolicyRecord | 'name-taken' | undefined {
  checkPolicyChange(change);
  return writeTx(ctx, () => {
    const current = find(ctx, id);
    if (current === undefined) return undefined;
    if (change.groupId !== undefined) knownGroup(ctx, change.groupId);
    const next: PolicyRecord = { ...current, updatedAt: at };
    if (change.name !== undefined) {
      const sql = 'SELECT id FROM orchard_policies WHERE name_key = ?';
      const holder = stmt(ctx, sql).pluck().get(policyNameKey(change.name)) as string | undefined;
      if (holder !== undefined && holder !== id) return 'name-taken';
      next.name = change.name;
    }
    if (change.description === null) delete next.description;
    else if (change.description !== undefined) next.description = change.description;
    if (change.groupId !== undefined) next.groupId = change.groupId;
    stmt(
      ctx,
      `UPDATE orchard_policies SET name = ?, name_key = ?, description = ?, group_id = ?,
         updated_at = ? WHERE id = ?`,
    ).run(
      ...[next.name, policyNameKey(next.name), next.description ?? null, next.groupId],
      ...[at.getTime(), id],
    );
    return next;
  });
}

function list(ctx: SqliteContext, options: Parameters<PolicyStore['listPolicies']>[0]) {
  if (options.cursor !== undefined) checkPolicyId(options.cursor, 'cursor');
  const after = options.cursor ?? '';
  const limit = options.limit + 1;
  const rows = (
    options.groupIds === undefined
      ? stmt(ctx, `${POLICIES} WHERE id > ? ORDER BY id LIMIT ?`).all(after, limit)
      : stmt(
          ctx,
          `${POLICIES} WHERE id > ? AND group_id IN (SELECT value FROM json_each(?))
           ORDER BY id LIMIT ?`,
        ).all(after, JSON.stringify(options.groupIds), limit)
  ) as PolicyRow[];
  const items = rows.slice(0, options.limit).map(policyRecord);
  const last = items.at(-1);
  return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
}

function countReferences(ctx: SqliteContext, policyId: string): PolicyReferences {
  const count = (sql: string): number => stmt(ctx, sql).pluck().get(policyId) as number;
  return {
    users: count('SELECT count(*) FROM orchard_users WHERE policy = ?'),
    groups: count('SELECT count(*) FROM orchard_group_policies WHERE policy_id = ?'),
    links: count(
      'SELECT count(*) FROM orchard_admin_enrollment_tokens WHERE policy = ? AND revoked_at IS NULL',
    ),
  };
}

function putAssignment(ctx: SqliteContext, a: PolicyAssignmentRecord): void {
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
  writeTx(ctx, () => {
    if (find(ctx, a.policyId) === undefined) throw new TypeError(`unknown policy ${a.policyId}`);
    const profile = 'SELECT 1 FROM orchard_library_profiles WHERE id = ?';
    if (stmt(ctx, profile).get(a.profileId) === undefined)
      throw new TypeError(`unknown library profile ${a.profileId}`);
    stmt(
      ctx,
      `INSERT OR REPLACE INTO orchard_policy_assignments (policy_id, profile_id, assignment_type,
         removal, removal_password, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      ...[a.policyId, a.profileId, a.assignmentType, a.removal, password],
      ...[a.createdAt.getTime(), a.updatedAt.getTime()],
    );
  });
}

function setGroupPolicy(ctx: SqliteContext, groupId: string, policyId: string | undefined): void {
  writeTx(ctx, () => {
    knownGroup(ctx, groupId);
    if (policyId === undefined) {
      stmt(ctx, 'DELETE FROM orchard_group_policies WHERE group_id = ?').run(groupId);
      return;
    }
    if (find(ctx, policyId) === undefined) throw new TypeError(`unknown policy ${policyId}`);
    stmt(
      ctx,
      'INSERT OR REPLACE INTO orchard_group_policies (group_id, policy_id) VALUES (?, ?)',
    ).run(groupId, policyId);
  });
}

/** The {@link PolicyStore} on a connection context. */
export function sqlitePolicies(ctx: SqliteContext): PolicyStore {
  const run = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  const assignments = (sql: string, value: string): PolicyAssignmentRecord[] =>
    (stmt(ctx, sql).all(value) as AssignmentRow[]).map((row) => assignmentRecord(ctx, row));
  return {
    createPolicy: (record) => run(() => create(ctx, record)),
    updatePolicy: (id, change, at) => run(() => update(ctx, id, change, at)),
    // Assignments go by ON DELETE CASCADE.
    deletePolicy: (id) =>
      run(() => stmt(ctx, 'DELETE FROM orchard_policies WHERE id = ?').run(id).changes === 1),
    findPolicy: (id) => run(() => find(ctx, id)),
    findPolicyByName: (name) =>
      run(() => {
        const sql = `${POLICIES} WHERE name_key = ?`;
        const row = stmt(ctx, sql).get(policyNameKey(name)) as PolicyRow | undefined;
        return row && policyRecord(row);
      }),
    listPolicies: (options) => run(() => list(ctx, options)),
    countPolicies: (groupId) =>
      run(
        () =>
          stmt(ctx, 'SELECT count(*) FROM orchard_policies WHERE group_id = ?')
            .pluck()
            .get(groupId) as number,
      ),
    countPolicyReferences: (policyId) => run(() => countReferences(ctx, policyId)),
    putAssignment: (record) =>
      run(() => {
        putAssignment(ctx, record);
      }),
    deleteAssignment: (policyId, profileId) =>
      run(
        () =>
          stmt(
            ctx,
            'DELETE FROM orchard_policy_assignments WHERE policy_id = ? AND profile_id = ?',
          ).run(policyId, profileId).changes === 1,
      ),
    listAssignments: (policyId) =>
      run(() => assignments(`${ASSIGNMENTS} WHERE policy_id = ? ORDER BY profile_id`, policyId)),
    listProfileAssignments: (profileId) =>
      run(() => assignments(`${ASSIGNMENTS} WHERE profile_id = ? ORDER BY policy_id`, profileId)),
    setGroupPolicy: (groupId, policyId) =>
      run(() => {
        setGroupPolicy(ctx, groupId, policyId);
      }),
    listGroupPolicies: () =>
      run(() => {
        const sql = 'SELECT group_id, policy_id FROM orchard_group_policies ORDER BY group_id';
        const rows = stmt(ctx, sql).all() as { group_id: string; policy_id: string }[];
        return new Map(rows.map((r) => [r.group_id, r.policy_id]));
      }),
  };
}

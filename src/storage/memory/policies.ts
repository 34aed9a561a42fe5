/**
 * Policies in memory: policies by id and by name key (names unique case-insensitively), their
 * assignments, and the groups' default policies. Every method is one synchronous step, so two
 * concurrent creations never both take one name.
 */
import { StorageError } from '../../errors.js';
import {
  checkAssignmentRecord,
  checkPolicyChange,
  checkPolicyId,
  checkPolicyRecord,
  policyNameKey,
} from '../policies-check.js';
import type { PolicyAssignmentRecord, PolicyRecord, PolicyStore } from '../ports.js';
import {
  adminStep,
  byBytes,
  type AdminState,
  type AssignmentRow,
  type PolicyRow,
} from './admin-state.js';

function policyRecord(row: PolicyRow): PolicyRecord {
  const { createdAt, updatedAt, ...rest } = row;
  return { ...rest, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
}

function assignmentRecord(row: AssignmentRow): PolicyAssignmentRecord {
  const { createdAt, updatedAt, ...rest } = row;
  return { ...rest, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
}

function policyRow(r: PolicyRecord): PolicyRow {
  const row: PolicyRow = {
    id: r.id,
    name: r.name,
    groupId: r.groupId,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
  };
  if (r.description !== undefined) row.description = r.description;
  return row;
}

function assignmentRow(r: PolicyAssignmentRecord): AssignmentRow {
  const row: AssignmentRow = {
    policyId: r.policyId,
    profileId: r.profileId,
    assignmentType: r.assignmentType,
    removal: r.removal,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
  };
  if (r.removalPassword !== undefined) row.removalPassword = r.removalPassword;
  return row;
}

function knownGroup(s: AdminState, groupId: string): void {
  if (!s.groups.has(groupId)) throw new TypeError(`unknown group ${groupId}`);
}

function create(s: AdminState, record: PolicyRecord): boolean {
  checkPolicyRecord(record);
  knownGroup(s, record.groupId);
  const key = policyNameKey(record.name);
  if (s.policyNames.has(key)) return false;
  if (s.policies.has(record.id))
    throw new StorageError('admin store operation failed: duplicate policy id');
  s.policies.set(record.id, policyRow(record));
  s.policyNames.set(key, record.id);
  return true;
}

function update(
  s: AdminState,
  id: string,
  change: Parameters<PolicyStore['updatePolicy']>[1],
  at: Date,
): PolicyRecord | 'name-taken' | undefined {
  checkPolicyChange(change);
  const row = s.policies.get(id);
  if (row === undefined) return undefined;
  if (change.groupId !== undefined) knownGroup(s, change.groupId);
  const next: PolicyRow = { ...row, updatedAt: at.getTime() };
  if (change.name !== undefined) {
    const holder = s.policyNames.get(policyNameKey(change.name));
    if (holder !== undefined && holder !== id) return 'name-taken';
    next.name = change.name;
  }
  if (change.description === null) delete next.description;
  else if (change.description !== undefined) next.description = change.description;
  if (change.groupId !== undefined) next.groupId = change.groupId;
  s.policyNames.delete(policyNameKey(row.name));
  s.policyNames.set(policyNameKey(next.name), id);
  s.policies.set(id, next);
  return policyRecord(next);
}

function remove(s: AdminState, id: string): boolean {
  const row = s.policies.get(id);
  if (row === undefined) return false;
  s.policies.delete(id);
  s.policyNames.delete(policyNameKey(row.name));
  s.assignments.delete(id);
  return true;
}

function list(s: AdminState, options: Parameters<PolicyStore['listPolicies']>[0]) {
  const { limit, cursor, groupIds } = options;
  if (cursor !== undefined) checkPolicyId(cursor, 'cursor');
  const after = cursor ?? '';
  const groups = groupIds && new Set(groupIds);
  const rows = [...s.policies.values()]
    .filter((row) => byBytes(row.id, after) > 0 && (!groups || groups.has(row.groupId)))
    .sort((a, b) => byBytes(a.id, b.id))
    .slice(0, limit + 1);
  const items = rows.slice(0, limit).map(policyRecord);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
}

function countReferences(s: AdminState, policyId: string) {
  let users = 0;
  let groups = 0;
  let links = 0;
  for (const u of s.users.values()) if (u.policy === policyId) users += 1;
  for (const p of s.groupPolicies.values()) if (p === policyId) groups += 1;
  for (const l of s.links.values())
    if (l.policy === policyId && l.revokedAt === undefined) links += 1;
  return { users, groups, links };
}

function putAssignment(s: AdminState, record: PolicyAssignmentRecord): void {
  checkAssignmentRecord(record);
  if (!s.policies.has(record.policyId)) throw new TypeError(`unknown policy ${record.policyId}`);
  if (!s.profiles.has(record.profileId))
    throw new TypeError(`unknown library profile ${record.profileId}`);
  let of = s.assignments.get(record.policyId);
  if (of === undefined) {
    of = new Map();
    s.assignments.set(record.policyId, of);
  }
  of.set(record.profileId, assignmentRow(record));
}

/** Deletes every assignment of a library profile (the profile is going). */
export function deleteProfileAssignments(s: AdminState, profileId: string): void {
  for (const of of s.assignments.values()) of.delete(profileId);
}

function setGroupPolicy(s: AdminState, groupId: string, policyId: string | undefined): void {
  knownGroup(s, groupId);
  if (policyId === undefined) {
    s.groupPolicies.delete(groupId);
    return;
  }
  if (!s.policies.has(policyId)) throw new TypeError(`unknown policy ${policyId}`);
  s.groupPolicies.set(groupId, policyId);
}

const byProfile = (a: AssignmentRow, b: AssignmentRow): number => byBytes(a.profileId, b.profileId);
const byPolicy = (a: AssignmentRow, b: AssignmentRow): number => byBytes(a.policyId, b.policyId);

/** The {@link PolicyStore} on the memory admin state. */
export function memoryPolicies(s: AdminState): PolicyStore {
  const step = <T>(fn: () => T): Promise<T> => adminStep(s, fn);
  return {
    createPolicy: (record) => step(() => create(s, record)),
    updatePolicy: (id, change, at) => step(() => update(s, id, change, at)),
    deletePolicy: (id) => step(() => remove(s, id)),
    findPolicy: (id) =>
      step(() => {
        const row = s.policies.get(id);
        return row && policyRecord(row);
      }),
    findPolicyByName: (name) =>
      step(() => {
        const row = s.policies.get(s.policyNames.get(policyNameKey(name)) ?? '');
        return row && policyRecord(row);
      }),
    listPolicies: (options) => step(() => list(s, options)),
    countPolicies: (groupId) =>
      step(() => [...s.policies.values()].filter((p) => p.groupId === groupId).length),
    countPolicyReferences: (policyId) => step(() => countReferences(s, policyId)),
    putAssignment: (record) =>
      step(() => {
        putAssignment(s, record);
      }),
    deleteAssignment: (policyId, profileId) =>
      step(() => s.assignments.get(policyId)?.delete(profileId) ?? false),
    listAssignments: (policyId) =>
      step(() =>
        [...(s.assignments.get(policyId)?.values() ?? [])].sort(byProfile).map(assignmentRecord),
      ),
    listProfileAssignments: (profileId) =>
      step(() =>
        [...s.assignments.values()]
          .flatMap((of) => {
            const row = of.get(profileId);
            return row === undefined ? [] : [row];
          })
          .sort(byPolicy)
          .map(assignmentRecord),
      ),
    setGroupPolicy: (groupId, policyId) =>
      step(() => {
        setGroupPolicy(s, groupId, policyId);
      }),
    listGroupPolicies: () =>
      step(() => new Map([...s.groupPolicies].sort(([a], [b]) => byBytes(a, b)))),
  };
}

/**
 * Organization groups, their settings records and administrators in memory. A change is checked
 * in full before anything is touched, and applied in one synchronous step (no await inside), so
 * of two applies on one revision exactly one wins, as in SQLite.
 */
import { StorageError } from '../../errors.js';
import {
  checkManagementChange,
  checkPrincipalChange,
  checkRole,
  settingsKey,
} from '../management-check.js';
import {
  OWNER_PRINCIPAL_ID,
  type OrgGroupRecord,
  type OrgGroupStore,
  type PrincipalRecord,
  type PrincipalStore,
  type SettingsRecord,
} from '../ports.js';
import {
  adminStep,
  byBytes,
  newAdminId,
  put,
  type AdminState,
  type GroupRow,
  type PrincipalRow,
  type SettingsRow,
} from './admin-state.js';

function groupRecord(row: GroupRow): OrgGroupRecord {
  const r: OrgGroupRecord = { id: row.id, name: row.name, createdAt: new Date(row.createdAt) };
  if (row.parentId !== undefined) r.parentId = row.parentId;
  return r;
}

function settingsRecord(row: SettingsRow): SettingsRecord {
  return {
    groupId: row.groupId,
    page: row.page,
    values: JSON.parse(row.values) as Record<string, unknown>,
    childPermission: row.childPermission,
    updatedAt: new Date(row.updatedAt),
  };
}

function principalRecord(row: PrincipalRow): PrincipalRecord {
  const r: PrincipalRecord = {
    id: row.id,
    name: row.name,
    role: row.role,
    groupId: row.groupId,
    createdAt: new Date(row.createdAt),
  };
  if (row.disabledAt !== undefined) r.disabledAt = new Date(row.disabledAt);
  return r;
}

/** Whether a group owns a library profile, a policy or a user, or scopes an active administrator. */
export function memoryGroupInUse(s: AdminState, groupId: string): boolean {
  for (const p of s.profiles.values()) if (p.groupId === groupId) return true;
  for (const p of s.policies.values()) if (p.groupId === groupId) return true;
  for (const u of s.users.values()) if (u.groupId === groupId) return true;
  for (const p of s.principals.values())
    if (p.groupId === groupId && p.disabledAt === undefined) return true;
  return false;
}

/**
 * Deletes a group with its settings records, its default policy and the ownership records of
 * enrollments in it, and revokes its active links (a generic link of a deleted group has nowhere
 * to enroll into).
 */
function deleteGroup(s: AdminState, id: string): void {
  s.groups.delete(id);
  s.groupPolicies.delete(id);
  for (const [key, row] of s.settings) if (row.groupId === id) s.settings.delete(key);
  for (const [key, row] of s.owners) if (row.groupId === id) s.owners.delete(key);
  const at = s.clock().getTime();
  for (const link of s.links.values())
    if (link.groupId === id && link.revokedAt === undefined)
      put(s.links, link.id, { ...link, revokedAt: at });
}

function parentsOf(s: AdminState): Map<string, string | undefined> {
  return new Map([...s.groups.values()].map((g) => [g.id, g.parentId]));
}

/** The {@link OrgGroupStore} on the memory admin state. */
export function memoryOrgGroups(s: AdminState): OrgGroupStore {
  return {
    loadManagement: () =>
      adminStep(s, () => ({
        revision: s.revision,
        groups: [...s.groups.values()].sort((a, b) => byBytes(a.id, b.id)).map(groupRecord),
        settings: [...s.settings.values()]
          .sort((a, b) => byBytes(a.groupId, b.groupId) || byBytes(a.page, b.page))
          .map(settingsRecord),
      })),
    findManagementRevision: () => adminStep(s, () => s.revision),
    applyManagement: (change, expectedRevision) =>
      adminStep(s, () => {
        if (expectedRevision !== s.revision) return undefined;
        checkManagementChange(parentsOf(s), change, (id) => memoryGroupInUse(s, id));
        for (const id of change.deleteGroups ?? []) deleteGroup(s, id);
        for (const { groupId, page } of change.deleteSettings ?? [])
          s.settings.delete(settingsKey(groupId, page));
        for (const g of change.putGroups ?? []) {
          const row: GroupRow = { id: g.id, name: g.name, createdAt: g.createdAt.getTime() };
          if (g.parentId !== undefined) row.parentId = g.parentId;
          s.groups.set(g.id, row);
        }
        for (const r of change.putSettings ?? []) {
          s.settings.set(settingsKey(r.groupId, r.page), {
            groupId: r.groupId,
            page: r.page,
            values: JSON.stringify(r.values),
            childPermission: r.childPermission,
            updatedAt: r.updatedAt.getTime(),
          });
        }
        s.revision += 1;
        return s.revision;
      }),
    findGroup: (id) =>
      adminStep(s, () => {
        const row = s.groups.get(id);
        return row && groupRecord(row);
      }),
  };
}

/** The {@link PrincipalStore} on the memory admin state. */
export function memoryPrincipals(s: AdminState): PrincipalStore {
  const knownGroup = (groupId: string): void => {
    if (!s.groups.has(groupId)) throw new TypeError(`unknown group ${groupId}`);
  };
  return {
    createPrincipal: (input) =>
      adminStep(s, () => {
        checkRole(input.role);
        knownGroup(input.groupId);
        const row: PrincipalRow = {
          id: newAdminId('adm'),
          name: input.name,
          role: input.role,
          groupId: input.groupId,
          createdAt: s.clock().getTime(),
        };
        if (s.principals.has(row.id))
          throw new StorageError('admin store operation failed: duplicate principal id');
        s.principals.set(row.id, row);
        return principalRecord(row);
      }),
    findPrincipal: (id) =>
      adminStep(s, () => {
        const row = s.principals.get(id);
        return row && principalRecord(row);
      }),
    listPrincipals: () =>
      adminStep(s, () =>
        [...s.principals.values()]
          .sort((a, b) => a.createdAt - b.createdAt || byBytes(a.id, b.id))
          .map(principalRecord),
      ),
    updatePrincipal: (id, change) =>
      adminStep(s, () => {
        const row = s.principals.get(id);
        if (row === undefined) return undefined;
        checkPrincipalChange(id, change);
        if (change.groupId !== undefined) knownGroup(change.groupId);
        const next: PrincipalRow = { ...row };
        if (change.name !== undefined) next.name = change.name;
        if (change.role !== undefined) next.role = change.role;
        if (change.groupId !== undefined) next.groupId = change.groupId;
        put(s.principals, id, next);
        return principalRecord(next);
      }),
    disablePrincipal: (id, at) =>
      adminStep(s, () => {
        const row = s.principals.get(id);
        if (id === OWNER_PRINCIPAL_ID || row === undefined || row.disabledAt !== undefined)
          return false;
        put(s.principals, id, { ...row, disabledAt: at.getTime() });
        for (const key of s.keys.values())
          if (key.principalId === id && key.revokedAt === undefined)
            put(s.keys, key.id, { ...key, revokedAt: at.getTime() });
        return true;
      }),
  };
}

/**
 * Integrity checks of the management stores, shared by every adapter so memory and SQLite refuse
 * the same changes: the tree must keep its root, every other group its parent, and no cycle.
 * Pure functions on plain values; the adapters run them before they mutate anything.
 */
import {
  OWNER_PRINCIPAL_ID,
  ROOT_GROUP_ID,
  type AdminRole,
  type AssignmentType,
  type ChildPermission,
  type ManagementChange,
  type OrgGroupRecord,
  type SettingsRecord,
} from './ports.js';

const CHILD_PERMISSIONS: readonly ChildPermission[] = [
  'inherit-only',
  'override-only',
  'inherit-or-override',
];
const ROLES: readonly AdminRole[] = ['read-only', 'full'];
const ASSIGNMENTS: readonly AssignmentType[] = ['auto', 'optional', 'interactive'];

/** What the check needs of a group: its parent. */
export type GroupParents = ReadonlyMap<string, string | undefined>;

/** Groups a change may not delete: those owning profiles, policies or users, or scoping active administrators. */
export type GroupInUse = (groupId: string) => boolean;

/** The key of a settings record, unique per (group, page). */
export function settingsKey(groupId: string, page: string): string {
  return `${groupId}\u0000${page}`;
}

function checkGroup(group: OrgGroupRecord): void {
  if (typeof group.id !== 'string' || group.id === '') throw new TypeError('bad group id');
  if (typeof group.name !== 'string') throw new TypeError(`group ${group.id}: bad name`);
  if (!(group.createdAt instanceof Date) || Number.isNaN(group.createdAt.getTime()))
    throw new TypeError(`group ${group.id}: bad createdAt`);
  if (group.id === ROOT_GROUP_ID && group.parentId !== undefined)
    throw new TypeError('the root group has no parent');
  if (group.id !== ROOT_GROUP_ID && (group.parentId === undefined || group.parentId === group.id))
    throw new TypeError(`group ${group.id} needs a parent`);
}

function checkSettings(record: SettingsRecord): void {
  if (typeof record.page !== 'string' || record.page === '') throw new TypeError('bad page');
  if (!CHILD_PERMISSIONS.includes(record.childPermission))
    throw new TypeError(`bad childPermission ${record.childPermission}`);
  // Callers are typed, but values come from JSON bodies: check the shape at runtime.
  const values: unknown = record.values;
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw new TypeError('settings values must be an object');
  if (!(record.updatedAt instanceof Date) || Number.isNaN(record.updatedAt.getTime()))
    throw new TypeError('bad updatedAt');
}

/** Throws TypeError when a group of `parents` cannot reach the root through its parents. */
function checkTree(parents: GroupParents): void {
  const reaches = new Set<string>([ROOT_GROUP_ID]);
  for (const start of parents.keys()) {
    const path: string[] = [];
    let id: string | undefined = start;
    while (id !== undefined && !reaches.has(id)) {
      if (path.includes(id)) throw new TypeError(`group ${start} is in a cycle`);
      if (!parents.has(id))
        throw new TypeError(`group ${path.at(-1) ?? start} has no parent ${id}`);
      path.push(id);
      id = parents.get(id);
    }
    if (id === undefined) throw new TypeError(`group ${start} does not reach the root`);
    for (const p of path) reaches.add(p);
  }
}

/**
 * Checks `change` against the current groups (`parents`, id → parent id) and returns the groups
 * after it. Throws TypeError (the caller applies nothing) when it would delete the root or a group
 * in use, leave a group without its parent, make a cycle, put the same group or settings record
 * twice, delete and put one group, or keep settings of a group that would not exist.
 */
export function checkManagementChange(
  parents: GroupParents,
  change: ManagementChange,
  inUse: GroupInUse,
): Map<string, string | undefined> {
  const next = new Map(parents);
  const deleted = new Set(change.deleteGroups ?? []);
  for (const id of deleted) {
    if (id === ROOT_GROUP_ID) throw new TypeError('the root group cannot be deleted');
    if (parents.has(id) && inUse(id))
      throw new TypeError(`group ${id} still owns profiles, policies, users or administrators`);
    next.delete(id);
  }
  const seen = new Set<string>();
  for (const group of change.putGroups ?? []) {
    checkGroup(group);
    if (seen.has(group.id) || deleted.has(group.id))
      throw new TypeError(`group ${group.id} appears twice in one change`);
    seen.add(group.id);
    next.set(group.id, group.parentId);
  }
  checkTree(next);
  const keys = new Set<string>();
  for (const record of change.putSettings ?? []) {
    checkSettings(record);
    if (!next.has(record.groupId))
      throw new TypeError(`settings of unknown group ${record.groupId}`);
    const key = settingsKey(record.groupId, record.page);
    if (keys.has(key)) throw new TypeError(`settings ${record.groupId}/${record.page} twice`);
    keys.add(key);
  }
  return next;
}

/** Throws TypeError unless `role` is an {@link AdminRole}. */
export function checkRole(role: unknown): void {
  if (!ROLES.includes(role as AdminRole)) throw new TypeError(`bad role ${String(role)}`);
}

/** Throws TypeError unless `type` is an {@link AssignmentType}. */
export function checkAssignment(type: unknown): void {
  if (!ASSIGNMENTS.includes(type as AssignmentType))
    throw new TypeError(`bad assignment type ${String(type)}`);
}

/** Ids of library profiles look like this (`prf_` and URL-safe characters). */
const PROFILE_ID = /^prf_[A-Za-z0-9_-]{1,128}$/;

/** Throws TypeError unless `id` is a library profile id; cursors of the list are such ids. */
export function checkProfileId(id: string, what = 'profile id'): void {
  if (typeof id !== 'string' || !PROFILE_ID.test(id)) throw new TypeError(`invalid ${what}`);
}

/** Throws TypeError when `change` would make the owner anything but a full administrator at the root. */
export function checkPrincipalChange(
  id: string,
  change: { role?: AdminRole; groupId?: string },
): void {
  if (change.role !== undefined) checkRole(change.role);
  if (id !== OWNER_PRINCIPAL_ID) return;
  if ((change.role ?? 'full') !== 'full' || (change.groupId ?? ROOT_GROUP_ID) !== ROOT_GROUP_ID)
    throw new TypeError('the owner stays a full administrator at the root');
}

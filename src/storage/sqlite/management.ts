/**
 * Organization groups, their settings records and administrators in SQLite (migration 7). A
 * management change runs in one IMMEDIATE transaction: it compares the revision row, checks the
 * whole change against the tree read under the write lock, writes, and bumps the revision, so
 * of several daemons on one file applying on one revision exactly one wins.
 */
import { checkManagementChange, checkPrincipalChange, checkRole } from '../management-check.js';
import {
  OWNER_PRINCIPAL_ID,
  type ChildPermission,
  type ManagementChange,
  type OrgGroupRecord,
  type OrgGroupStore,
  type PrincipalRecord,
  type PrincipalStore,
  type AdminRole,
  type SettingsRecord,
} from '../ports.js';
import { adminGuard, newAdminId } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';

interface GroupRow {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: number;
}

interface SettingsRow {
  group_id: string;
  page: string;
  values_json: string;
  child_permission: ChildPermission;
  updated_at: number;
}

interface PrincipalRow {
  id: string;
  name: string;
  role: AdminRole;
  group_id: string;
  created_at: number;
  disabled_at: number | null;
}

function groupRecord(row: GroupRow): OrgGroupRecord {
  const r: OrgGroupRecord = { id: row.id, name: row.name, createdAt: new Date(row.created_at) };
  if (row.parent_id !== null) r.parentId = row.parent_id;
  return r;
}

function settingsRecord(row: SettingsRow): SettingsRecord {
  return {
    groupId: row.group_id,
    page: row.page,
    values: JSON.parse(row.values_json) as Record<string, unknown>,
    childPermission: row.child_permission,
    updatedAt: new Date(row.updated_at),
  };
}

function principalRecord(row: PrincipalRow): PrincipalRecord {
  const r: PrincipalRecord = {
    id: row.id,
    name: row.name,
    role: row.role,
    groupId: row.group_id,
    createdAt: new Date(row.created_at),
  };
  if (row.disabled_at !== null) r.disabledAt = new Date(row.disabled_at);
  return r;
}

const GROUPS = 'SELECT id, name, parent_id, created_at FROM orchard_groups';
const REVISION = 'SELECT revision FROM orchard_management_revision WHERE id = 1';
const IN_USE = `SELECT EXISTS (SELECT 1 FROM orchard_library_profiles WHERE group_id = ?)
  OR EXISTS (SELECT 1 FROM orchard_principals WHERE group_id = ? AND disabled_at IS NULL)
  OR EXISTS (SELECT 1 FROM orchard_users WHERE group_id = ?)
  OR EXISTS (SELECT 1 FROM orchard_policies WHERE group_id = ?)`;
/** A deleted group's active links are revoked: a generic link would have nowhere to enroll into. */
const REVOKE_LINKS = `UPDATE orchard_admin_enrollment_tokens SET revoked_at = ?
  WHERE group_id = ? AND revoked_at IS NULL`;

function revision(ctx: SqliteContext): number {
  return stmt(ctx, REVISION).pluck().get() as number;
}

/** Writes a checked change; the caller holds the write lock. */
function write(ctx: SqliteContext, change: ManagementChange): void {
  // Settings records, the default policy and enrollment ownerships go by ON DELETE CASCADE.
  for (const id of change.deleteGroups ?? []) {
    stmt(ctx, 'DELETE FROM orchard_groups WHERE id = ?').run(id);
    stmt(ctx, REVOKE_LINKS).run(ctx.clock().getTime(), id);
  }
  for (const { groupId, page } of change.deleteSettings ?? [])
    stmt(ctx, 'DELETE FROM orchard_group_settings WHERE group_id = ? AND page = ?').run(
      groupId,
      page,
    );
  // An upsert, not INSERT OR REPLACE: replacing would delete the row and cascade to its settings.
  const putGroup = stmt(
    ctx,
    `INSERT INTO orchard_groups (id, name, parent_id, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       name = excluded.name, parent_id = excluded.parent_id, created_at = excluded.created_at`,
  );
  for (const g of change.putGroups ?? [])
    putGroup.run(g.id, g.name, g.parentId ?? null, g.createdAt.getTime());
  const putSettings = stmt(
    ctx,
    `INSERT OR REPLACE INTO orchard_group_settings
       (group_id, page, values_json, child_permission, updated_at) VALUES (?, ?, ?, ?, ?)`,
  );
  for (const r of change.putSettings ?? [])
    putSettings.run(
      r.groupId,
      r.page,
      JSON.stringify(r.values),
      r.childPermission,
      r.updatedAt.getTime(),
    );
}

function apply(
  ctx: SqliteContext,
  change: ManagementChange,
  expectedRevision: number,
): number | undefined {
  return writeTx(ctx, () => {
    if (revision(ctx) !== expectedRevision) return undefined;
    const rows = stmt(ctx, GROUPS).all() as GroupRow[];
    const parents = new Map(rows.map((g) => [g.id, g.parent_id ?? undefined]));
    checkManagementChange(
      parents,
      change,
      (id) => stmt(ctx, IN_USE).pluck().get(id, id, id, id) === 1,
    );
    write(ctx, change);
    return stmt(
      ctx,
      'UPDATE orchard_management_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
    )
      .pluck()
      .get() as number;
  });
}

/** The {@link OrgGroupStore} on a connection context. */
export function sqliteOrgGroups(ctx: SqliteContext): OrgGroupStore {
  return {
    findManagementRevision: () => adminGuard(ctx, () => revision(ctx)),
    // One read transaction: the revision, groups and settings come from one snapshot.
    loadManagement: () =>
      adminGuard(ctx, () =>
        ctx.db
          .transaction(() => ({
            revision: revision(ctx),
            groups: (stmt(ctx, `${GROUPS} ORDER BY id`).all() as GroupRow[]).map(groupRecord),
            settings: (
              stmt(
                ctx,
                'SELECT * FROM orchard_group_settings ORDER BY group_id, page',
              ).all() as SettingsRow[]
            ).map(settingsRecord),
          }))
          .deferred(),
      ),
    applyManagement: (change, expectedRevision) =>
      adminGuard(ctx, () => apply(ctx, change, expectedRevision)),
    findGroup: (id) =>
      adminGuard(ctx, () => {
        const row = stmt(ctx, `${GROUPS} WHERE id = ?`).get(id) as GroupRow | undefined;
        return row && groupRecord(row);
      }),
  };
}

const PRINCIPALS =
  'SELECT id, name, role, group_id, created_at, disabled_at FROM orchard_principals';

/** Throws TypeError unless the group exists (read inside the caller's transaction). */
function knownGroup(ctx: SqliteContext, groupId: string): void {
  if (stmt(ctx, 'SELECT 1 FROM orchard_groups WHERE id = ?').pluck().get(groupId) === undefined)
    throw new TypeError(`unknown group ${groupId}`);
}

function findPrincipal(ctx: SqliteContext, id: string): PrincipalRecord | undefined {
  const row = stmt(ctx, `${PRINCIPALS} WHERE id = ?`).get(id) as PrincipalRow | undefined;
  return row && principalRecord(row);
}

function updatePrincipal(
  ctx: SqliteContext,
  id: string,
  change: { name?: string; role?: AdminRole; groupId?: string },
): PrincipalRecord | undefined {
  return writeTx(ctx, () => {
    const row = findPrincipal(ctx, id);
    if (row === undefined) return undefined;
    checkPrincipalChange(id, change);
    if (change.groupId !== undefined) knownGroup(ctx, change.groupId);
    const next: PrincipalRecord = { ...row };
    if (change.name !== undefined) next.name = change.name;
    if (change.role !== undefined) next.role = change.role;
    if (change.groupId !== undefined) next.groupId = change.groupId;
    stmt(ctx, 'UPDATE orchard_principals SET name = ?, role = ?, group_id = ? WHERE id = ?').run(
      next.name,
      next.role,
      next.groupId,
      id,
    );
    return next;
  });
}

function disablePrincipal(ctx: SqliteContext, id: string, at: Date): boolean {
  if (id === OWNER_PRINCIPAL_ID) return false;
  return writeTx(ctx, () => {
    const sql =
      'UPDATE orchard_principals SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL';
    if (stmt(ctx, sql).run(at.getTime(), id).changes !== 1) return false;
    stmt(
      ctx,
      'UPDATE orchard_admin_api_keys SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL',
    ).run(at.getTime(), id);
    return true;
  });
}

/** The {@link PrincipalStore} on a connection context. */
export function sqlitePrincipals(ctx: SqliteContext): PrincipalStore {
  return {
    createPrincipal: (input) =>
      adminGuard(ctx, () =>
        writeTx(ctx, () => {
          checkRole(input.role);
          knownGroup(ctx, input.groupId);
          const row: PrincipalRow = {
            id: newAdminId('adm'),
            name: input.name,
            role: input.role,
            group_id: input.groupId,
            created_at: ctx.clock().getTime(),
            disabled_at: null,
          };
          stmt(
            ctx,
            'INSERT INTO orchard_principals (id, name, role, group_id, created_at) VALUES (?, ?, ?, ?, ?)',
          ).run(row.id, row.name, row.role, row.group_id, row.created_at);
          return principalRecord(row);
        }),
      ),
    findPrincipal: (id) => adminGuard(ctx, () => findPrincipal(ctx, id)),
    listPrincipals: () =>
      adminGuard(ctx, () =>
        (stmt(ctx, `${PRINCIPALS} ORDER BY created_at, id`).all() as PrincipalRow[]).map(
          principalRecord,
        ),
      ),
    updatePrincipal: (id, change) => adminGuard(ctx, () => updatePrincipal(ctx, id, change)),
    disablePrincipal: (id, at) => adminGuard(ctx, () => disablePrincipal(ctx, id, at)),
  };
}

/** Throws TypeError unless `id` names an administrator that is not disabled. */
export function activePrincipal(ctx: SqliteContext, id: string): void {
  const row = stmt(ctx, 'SELECT disabled_at FROM orchard_principals WHERE id = ?').get(id) as
    { disabled_at: number | null } | undefined;
  if (row === undefined || row.disabled_at !== null)
    throw new TypeError(`unknown or disabled principal ${id}`);
}

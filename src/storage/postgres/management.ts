/**
 * Organization groups, their settings records and administrators in PostgreSQL. A management
 * change runs in one transaction that first locks the revision row (`SELECT ... FOR UPDATE`):
 * of several daemons applying on one revision, the first holds the lock, the others wait, then
 * read the bumped revision and apply nothing. The tree is checked as read under that lock.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { checkManagementChange, checkPrincipalChange, checkRole } from '../management-check.js';
import {
  OWNER_PRINCIPAL_ID,
  type AdminRole,
  type ChildPermission,
  type ManagementChange,
  type OrgGroupRecord,
  type OrgGroupStore,
  type PrincipalRecord,
  type PrincipalStore,
  type SettingsRecord,
} from '../ports.js';
import { one, op, query, run, setIf, tx, type PgContext, type Queryable } from './db.js';

interface GroupRow {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: Date;
}

interface SettingsRow {
  group_id: string;
  page: string;
  values_json: Record<string, unknown>;
  child_permission: ChildPermission;
  updated_at: Date;
}

interface PrincipalRow {
  id: string;
  name: string;
  role: AdminRole;
  group_id: string;
  created_at: Date;
  disabled_at: Date | null;
}

function groupRecord(row: GroupRow): OrgGroupRecord {
  const r: OrgGroupRecord = { id: row.id, name: row.name, createdAt: row.created_at };
  setIf(r, 'parentId', row.parent_id);
  return r;
}

function settingsRecord(row: SettingsRow): SettingsRecord {
  return {
    groupId: row.group_id,
    page: row.page,
    values: row.values_json,
    childPermission: row.child_permission,
    updatedAt: row.updated_at,
  };
}

function principalRecord(row: PrincipalRow): PrincipalRecord {
  const r: PrincipalRecord = {
    id: row.id,
    name: row.name,
    role: row.role,
    groupId: row.group_id,
    createdAt: row.created_at,
  };
  setIf(r, 'disabledAt', row.disabled_at);
  return r;
}

const GROUPS = 'SELECT id, name, parent_id, created_at FROM orchard_groups';
const SETTINGS = `SELECT group_id, page, values_json, child_permission, updated_at
  FROM orchard_group_settings ORDER BY group_id, page`;
const REVISION = 'SELECT revision FROM orchard_management_revision WHERE id = 1';
const IN_USE = `SELECT EXISTS (SELECT 1 FROM orchard_library_profiles WHERE group_id = $1)
  OR EXISTS (SELECT 1 FROM orchard_principals WHERE group_id = $1 AND disabled_at IS NULL)
  OR EXISTS (SELECT 1 FROM orchard_users WHERE group_id = $1)
  OR EXISTS (SELECT 1 FROM orchard_policies WHERE group_id = $1) AS used`;
/** A deleted group's active links are revoked: a generic link would have nowhere to enroll into. */
const REVOKE_LINKS = `UPDATE orchard_admin_enrollment_tokens SET revoked_at = $1
  WHERE group_id = $2 AND revoked_at IS NULL`;
const PUT_GROUP = `INSERT INTO orchard_groups (id, name, parent_id, created_at)
  VALUES ($1, $2, $3, $4)
  ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, parent_id = excluded.parent_id, created_at = excluded.created_at`;
const PUT_SETTINGS = `INSERT INTO orchard_group_settings
    (group_id, page, values_json, child_permission, updated_at)
  VALUES ($1, $2, $3::jsonb, $4, $5)
  ON CONFLICT (group_id, page) DO UPDATE SET values_json = excluded.values_json,
    child_permission = excluded.child_permission, updated_at = excluded.updated_at`;

async function revision(on: Queryable): Promise<number> {
  const row = await one<{ revision: number }>(on, REVISION);
  return row?.revision ?? 0;
}

/** Writes a checked change; the caller holds the revision row's lock. */
async function write(ctx: PgContext, c: pg.PoolClient, change: ManagementChange): Promise<void> {
  // Settings records, the default policy and enrollment ownerships go by ON DELETE CASCADE.
  for (const id of change.deleteGroups ?? []) {
    await run(c, 'DELETE FROM orchard_groups WHERE id = $1', [id]);
    await run(c, REVOKE_LINKS, [ctx.clock(), id]);
  }
  for (const { groupId, page } of change.deleteSettings ?? [])
    await run(c, 'DELETE FROM orchard_group_settings WHERE group_id = $1 AND page = $2', [
      groupId,
      page,
    ]);
  for (const g of change.putGroups ?? [])
    await run(c, PUT_GROUP, [g.id, g.name, g.parentId ?? null, g.createdAt]);
  for (const r of change.putSettings ?? [])
    await run(c, PUT_SETTINGS, [
      r.groupId,
      r.page,
      JSON.stringify(r.values),
      r.childPermission,
      r.updatedAt,
    ]);
}

async function apply(
  ctx: PgContext,
  change: ManagementChange,
  expectedRevision: number,
): Promise<number | undefined> {
  return tx(ctx, async (c) => {
    const locked = await one<{ revision: number }>(c, `${REVISION} FOR UPDATE`);
    if (locked?.revision !== expectedRevision) return undefined;
    // Groups to delete are locked before their use is checked: a concurrent insert naming one
    // (a user, a profile, an administrator) either committed first and is seen, or waits and
    // then finds the group gone.
    const deleting = [...new Set(change.deleteGroups ?? [])];
    if (deleting.length > 0)
      await query(
        c,
        'SELECT id FROM orchard_groups WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
        [deleting],
      );
    const rows = await query<GroupRow>(c, GROUPS);
    const inUse = new Map<string, boolean>();
    for (const id of change.deleteGroups ?? []) {
      const row = await one<{ used: boolean }>(c, IN_USE, [id]);
      inUse.set(id, row?.used === true);
    }
    checkManagementChange(
      new Map(rows.map((g) => [g.id, g.parent_id ?? undefined])),
      change,
      (id) => inUse.get(id) === true,
    );
    await write(ctx, c, change);
    const bumped = await one<{ revision: number }>(
      c,
      'UPDATE orchard_management_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
    );
    return bumped?.revision;
  });
}

/** The {@link OrgGroupStore} on a context. */
export function pgOrgGroups(ctx: PgContext): OrgGroupStore {
  return {
    findManagementRevision: () => op(ctx, () => revision(ctx.pool)),
    // One snapshot: the revision, groups and settings agree.
    loadManagement: () =>
      tx(
        ctx,
        async (c) => ({
          revision: await revision(c),
          groups: (await query<GroupRow>(c, `${GROUPS} ORDER BY id`)).map(groupRecord),
          settings: (await query<SettingsRow>(c, SETTINGS)).map(settingsRecord),
        }),
        { isolation: 'repeatable read' },
      ),
    applyManagement: (change, expectedRevision) => apply(ctx, change, expectedRevision),
    findGroup: (id) =>
      op(ctx, async () => {
        const row = await one<GroupRow>(ctx.pool, `${GROUPS} WHERE id = $1`, [id]);
        return row && groupRecord(row);
      }),
  };
}

const PRINCIPALS =
  'SELECT id, name, role, group_id, created_at, disabled_at FROM orchard_principals';

/**
 * Throws TypeError unless the group exists. In a transaction it holds the group (`FOR KEY
 * SHARE`) until commit, so a management change deleting it waits, then sees what was written.
 */
export async function knownGroup(on: Queryable, groupId: string): Promise<void> {
  const row = await one(on, 'SELECT 1 FROM orchard_groups WHERE id = $1 FOR KEY SHARE', [groupId]);
  if (row === undefined) throw new TypeError(`unknown group ${groupId}`);
}

async function findPrincipal(on: Queryable, id: string, lock = false) {
  const sql = `${PRINCIPALS} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`;
  const row = await one<PrincipalRow>(on, sql, [id]);
  return row && principalRecord(row);
}

function updatePrincipal(
  ctx: PgContext,
  id: string,
  change: { name?: string; role?: AdminRole; groupId?: string },
): Promise<PrincipalRecord | undefined> {
  return tx(ctx, async (c) => {
    const row = await findPrincipal(c, id, true);
    if (row === undefined) return undefined;
    checkPrincipalChange(id, change);
    if (change.groupId !== undefined) await knownGroup(c, change.groupId);
    const next: PrincipalRecord = { ...row };
    if (change.name !== undefined) next.name = change.name;
    if (change.role !== undefined) next.role = change.role;
    if (change.groupId !== undefined) next.groupId = change.groupId;
    await run(
      c,
      'UPDATE orchard_principals SET name = $1, role = $2, group_id = $3 WHERE id = $4',
      [next.name, next.role, next.groupId, id],
    );
    return next;
  });
}

async function disablePrincipal(ctx: PgContext, id: string, at: Date): Promise<boolean> {
  if (id === OWNER_PRINCIPAL_ID) return op(ctx, () => Promise.resolve(false));
  return tx(ctx, async (c) => {
    const sql =
      'UPDATE orchard_principals SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL';
    if ((await run(c, sql, [at, id])) !== 1) return false;
    await run(
      c,
      'UPDATE orchard_admin_api_keys SET revoked_at = $1 WHERE principal_id = $2 AND revoked_at IS NULL',
      [at, id],
    );
    return true;
  });
}

function createPrincipal(
  ctx: PgContext,
  input: { name: string; role: AdminRole; groupId: string },
): Promise<PrincipalRecord> {
  return tx(ctx, (c) => insertPrincipal(ctx, c, input));
}

/** Inserts an administrator in a group held until commit (no foreign key: see the schema). */
async function insertPrincipal(
  ctx: PgContext,
  c: pg.PoolClient,
  input: { name: string; role: AdminRole; groupId: string },
): Promise<PrincipalRecord> {
  checkRole(input.role);
  await knownGroup(c, input.groupId);
  const row: PrincipalRow = {
    id: `adm_${randomBytes(6).toString('hex')}`,
    name: input.name,
    role: input.role,
    group_id: input.groupId,
    created_at: ctx.clock(),
    disabled_at: null,
  };
  await run(
    c,
    'INSERT INTO orchard_principals (id, name, role, group_id, created_at) VALUES ($1, $2, $3, $4, $5)',
    [row.id, row.name, row.role, row.group_id, row.created_at],
  );
  return principalRecord(row);
}

/** The {@link PrincipalStore} on a context. */
export function pgPrincipals(ctx: PgContext): PrincipalStore {
  return {
    createPrincipal: (input) => createPrincipal(ctx, input),
    findPrincipal: (id) => op(ctx, () => findPrincipal(ctx.pool, id)),
    listPrincipals: () =>
      op(ctx, async () =>
        (await query<PrincipalRow>(ctx.pool, `${PRINCIPALS} ORDER BY created_at, id`)).map(
          principalRecord,
        ),
      ),
    updatePrincipal: (id, change) => updatePrincipal(ctx, id, change),
    disablePrincipal: (id, at) => disablePrincipal(ctx, id, at),
  };
}

/** Throws TypeError unless `id` names an administrator that is not disabled. */
export async function activePrincipal(on: Queryable, id: string): Promise<void> {
  const row = await one<{ disabled_at: Date | null }>(
    on,
    'SELECT disabled_at FROM orchard_principals WHERE id = $1',
    [id],
  );
  if (row === undefined || row.disabled_at !== null)
    throw new TypeError(`unknown or disabled principal ${id}`);
}

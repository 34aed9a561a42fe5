/**
 * Administrators (`/api/v1/admins`): principals with a role (`read-only`, `full`) and an
 * organization-group scope, and the API keys that belong to each. Every route checks scope
 * itself (rules A4, A12): an administrator is an object its scope group owns, so a caller sees
 * those scoped at, below or above its own scope and manages only those at or below it; nobody
 * scopes an administrator above their own scope. The owner is immutable and never disabled; an
 * administrator never changes its own role or scope nor disables itself.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { createApiKey } from '../../../admin/api-keys.js';
import {
  authorizeAdmin,
  authorizeGroup,
  canSee,
  checkAdminChange,
  checkAdminDisable,
  checkKeyFor,
  checkKeyListing,
  type Access,
  type Caller,
} from '../../../admin/principals.js';
import { adminView } from '../../../admin/views.js';
import { ManagementError, RequestError } from '../../../errors.js';
import type { GroupTree } from '../../../management/tree.js';
import type { PrincipalRecord } from '../../../storage/ports.js';
import { callerOf, audit, defineRoute, json, jsonResponse, type AdminApiDeps } from '../route.js';
import { IdParams, idSchema } from '../schemas.js';
import { AdminView, ApiKeyView, apiKeyView } from '../views.js';
import { ApiKeyBody } from './admin.js';

/**
 * Runs a store write whose scope group was checked on an earlier snapshot: when the group was
 * deleted in between, the store's TypeError becomes 404 `ERR_GROUP_NOT_FOUND`, not a 500.
 */
async function inGroup<T>(
  deps: AdminApiDeps,
  groupId: string | undefined,
  write: () => Promise<T>,
) {
  try {
    return await write();
  } catch (error) {
    if (
      error instanceof TypeError &&
      groupId !== undefined &&
      !(await deps.admin.findGroup(groupId))
    )
      throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${groupId}`, {
        group: groupId,
      });
    throw error;
  }
}

/** The tree, the caller and the administrator `id` once the caller may `access` it. */
async function target(
  deps: AdminApiDeps,
  req: { caller: Caller | undefined; params: { id: string } },
  access: Access,
): Promise<{ tree: GroupTree; caller: Caller; admin: PrincipalRecord }> {
  const caller = callerOf(req);
  const tree = await deps.groups.tree();
  const found = await deps.admin.findPrincipal(req.params.id);
  return { tree, caller, admin: authorizeAdmin(tree, caller, req.params.id, found, access) };
}

/** A name of at most 128 characters. */
const name = z
  .string({
    error: (i) => (i.input === undefined ? 'name is required' : 'name must be a non-empty string'),
  })
  .min(1, { error: 'name must be a non-empty string' })
  .max(128, { error: 'name is too long' });
const role = z.enum(['read-only', 'full'], { error: 'role must be read-only or full' });
const groupId = idSchema('groupId');

/** Body of `POST /api/v1/admins`. */
export const AdminBody = z.strictObject({ name, role, groupId }).openapi('AdminBody');

/** Body of `PATCH /api/v1/admins/{id}`: any of the three; an empty body changes nothing. */
export const AdminPatch = z
  .strictObject({ name: name.optional(), role: role.optional(), groupId: groupId.optional() })
  .openapi('AdminPatch');

const AdminList = z.object({ items: z.array(AdminView) });
const KeyList = z.object({ items: z.array(ApiKeyView) });

const list = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/admins',
    summary: 'Administrators the caller sees: scoped at, below or above its own scope',
    responses: { 200: jsonResponse('administrators, oldest first', AdminList) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const tree = await deps.groups.tree();
    const items = (await deps.admin.listPrincipals()).filter(
      (p) => tree.get(p.groupId) !== undefined && canSee(tree, caller, p.groupId),
    );
    return json(200, { items: items.map(adminView) });
  },
});

const create = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: '/api/v1/admins',
    summary: "Create an administrator scoped at a group at or below the caller's scope",
    request: {
      body: { required: true as const, content: { 'application/json': { schema: AdminBody } } },
    },
    responses: { 201: jsonResponse('the administrator (no key yet)', AdminView) },
  }),
  async handle(deps, req) {
    const tree = await deps.groups.tree();
    authorizeGroup(tree, callerOf(req), req.body.groupId, 'write');
    const admin = await inGroup(deps, req.body.groupId, () => deps.admin.createPrincipal(req.body));
    await audit(deps, req, 'admin.create', admin.id, { ...req.body });
    return json(201, adminView(admin));
  },
});

const show = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/admins/{id}',
    summary: 'One administrator (404 when out of sight)',
    request: { params: IdParams },
    responses: { 200: jsonResponse('the administrator', AdminView) },
  }),
  handle: async (deps, req) => json(200, adminView((await target(deps, req, 'read')).admin)),
});

const update = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'patch',
    path: '/api/v1/admins/{id}',
    summary:
      "Rename an administrator, change its role or move its scope (never the owner's, never one's own role or scope)",
    request: {
      params: IdParams,
      body: { required: true as const, content: { 'application/json': { schema: AdminPatch } } },
    },
    responses: { 200: jsonResponse('the administrator', AdminView) },
  }),
  async handle(deps, req) {
    const { tree, caller, admin } = await target(deps, req, 'write');
    const change = {
      ...(req.body.name === undefined ? {} : { name: req.body.name }),
      ...(req.body.role === undefined ? {} : { role: req.body.role }),
      ...(req.body.groupId === undefined ? {} : { groupId: req.body.groupId }),
    };
    checkAdminChange(tree, caller, admin, change);
    if (Object.keys(change).length === 0) return json(200, adminView(admin));
    const updated = await inGroup(deps, change.groupId, () =>
      deps.admin.updatePrincipal(admin.id, change),
    );
    if (updated === undefined) throw new TypeError(`administrator ${admin.id} vanished`);
    await audit(deps, req, 'admin.update', admin.id, change);
    return json(200, adminView(updated));
  },
});

const disable = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: '/api/v1/admins/{id}',
    summary: 'Disable an administrator and revoke its keys (never the owner, never oneself)',
    request: { params: IdParams },
    responses: { 200: jsonResponse('the disabled administrator', AdminView) },
  }),
  async handle(deps, req) {
    const { caller, admin } = await target(deps, req, 'write');
    checkAdminDisable(caller, admin);
    // Another request may have disabled it since it was read: say so rather than audit twice.
    if (!(await deps.admin.disablePrincipal(admin.id, new Date())))
      throw new ManagementError('ERR_ADMIN_DISABLED', `administrator ${admin.id} is disabled`);
    await audit(deps, req, 'admin.disable', admin.id);
    return json(200, adminView((await deps.admin.findPrincipal(admin.id)) ?? admin));
  },
});

const createKey = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: '/api/v1/admins/{id}/api-keys',
    summary:
      "Create an API key for an administrator (a read-only one's keys only read); shown once",
    request: {
      params: IdParams,
      body: { required: true as const, content: { 'application/json': { schema: ApiKeyBody } } },
    },
    responses: { 201: jsonResponse('the key, shown once', ApiKeyView.extend({ key: z.string() })) },
  }),
  async handle(deps, req) {
    const { caller, admin } = await target(deps, req, 'write');
    const { name: keyName, scope } = req.body;
    checkKeyFor(caller, admin, scope);
    const { record, key } = await createApiKey(deps.admin, keyName, scope, admin.id);
    await audit(deps, req, 'api-key.create', record.id, {
      name: keyName,
      scope,
      principalId: admin.id,
    });
    return json(201, { ...apiKeyView(record), key });
  },
});

const listKeys = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/admins/{id}/api-keys',
    summary: "An administrator's API keys (its own, or one scoped at or below the caller's scope)",
    request: { params: IdParams },
    responses: { 200: jsonResponse('its keys, revoked ones too', KeyList) },
  }),
  async handle(deps, req) {
    const { tree, caller, admin } = await target(deps, req, 'read');
    checkKeyListing(tree, caller, admin);
    const keys = (await deps.admin.listApiKeys()).filter((k) => k.principalId === admin.id);
    return json(200, { items: keys.map(apiKeyView) });
  },
});

/** Path parameters `{id}` and `{keyId}`. */
const IdKeyParams = IdParams.extend({
  keyId: idSchema('keyId').openapi({ param: { name: 'keyId', in: 'path' } }),
});

const revokeKey = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: '/api/v1/admins/{id}/api-keys/{keyId}',
    summary: "Revoke one of an administrator's API keys",
    request: { params: IdKeyParams },
    responses: { 200: jsonResponse('revoked', z.object({ revoked: z.literal(true) })) },
  }),
  async handle(deps, req) {
    const { admin } = await target(deps, req, 'write');
    const { keyId } = req.params;
    const key = (await deps.admin.listApiKeys()).find(
      (k) => k.id === keyId && k.principalId === admin.id && k.revokedAt === undefined,
    );
    if (key === undefined || !(await deps.admin.revokeApiKey(keyId)))
      throw new RequestError('ERR_NOT_FOUND', 'active API key not found');
    await audit(deps, req, 'api-key.revoke', keyId, { principalId: admin.id });
    return json(200, { revoked: true });
  },
});

/** The administrator routes, all checking scope themselves. */
export const adminsRoutes = [list, create, show, update, disable, createKey, listKeys, revokeKey];

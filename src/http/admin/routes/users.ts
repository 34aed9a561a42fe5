/**
 * Users (`/api/v1/users`, rule M9): create, show, change, delete and import from CSV. A user is
 * owned by its organization group and seen only by administrators scoped at that group or above
 * it (people's data does not flow down from ancestors): anything else answers 404
 * `ERR_USER_NOT_FOUND`. Changes need write access to the groups involved (403
 * `ERR_ADMIN_SCOPE` for a read-only caller). Every change is audited; an import once, with its
 * counts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { authorizeGroup } from '../../../admin/principals.js';
import { ManagementError } from '../../../errors.js';
import { MAX_IMPORT_BYTES } from '../../../management/user-csv.js';
import type { UserInput, UserPatch } from '../../../management/users.js';
import { callerOf, audit, defineRoute, json, jsonResponse } from '../route.js';
import { IdParams, idSchema, page, PageQuery } from '../schemas.js';
import { listWithCursor } from '../validate.js';
import { pagingOf } from './owned-list.js';
import {
  UserBody,
  UserImportBody,
  UserImportReportView,
  UserPatchBody,
  UserView,
  userView,
} from './users-views.js';
import { authorizeWrite, invite, scopeOf } from './users-shared.js';

/** `body` without its `undefined` members (an optional field the client left out). */
const definedOnly = (body: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));

/** Body keys whose value is given, for the audit (values are people's data, kept out of it). */
const givenKeys = (body: object) =>
  Object.entries(body)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);

const list = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/users',
    summary:
      "Users in the caller's scope (paginated); ?groupId= for a group and the groups below it",
    request: { query: PageQuery.extend({ groupId: idSchema('groupId').optional() }) },
    responses: { 200: jsonResponse('a page of users, in id order', page(UserView)) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { groupId } = req.query;
    if (groupId !== undefined) {
      const tree = await deps.groups.tree();
      authorizeGroup(tree, caller, groupId, 'read');
      if (!tree.isWithin(groupId, caller.principal.groupId))
        throw new ManagementError(
          'ERR_ADMIN_SCOPE',
          `the users of organization group ${groupId} are outside this administrator's scope`,
          { group: groupId },
        );
    }
    const paging = pagingOf(req.query);
    const result = await listWithCursor(paging, () =>
      deps.users.list({ ...paging, ...scopeOf(caller), ...(groupId ? { groupId } : {}) }),
    );
    return json(200, {
      items: await deps.users.views(result.items),
      nextCursor: result.nextCursor ?? null,
    });
  },
});

const create = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: '/api/v1/users',
    summary: "Create a user in a group at or below the caller's scope (409 on a taken username)",
    request: {
      body: { required: true as const, content: { 'application/json': { schema: UserBody } } },
    },
    responses: { 201: jsonResponse('the user', UserView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    await authorizeWrite(deps, caller, req.body.groupId);
    const user = await deps.users.create(definedOnly(req.body) as UserInput, scopeOf(caller));
    await audit(deps, req, 'user.create', user.id, {
      username: user.username,
      groupId: user.groupId,
    });
    return json(201, await userView(deps, user));
  },
});

const show = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/users/{id}',
    summary: "One user (404 when outside the caller's scope)",
    request: { params: IdParams },
    responses: { 200: jsonResponse('the user', UserView) },
  }),
  handle: async (deps, req) =>
    json(200, await userView(deps, await deps.users.get(req.params.id, scopeOf(callerOf(req))))),
});

const update = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'patch',
    path: '/api/v1/users/{id}',
    summary: 'Change a user: the fields given; null clears an optional field; groupId moves it',
    request: {
      params: IdParams,
      body: { required: true as const, content: { 'application/json': { schema: UserPatchBody } } },
    },
    responses: { 200: jsonResponse('the user', UserView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const user = await deps.users.get(req.params.id, scopeOf(caller));
    const patch = definedOnly(req.body) as UserPatch;
    await authorizeWrite(deps, caller, user.groupId, ...(patch.groupId ? [patch.groupId] : []));
    if (Object.keys(patch).length === 0) return json(200, await userView(deps, user));
    const updated = await deps.users.update(user.id, patch, scopeOf(caller));
    await audit(deps, req, 'user.update', user.id, {
      fields: givenKeys(patch),
      groupId: updated.groupId,
    });
    return json(200, await userView(deps, updated));
  },
});

const remove = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: '/api/v1/users/{id}',
    summary: 'Delete a user and revoke its personal enrollment link',
    request: { params: IdParams },
    responses: { 200: jsonResponse('the deleted user', UserView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const user = await deps.users.get(req.params.id, scopeOf(caller));
    await authorizeWrite(deps, caller, user.groupId);
    const deleted = await deps.users.delete(user.id, scopeOf(caller));
    await audit(deps, req, 'user.delete', user.id, {
      username: deleted.username,
      groupId: deleted.groupId,
    });
    return json(200, await userView(deps, deleted));
  },
});

const importUsers = defineRoute({
  auth: 'write',
  scoped: true,
  csvBody: true,
  bodyLimit: MAX_IMPORT_BYTES + 1024,
  route: createRoute({
    method: 'post',
    path: '/api/v1/users/import',
    summary:
      'Import users from CSV (text/csv, or JSON {csv}): upsert by username, a report per row; ?atomic=true applies all rows or none',
    request: {
      query: z.strictObject({
        atomic: z.enum(['true', 'false'], { error: 'atomic must be true or false' }).optional(),
        groupId: idSchema('groupId')
          .optional()
          .openapi({ description: "group of new users without og (default: the caller's scope)" }),
      }),
      body: {
        required: true as const,
        content: {
          'application/json': { schema: UserImportBody },
          'text/csv': { schema: z.string().openapi({ description: 'the CSV file, UTF-8' }) },
        },
      },
    },
    responses: {
      200: jsonResponse('the per-row report (also when rows were refused)', UserImportReportView),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const groupId = req.query.groupId ?? caller.principal.groupId;
    await authorizeWrite(deps, caller, groupId);
    const atomic = req.query.atomic === 'true';
    const report = await deps.users.importUsers(req.body.csv, {
      atomic,
      groupId,
      ...scopeOf(caller),
    });
    const done = await invite(deps, report);
    await audit(deps, req, 'user.import', groupId, {
      atomic,
      applied: done.applied,
      created: done.created,
      updated: done.updated,
      unchanged: done.unchanged,
      refused: done.refused,
      invited: done.rows.filter((r) => r.invitation === 'sent').length,
    });
    return json(200, done);
  },
});

/** The user routes, all checking scope themselves. */
export const userRoutes = [list, create, importUsers, show, update, remove];

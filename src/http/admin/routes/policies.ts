/**
 * Admin routes over policies (`/api/v1/policies`, rules M5, S4, S8, A12, A13): create, list,
 * read, change and delete policies owned by organization groups. Every route is scoped: a caller
 * sees policies owned at, below or above its scope group and changes those at or below it. The
 * profiles of a policy and the groups' default policies are in `policies-profiles.ts`.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { authorizeGroup } from '../../../admin/principals.js';
import { callerOf, audit, defineRoute, json, jsonResponse } from '../route.js';
import { IdParams, idSchema, page, PageQuery } from '../schemas.js';
import { badField } from '../validate.js';
import { listOwned, pageJson } from './owned-list.js';
import { policyProfileRoutes } from './policies-profiles.js';
import {
  PolicyCreateBody,
  PolicyUpdateBody,
  PolicyView,
  policyView,
  visiblePolicy,
} from './policies-views.js';

const ListQuery = PageQuery.extend({
  groupId: idSchema('groupId').optional().openapi({ description: 'only policies owned here' }),
});

const create = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: '/api/v1/policies',
    summary: 'Create a policy owned by a group the caller may change (409 on a taken name)',
    request: {
      body: { required: true, content: { 'application/json': { schema: PolicyCreateBody } } },
    },
    responses: { 201: jsonResponse('the policy', PolicyView) },
  }),
  async handle(deps, req) {
    const body = req.body;
    authorizeGroup(await deps.groups.tree(), callerOf(req), body.groupId, 'write');
    const policy = await deps.policies.create({
      ...{ name: body.name, groupId: body.groupId },
      ...(body.description === undefined ? {} : { description: body.description }),
    });
    await audit(deps, req, 'policy.create', policy.id, {
      name: policy.name,
      groupId: policy.groupId,
    });
    return json(201, policyView(policy));
  },
});

const list = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/policies',
    summary: 'Policies the caller sees: owned at, below or above its scope group (paginated)',
    request: { query: ListQuery },
    responses: { 200: jsonResponse('a page of policies, in id order', page(PolicyView)) },
  }),
  async handle(deps, req) {
    const result = await listOwned(deps, callerOf(req), req.query, (options) =>
      deps.policies.list(options),
    );
    return json(200, pageJson(result, policyView));
  },
});

const one = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/policies/{id}',
    summary: 'One policy',
    request: { params: IdParams },
    responses: { 200: jsonResponse('the policy', PolicyView) },
  }),
  async handle(deps, req) {
    const { policy } = await visiblePolicy(deps, callerOf(req), req.params.id, 'read');
    return json(200, policyView(policy));
  },
});

const update = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'patch',
    path: '/api/v1/policies/{id}',
    summary:
      'Rename, describe or move a policy (a move re-checks A13 for its Interactive profiles: 422)',
    request: {
      params: IdParams,
      body: { required: true, content: { 'application/json': { schema: PolicyUpdateBody } } },
    },
    responses: { 200: jsonResponse('the updated policy', PolicyView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const body = req.body;
    if (Object.keys(body).length === 0)
      throw badField('body', 'give at least one of name, description, groupId');
    const { policy, tree } = await visiblePolicy(deps, caller, req.params.id, 'write');
    if (body.groupId !== undefined) authorizeGroup(tree, caller, body.groupId, 'write');
    const updated = await deps.policies.update(policy.id, {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.groupId === undefined ? {} : { groupId: body.groupId }),
    });
    await audit(deps, req, 'policy.update', policy.id, {
      fields: Object.keys(body),
      from: policy.groupId,
      groupId: updated.groupId,
    });
    return json(200, policyView(updated));
  },
});

const remove = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: '/api/v1/policies/{id}',
    summary:
      'Delete a policy no user, group default or enrollment link names (409 ERR_POLICY_IN_USE)',
    request: { params: IdParams },
    responses: { 200: jsonResponse('deleted', z.object({ deleted: z.literal(true) })) },
  }),
  async handle(deps, req) {
    const { policy } = await visiblePolicy(deps, callerOf(req), req.params.id, 'write');
    await deps.policies.delete(policy.id);
    await audit(deps, req, 'policy.delete', policy.id, {
      name: policy.name,
      groupId: policy.groupId,
    });
    return json(200, { deleted: true });
  },
});

/** The policy routes: policies, their profiles, and the groups' default policies. */
export const policyRoutes = [create, list, one, update, remove, ...policyProfileRoutes];

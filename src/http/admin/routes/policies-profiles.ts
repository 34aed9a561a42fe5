/**
 * Admin routes over the profiles of a policy and the groups' default policies (rules M5, S4, S8,
 * A12, A13): assign a library profile with its assignment type and removal control, remove it,
 * read a `with-authorization` removal password, set or clear a group's default policy. Every
 * change that reaches devices answers the change report; with `dryRun` it is only previewed.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { authorizeGroup, canSee, type Caller } from '../../../admin/principals.js';
import { ManagementError } from '../../../errors.js';
import { policyUnknown } from '../../../management/policies-ref.js';
import type { GroupTree } from '../../../management/tree.js';
import type { LibraryProfileRecord } from '../../../storage/ports.js';
import { callerOf, audit, defineRoute, json, jsonResponse, type AdminApiDeps } from '../route.js';
import { IdParams } from '../schemas.js';
import { GroupParams } from './groups-views.js';
import {
  AssignBody,
  AssignmentParams,
  AssignmentView,
  assignmentView,
  ChangeReportView,
  DryRunQuery,
  GroupPolicyBody,
  PolicyView,
  policyView,
  reportView,
  visiblePolicy,
} from './policies-views.js';

const ASSIGNMENT = '/api/v1/policies/{id}/profiles/{profileId}';

/** The library profile `id` when the caller sees it (A12); 404 `ERR_PROFILE_NOT_FOUND` otherwise. */
async function visibleProfile(
  deps: Pick<AdminApiDeps, 'admin'>,
  tree: GroupTree,
  caller: Caller,
  id: string,
): Promise<LibraryProfileRecord> {
  const profile = await deps.admin.findLibraryProfile(id);
  if (profile === undefined || !canSee(tree, caller, profile.groupId))
    throw new ManagementError('ERR_PROFILE_NOT_FOUND', `no profile ${id}`);
  return profile;
}

const listAssignments = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/policies/{id}/profiles',
    summary: "A policy's profiles with their assignment types and removal controls",
    request: { params: IdParams },
    responses: {
      200: jsonResponse('the assignments', z.object({ items: z.array(AssignmentView) })),
    },
  }),
  async handle(deps, req) {
    const { policy } = await visiblePolicy(deps, callerOf(req), req.params.id, 'read');
    const assignments = await deps.policies.assignments(policy.id);
    const items = await Promise.all(
      assignments.map(async (a) =>
        assignmentView(a, await deps.admin.findLibraryProfile(a.profileId)),
      ),
    );
    return json(200, { items });
  },
});

const assign = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'put',
    path: ASSIGNMENT,
    summary:
      'Assign a library profile in a policy (or change its assignment type or removal control); dryRun previews it',
    request: {
      params: AssignmentParams,
      body: { required: false, content: { 'application/json': { schema: AssignBody } } },
    },
    responses: {
      200: jsonResponse(
        'the assignment (null on a dry run) and what it does to devices',
        z.object({ assignment: AssignmentView.nullable(), report: ChangeReportView }),
      ),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { policy, tree } = await visiblePolicy(deps, caller, req.params.id, 'write');
    const profile = await visibleProfile(deps, tree, caller, req.params.profileId);
    const { assignmentType, removal, dryRun } = req.body ?? {};
    const result = await deps.policies.assign(
      policy.id,
      profile.id,
      {
        ...(assignmentType === undefined ? {} : { assignmentType }),
        ...(removal === undefined ? {} : { removal }),
      },
      { dryRun: dryRun === true },
    );
    const { value } = result;
    if (value !== undefined)
      await audit(deps, req, 'policy.assign', policy.id, {
        ...{ profileId: profile.id, assignmentType: value.assignmentType },
        ...{ removal: value.removal, devices: result.report.devices },
      });
    return json(200, {
      assignment: value === undefined ? null : assignmentView(value, profile),
      report: reportView(result.report),
    });
  },
});

const unassign = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: ASSIGNMENT,
    summary:
      'Remove a profile from a policy: RemoveProfile only where Orchard installed it (M6); ?dryRun=true previews it',
    request: {
      params: AssignmentParams,
      query: DryRunQuery,
    },
    responses: {
      200: jsonResponse('what it does to devices', z.object({ report: ChangeReportView })),
    },
  }),
  async handle(deps, req) {
    const { policy } = await visiblePolicy(deps, callerOf(req), req.params.id, 'write');
    const { profileId } = req.params;
    const dryRun = req.query.dryRun === 'true';
    const result = await deps.policies.unassign(policy.id, profileId, { dryRun });
    if (!dryRun)
      await audit(deps, req, 'policy.unassign', policy.id, {
        profileId,
        devices: result.report.devices,
      });
    return json(200, { report: reportView(result.report) });
  },
});

const removalPassword = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: `${ASSIGNMENT}/removal-password`,
    summary:
      'The removal password of a with-authorization assignment, for whoever may remove the profile (audited)',
    request: { params: AssignmentParams },
    responses: {
      200: jsonResponse(
        'the password',
        z.object({ policyId: z.string(), profileId: z.string(), password: z.string() }),
      ),
    },
  }),
  async handle(deps, req) {
    const { policy } = await visiblePolicy(deps, callerOf(req), req.params.id, 'write');
    const { profileId } = req.params;
    const password = await deps.policies.removalPassword(policy.id, profileId);
    await audit(deps, req, 'policy.removal-password.read', policy.id, { profileId });
    return json(200, { policyId: policy.id, profileId, password });
  },
});

const GroupPolicyView = z
  .object({
    groupId: z.string(),
    policy: PolicyView.nullable().openapi({ description: "the group's own default policy" }),
    effective: z.object({
      policy: PolicyView.nullable().openapi({
        description: 'the default its users without a policy of their own get',
      }),
      sourceGroupId: z.string().nullable().openapi({ description: 'the group it is set at' }),
    }),
  })
  .openapi('GroupPolicy');

const readGroupPolicy = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/groups/{id}/policy',
    summary: "A group's default policy, and the effective one (the nearest default up the tree)",
    request: { params: GroupParams },
    responses: { 200: jsonResponse('the default policy', GroupPolicyView) },
  }),
  async handle(deps, req) {
    const tree = await deps.groups.tree();
    const { id } = req.params;
    authorizeGroup(tree, callerOf(req), id, 'read');
    const defaults = await deps.admin.listGroupPolicies();
    const source = tree.chain(id).find((g) => defaults.has(g));
    const view = async (policyId: string | undefined) => {
      const found = policyId === undefined ? undefined : await deps.admin.findPolicy(policyId);
      return found === undefined ? null : policyView(found);
    };
    return json(200, {
      groupId: id,
      policy: await view(defaults.get(id)),
      effective: {
        policy: await view(source === undefined ? undefined : defaults.get(source)),
        sourceGroupId: source ?? null,
      },
    });
  },
});

const writeGroupPolicy = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'put',
    path: '/api/v1/groups/{id}/policy',
    summary:
      "Set or clear a group's default policy (users below without their own get the nearest default); dryRun previews it",
    request: {
      params: GroupParams,
      body: { required: true, content: { 'application/json': { schema: GroupPolicyBody } } },
    },
    responses: {
      200: jsonResponse('what it does to devices', z.object({ report: ChangeReportView })),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const tree = await deps.groups.tree();
    const { id } = req.params;
    const { policyId, dryRun } = req.body;
    authorizeGroup(tree, caller, id, 'write');
    if (policyId !== null) {
      const policy = await deps.admin.findPolicy(policyId);
      if (policy === undefined || !canSee(tree, caller, policy.groupId))
        throw policyUnknown(policyId, 'policyId');
    }
    const result = await deps.policies.setGroupPolicy(id, policyId ?? undefined, {
      dryRun: dryRun === true,
    });
    if (dryRun !== true)
      await audit(deps, req, 'group.policy.write', id, {
        policyId,
        devices: result.report.devices,
      });
    return json(200, { report: reportView(result.report) });
  },
});

/** The routes over a policy's profiles and the groups' default policies. */
export const policyProfileRoutes = [
  listAssignments,
  assign,
  unassign,
  removalPassword,
  readGroupPolicy,
  writeGroupPolicy,
];

/**
 * Admin routes over organization groups and their settings pages (rules A1-A11). Every route is
 * scoped: it checks the caller's group scope itself (A4, A12) against the same snapshot the
 * service plans with, so a scope check and a change never see different trees.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { authorizeGroup, canSee } from '../../../admin/principals.js';
import { SETTINGS_PAGES } from '../../../management/pages.js';
import type { GroupTree } from '../../../management/tree.js';
import type { OrgGroupRecord } from '../../../storage/ports.js';
import { callerOf, audit, defineRoute, json, jsonResponse } from '../route.js';
import {
  CreateBody,
  EffectiveSettingsView,
  effectiveView,
  eventful,
  GroupParams,
  GroupView,
  groupView,
  PageParams,
  pageView,
  ReportView,
  reportView,
  SettingsPageView,
  UpdateBody,
  WriteBody,
} from './groups-views.js';

const listGroups = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/groups',
    summary: 'The organization groups the caller can see',
    responses: {
      200: jsonResponse('groups, parents first', z.object({ items: z.array(GroupView) })),
    },
  }),
  async handle(deps, req) {
    const { tree } = await deps.groups.state();
    const caller = callerOf(req);
    const items = tree
      .subtree(tree.rootId)
      .filter((id) => canSee(tree, caller, id))
      .map((id) => groupView(tree, tree.get(id) as OrgGroupRecord));
    return json(200, { items });
  },
});

const createGroup = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: '/api/v1/groups',
    summary: 'Create an organization group under a parent the caller may change',
    request: {
      body: { required: true as const, content: { 'application/json': { schema: CreateBody } } },
    },
    responses: {
      201: jsonResponse(
        'the group and the settings copies A8 made for it',
        GroupView.extend({ settings: z.array(ReportView) }),
      ),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { parentId } = req.body;
    let tree: GroupTree | undefined;
    const result = await deps.groups.createGroup(req.body, {
      authorize: (s) => {
        authorizeGroup(s.tree, caller, parentId, 'write');
        tree = s.tree;
      },
    });
    const materialized = result.reports.flatMap((r) => (r.materialized.length > 0 ? [r.page] : []));
    await audit(deps, req, 'group.create', result.group.id, {
      name: req.body.name,
      parentId,
      materialized,
    });
    const path = [...(tree?.path(parentId) ?? []), result.group.name];
    return json(201, {
      ...groupView(tree as GroupTree, result.group),
      path,
      settings: eventful(result.reports),
    });
  },
});

const readGroup = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/groups/{id}',
    summary: 'One organization group',
    request: { params: GroupParams },
    responses: { 200: jsonResponse('the group', GroupView) },
  }),
  async handle(deps, req) {
    const { tree } = await deps.groups.state();
    authorizeGroup(tree, callerOf(req), req.params.id, 'read');
    return json(200, groupView(tree, tree.get(req.params.id) as OrgGroupRecord));
  },
});

const updateGroup = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'patch',
    path: '/api/v1/groups/{id}',
    summary:
      "Rename or move a group (A11: its subtree is recomputed under the new parent; its users' devices get their new effective policy)",
    request: {
      params: GroupParams,
      body: { required: true as const, content: { 'application/json': { schema: UpdateBody } } },
    },
    responses: {
      200: jsonResponse(
        'the group and what the move does to its settings',
        z.object({ group: GroupView, settings: z.array(ReportView), applied: z.boolean() }),
      ),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { id } = req.params;
    const { name, parentId, dryRun } = req.body;
    let from: string | undefined;
    const result = await deps.groups.updateGroup(
      id,
      { ...(name === undefined ? {} : { name }), ...(parentId === undefined ? {} : { parentId }) },
      {
        dryRun: dryRun === true,
        authorize: (s) => {
          authorizeGroup(s.tree, caller, id, 'write');
          if (parentId !== undefined) authorizeGroup(s.tree, caller, parentId, 'write');
          from = s.tree.get(id)?.parentId;
        },
      },
    );
    const settings = eventful(result.reports);
    if (result.applied)
      await audit(deps, req, 'group.update', id, {
        ...(name === undefined ? {} : { name }),
        ...(parentId === undefined ? {} : { parentId }),
        suppressed: result.reports.flatMap((r) => r.suppressed.map((g) => `${r.page}:${g}`)),
      });
    const { tree } = await deps.groups.state();
    // Moved users may now get another group default policy: delivery re-evaluates the subtree.
    // The move is stored already; a delivery failure surfaces (503) and the next change retries.
    if (result.applied && parentId !== undefined && parentId !== from)
      await deps.delivery.apply({ kind: 'groups', groupIds: tree.subtree(id) });
    const view = {
      ...groupView(tree, result.group),
      path: [...tree.path(result.group.parentId ?? ''), result.group.name],
    };
    return json(200, { group: view, settings, applied: result.applied });
  },
});

const deleteGroup = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: '/api/v1/groups/{id}',
    summary: 'Delete an empty group (no child groups, profiles, policies, administrators or users)',
    request: { params: GroupParams },
    responses: { 200: jsonResponse('deleted', z.object({ deleted: z.literal(true) })) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { id } = req.params;
    await deps.groups.deleteGroup(id, {
      authorize: (s) => {
        authorizeGroup(s.tree, caller, id, 'write');
      },
    });
    await audit(deps, req, 'group.delete', id);
    return json(200, { deleted: true });
  },
});

const readAllSettings = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/groups/{id}/settings',
    summary: 'Every settings page of a group, effective',
    request: { params: GroupParams },
    responses: { 200: jsonResponse('every page', z.object({ items: z.array(SettingsPageView) })) },
  }),
  async handle(deps, req) {
    const state = await deps.groups.state();
    const caller = callerOf(req);
    authorizeGroup(state.tree, caller, req.params.id, 'read');
    return json(200, {
      items: SETTINGS_PAGES.map((p) => pageView(state, caller, req.params.id, p.id)),
    });
  },
});

const readSettings = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/groups/{id}/settings/{page}',
    summary: 'One settings page of a group: effective values, their source, mode and lock',
    request: { params: PageParams },
    responses: { 200: jsonResponse('the page', SettingsPageView) },
  }),
  async handle(deps, req) {
    const state = await deps.groups.state();
    const caller = callerOf(req);
    authorizeGroup(state.tree, caller, req.params.id, 'read');
    return json(200, pageView(state, caller, req.params.id, req.params.page));
  },
});

const writeSettings = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'put',
    path: '/api/v1/groups/{id}/settings/{page}',
    summary: 'Write a settings page at a group (A4-A10); 409 names the group that blocks it',
    request: {
      params: PageParams,
      body: { required: true as const, content: { 'application/json': { schema: WriteBody } } },
    },
    responses: {
      200: jsonResponse(
        'the new effective settings and what the write does below',
        z.object({ settings: EffectiveSettingsView, report: ReportView, applied: z.boolean() }),
      ),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const { id, page } = req.params;
    const { dryRun, ...write } = req.body;
    const result = await deps.groups.writeSettings(id, page, write, {
      dryRun: dryRun === true,
      authorize: (s) => {
        authorizeGroup(s.tree, caller, id, 'write');
      },
    });
    const { report } = result;
    if (result.applied)
      await audit(deps, req, 'group.settings.write', id, {
        page,
        ...write,
        changed: report.changed.map((c) => c.groupId),
        suppressed: report.suppressed,
        reactivated: report.reactivated,
        materialized: report.materialized,
      });
    return json(200, {
      settings: effectiveView(result.effective),
      report: reportView(report),
      applied: result.applied,
    });
  },
});

/** The routes over organization groups and their settings. */
export const groupRoutes = [
  listGroups,
  createGroup,
  readGroup,
  updateGroup,
  deleteGroup,
  readAllSettings,
  readSettings,
  writeSettings,
];

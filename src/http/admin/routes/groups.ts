/**
 * Admin routes over organization groups and their settings pages (rules A1-A11). Every route is
 * scoped: it checks the caller's group scope itself (A4, A12) against the same snapshot the
 * service plans with, so a scope check and a change never see different trees.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { authorizeGroup, canEdit, canSee, type Caller } from '../../../admin/principals.js';
import type {
  EffectiveSettings,
  ManagementState,
  SettingsReport,
} from '../../../management/groups-service.js';
import { requirePage } from '../../../management/groups-service.js';
import { SETTINGS_PAGES } from '../../../management/pages.js';
import type { GroupTree } from '../../../management/tree.js';
import type { OrgGroupRecord, SettingsRecord } from '../../../storage/ports.js';
import { audit, defineRoute, json, jsonResponse, type RouteRequest } from '../route.js';
import { idSchema, Instant } from '../schemas.js';
import { iso } from '../views.js';

const CHILD_PERMISSION = z
  .enum(['inherit-only', 'override-only', 'inherit-or-override'], {
    error: 'childPermission must be inherit-only, override-only or inherit-or-override',
  })
  .openapi({ description: 'what groups below may do (Child Permission)' });
const CURRENT_SETTING = z
  .enum(['inherit', 'override'], { error: 'currentSetting must be inherit or override' })
  .openapi({ description: 'Current Setting: inherit from the parent or override here' });
const VALUES = z
  .record(z.string(), z.unknown())
  .openapi({ description: "a settings page's values (see the page's fields)" });
const DRY_RUN = z
  .boolean({ error: 'dryRun must be a boolean' })
  .optional()
  .openapi({ description: 'plan and report without applying' });

const name = z
  .string({ error: 'name must be a non-empty string' })
  .min(1, { error: 'name must be a non-empty string' })
  .max(128, { error: 'name is too long' });

/** An organization group as the API shows it. */
export const GroupView = z
  .object({
    id: z.string(),
    name: z.string(),
    parentId: z.string().nullable(),
    path: z.array(z.string()).openapi({ description: 'names from the root down to this group' }),
    createdAt: Instant,
  })
  .openapi('Group');

/** Effective settings of one page at one group. */
export const EffectiveSettingsView = z
  .object({
    groupId: z.string(),
    page: z.string(),
    values: VALUES,
    sourceGroupId: z.string().openapi({ description: 'the group the values come from' }),
    currentSetting: CURRENT_SETTING,
    childPermission: CHILD_PERMISSION,
    dormant: z.boolean().openapi({ description: 'a stored override an ancestor suppresses' }),
    lockedBy: z.string().nullable().openapi({
      description: "the ancestor whose Child Permission forces this group's mode",
    }),
  })
  .openapi('EffectiveSettings');

const StoredSettingsView = z
  .object({ values: VALUES, childPermission: CHILD_PERMISSION, updatedAt: Instant })
  .openapi('StoredSettings');

const SettingsPageView = EffectiveSettingsView.extend({
  title: z.string(),
  writable: z.boolean().openapi({ description: 'whether this caller may write the page here' }),
  stored: StoredSettingsView.nullable(),
}).openapi('SettingsPage');

const ReportView = z
  .object({
    page: z.string(),
    changed: z.array(
      z.object({
        groupId: z.string(),
        before: EffectiveSettingsView,
        after: EffectiveSettingsView,
      }),
    ),
    suppressed: z.array(z.string()),
    reactivated: z.array(z.string()),
    materialized: z.array(z.string()),
    undo: StoredSettingsView.nullable(),
  })
  .openapi('SettingsReport');

const GroupParams = z.object({
  id: idSchema('id').openapi({ param: { name: 'id', in: 'path' } }),
});
const PageParams = GroupParams.extend({
  page: idSchema('page').openapi({ param: { name: 'page', in: 'path' }, example: 'enrollment' }),
});

const CreateBody = z.strictObject({ name, parentId: idSchema('parentId') }).openapi('GroupCreate');
const UpdateBody = z
  .strictObject({
    name: name.optional(),
    parentId: idSchema('parentId').optional(),
    dryRun: DRY_RUN,
  })
  .openapi('GroupUpdate');
const WriteBody = z
  .strictObject({
    currentSetting: CURRENT_SETTING.optional(),
    childPermission: CHILD_PERMISSION.optional(),
    values: VALUES.optional().openapi({ description: 'values to change; the rest are kept' }),
    dryRun: DRY_RUN,
  })
  .openapi('SettingsWrite');

function groupView(tree: GroupTree, g: OrgGroupRecord): z.infer<typeof GroupView> {
  return {
    id: g.id,
    name: g.name,
    parentId: g.parentId ?? null,
    path: tree.path(g.id),
    createdAt: iso(g.createdAt),
  };
}

function effectiveView(e: EffectiveSettings): z.infer<typeof EffectiveSettingsView> {
  const { groupId, page, values, sourceGroupId, currentSetting, childPermission, dormant } = e;
  return {
    groupId,
    page,
    values,
    sourceGroupId,
    currentSetting,
    childPermission,
    dormant,
    lockedBy: e.lockedBy ?? null,
  };
}

function storedView(r: SettingsRecord | undefined): z.infer<typeof StoredSettingsView> | null {
  if (r === undefined) return null;
  return { values: r.values, childPermission: r.childPermission, updatedAt: iso(r.updatedAt) };
}

function reportView(r: SettingsReport): z.infer<typeof ReportView> {
  return {
    page: r.page,
    changed: r.changed.map((c) => ({
      groupId: c.groupId,
      before: effectiveView(c.before),
      after: effectiveView(c.after),
    })),
    suppressed: r.suppressed,
    reactivated: r.reactivated,
    materialized: r.materialized,
    undo: storedView(r.undo),
  };
}

/** Reports worth showing: pages where something happens. */
const eventful = (reports: readonly SettingsReport[]) =>
  reports
    .filter((r) => r.changed.length + r.suppressed.length + r.materialized.length > 0)
    .map(reportView);

/** The caller of a scoped route (the app sets it for every route that takes a key). */
function callerOf(req: Pick<RouteRequest, 'caller'>): Caller {
  if (req.caller === undefined) throw new TypeError('a group route needs a caller');
  return req.caller;
}

/** The view of one page at a group for this caller. */
function pageView(state: ManagementState, caller: Caller, groupId: string, pageId: string) {
  const page = requirePage(pageId);
  const effective = state.resolver(page).resolve(groupId);
  const locked = effective.currentSetting === 'inherit' && effective.lockedBy !== undefined;
  return {
    ...effectiveView(effective),
    title: page.title,
    writable: canEdit(state.tree, caller, groupId) && !locked,
    stored: storedView(state.records.get(page.id)?.get(groupId)),
  };
}

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
    summary: 'Rename or move a group (A11: its subtree is recomputed under the new parent)',
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
    const result = await deps.groups.updateGroup(
      id,
      { ...(name === undefined ? {} : { name }), ...(parentId === undefined ? {} : { parentId }) },
      {
        dryRun: dryRun === true,
        authorize: (s) => {
          authorizeGroup(s.tree, caller, id, 'write');
          if (parentId !== undefined) authorizeGroup(s.tree, caller, parentId, 'write');
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
    summary: 'Delete an empty group (no child groups, profiles or administrators)',
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

/**
 * The zod schemas and JSON views of the organization-group routes: groups with their paths,
 * effective settings, stored overrides and the reports of a change, declared once so the OpenAPI
 * document shows them.
 */
import { z } from '@hono/zod-openapi';
import { canEdit, type Caller } from '../../../admin/principals.js';
import {
  requirePage,
  type EffectiveSettings,
  type ManagementState,
  type SettingsReport,
} from '../../../management/groups-service.js';
import type { GroupTree } from '../../../management/tree.js';
import type { OrgGroupRecord, SettingsRecord } from '../../../storage/ports.js';
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

/** One settings page at a group as a caller sees it: effective, writable for it, and what is stored. */
export const SettingsPageView = EffectiveSettingsView.extend({
  title: z.string(),
  writable: z.boolean().openapi({ description: 'whether this caller may write the page here' }),
  stored: StoredSettingsView.nullable(),
}).openapi('SettingsPage');

/** What a change does to one page below the group it touches (A6-A10). */
export const ReportView = z
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

/** Path parameters `{id}` of a group. */
export const GroupParams = z.object({
  id: idSchema('id').openapi({ param: { name: 'id', in: 'path' } }),
});
/** Path parameters `{id}` and `{page}`. */
export const PageParams = GroupParams.extend({
  page: idSchema('page').openapi({ param: { name: 'page', in: 'path' }, example: 'enrollment' }),
});

/** Body of `POST /api/v1/groups`. */
export const CreateBody = z
  .strictObject({ name, parentId: idSchema('parentId') })
  .openapi('GroupCreate');
/** Body of `PATCH /api/v1/groups/{id}`. */
export const UpdateBody = z
  .strictObject({
    name: name.optional(),
    parentId: idSchema('parentId').optional(),
    dryRun: DRY_RUN,
  })
  .openapi('GroupUpdate');
/** Body of `PUT /api/v1/groups/{id}/settings/{page}`. */
export const WriteBody = z
  .strictObject({
    currentSetting: CURRENT_SETTING.optional(),
    childPermission: CHILD_PERMISSION.optional(),
    values: VALUES.optional().openapi({ description: 'values to change; the rest are kept' }),
    dryRun: DRY_RUN,
  })
  .openapi('SettingsWrite');

/** The API view of a group, with the names from the root down to it. */
export function groupView(tree: GroupTree, g: OrgGroupRecord): z.infer<typeof GroupView> {
  return {
    id: g.id,
    name: g.name,
    parentId: g.parentId ?? null,
    path: tree.path(g.id),
    createdAt: iso(g.createdAt),
  };
}

/** The API view of effective settings (`lockedBy` null when nothing forces the mode). */
export function effectiveView(e: EffectiveSettings): z.infer<typeof EffectiveSettingsView> {
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

/** The API view of a settings report (`undo` null unless a switch to Inherit deleted an override). */
export function reportView(r: SettingsReport): z.infer<typeof ReportView> {
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
export const eventful = (reports: readonly SettingsReport[]) =>
  reports
    .filter((r) => r.changed.length + r.suppressed.length + r.materialized.length > 0)
    .map(reportView);

/** The view of one page at a group for this caller; 404 `ERR_SETTINGS_PAGE` for an unknown page. */
export function pageView(state: ManagementState, caller: Caller, groupId: string, pageId: string) {
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

/** Records and steps the management conformance suites share. */
import type {
  AdminStorage,
  ManagementChange,
  OrgGroupRecord,
  SettingsRecord,
} from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';

/** A group record under `parentId`, created now. */
export function group(ctx: AdminSuiteContext, id: string, parentId?: string): OrgGroupRecord {
  const g: OrgGroupRecord = { id, name: id.toUpperCase(), createdAt: ctx.clock.now() };
  if (parentId !== undefined) g.parentId = parentId;
  return g;
}

/** A settings record of `page` at `groupId`, updated now. */
export function settings(ctx: AdminSuiteContext, groupId: string, page: string): SettingsRecord {
  return {
    groupId,
    page,
    values: { interactiveEnabled: true, nested: { list: [1, 'two'] } },
    childPermission: 'inherit-or-override',
    updatedAt: ctx.clock.now(),
  };
}

/** Applies `change` at the current revision; the new revision. */
export async function apply(store: AdminStorage, change: ManagementChange): Promise<number> {
  const { revision } = await store.loadManagement();
  const next = await store.applyManagement(change, revision);
  if (next === undefined) throw new Error('apply lost a race it should not have');
  return next;
}

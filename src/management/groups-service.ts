/**
 * The organization-group service: groups and their settings pages over an {@link OrgGroupStore}.
 * Every change is planned by the pure rules against one snapshot and applied with that
 * snapshot's revision, retried on a stale one, so several daemons on one database stay
 * consistent. Snapshots are cached by revision; the store's revision is checked on every call
 * (one small read) and the tree is read again only when it moved.
 */
import { randomBytes } from 'node:crypto';
import { ManagementError } from '../errors.js';
import type {
  ManagementChange,
  OrgGroupRecord,
  OrgGroupStore,
  PolicyStore,
  PrincipalStore,
  ProfileLibraryStore,
  UserStore,
  SettingsRecord,
} from '../storage/ports.js';
import { planCreateGroup, planDeleteGroup, planReparent } from './groups-plan.js';
import { findSettingsPage, SETTINGS_PAGES, type SettingsPage } from './pages.js';
import {
  createResolver,
  indexSettings,
  pageRecords,
  type EffectiveSettings,
  type RecordIndex,
  type SettingsResolver,
} from './settings.js';
import {
  planSettingsWrite,
  type SettingsChange,
  type SettingsReport,
  type SettingsWrite,
} from './settings-plan.js';
import { buildGroupTree, type GroupTree } from './tree.js';

export type { EffectiveSettings } from './settings.js';
export type { SettingsChange, SettingsReport, SettingsWrite } from './settings-plan.js';

/** One consistent view of the tree and its settings, at a store revision. */
export interface ManagementState {
  revision: number;
  tree: GroupTree;
  records: RecordIndex;
  /** A memoizing resolver of `page` over this state (shared by callers of the same state). */
  resolver(page: SettingsPage): SettingsResolver;
}

/** Called on a planned change with the state it was planned against, e.g. to check scope. */
export type Authorize = (state: ManagementState) => void;

/** Options of a change: a dry run plans and reports without applying; `authorize` may throw. */
export interface ChangeOptions {
  dryRun?: boolean;
  authorize?: Authorize;
}

/** The outcome of a settings write. */
export interface SettingsWriteResult {
  effective: EffectiveSettings;
  report: SettingsReport;
  applied: boolean;
}

/** The outcome of a change to the tree. */
export interface GroupChangeResult {
  group: OrgGroupRecord;
  reports: SettingsReport[];
  applied: boolean;
}

/** A change of a group's name or parent. */
export interface GroupUpdate {
  name?: string;
  parentId?: string;
}

/** Groups and their settings, as the admin API and the daemon use them. */
export interface GroupService {
  /** The current tree. */
  tree(): Promise<GroupTree>;
  /** The current state (tree, records, resolvers). */
  state(): Promise<ManagementState>;
  /** Effective settings of `page` at `groupId`; 404 `ERR_GROUP_NOT_FOUND` / `ERR_SETTINGS_PAGE`. */
  effectiveSettings(groupId: string, page: string): Promise<EffectiveSettings>;
  /** Effective settings of every page at `groupId`; 404 `ERR_GROUP_NOT_FOUND`. */
  allSettings(groupId: string): Promise<EffectiveSettings[]>;
  /** The stored override of `page` at `groupId`, or `undefined` when it inherits. */
  storedSettings(groupId: string, page: string): Promise<SettingsRecord | undefined>;
  /** Creates a group under `parentId` (A8 applies); 404 when the parent is unknown. */
  createGroup(
    input: { name: string; parentId: string },
    options?: ChangeOptions,
  ): Promise<GroupChangeResult>;
  /** Renames a group; 404 when unknown. */
  renameGroup(id: string, name: string, options?: ChangeOptions): Promise<GroupChangeResult>;
  /** Moves a group under `parentId` (A11); 409 on a cycle or for the root. */
  moveGroup(id: string, parentId: string, options?: ChangeOptions): Promise<GroupChangeResult>;
  /** Renames and/or moves a group in one change (A11 when it moves). */
  updateGroup(id: string, change: GroupUpdate, options?: ChangeOptions): Promise<GroupChangeResult>;
  /**
   * Deletes an empty group: no children, profiles, policies, administrators or users (409
   * `ERR_GROUP_NOT_EMPTY`); a group whose policy is another group's default owns that policy.
   */
  deleteGroup(id: string, options?: ChangeOptions): Promise<OrgGroupRecord>;
  /** Writes `page` at `groupId` (A4-A10); the report also on a dry run. */
  writeSettings(
    groupId: string,
    page: string,
    write: SettingsWrite,
    options?: ChangeOptions,
  ): Promise<SettingsWriteResult>;
}

/** What {@link createGroupService} needs. */
export interface GroupServiceDeps {
  /**
   * Groups and settings; a group owning profiles or policies (`countPolicies`, checked when the
   * store has it, as every admin store does) is not deleted.
   */
  store: OrgGroupStore &
    Pick<ProfileLibraryStore, 'countLibraryProfiles'> &
    Partial<Pick<PolicyStore, 'countPolicies'>>;
  /** Administrators, so a group that scopes an active one is not deleted; default none checked. */
  principals?: Pick<PrincipalStore, 'listPrincipals'>;
  /** Users, so a group that owns one is not deleted (the store refuses it too); default none checked. */
  users?: Pick<UserStore, 'listUsers'>;
  clock?: () => Date;
  /** Called after each applied change with every group whose effective page changed (A10). */
  onSettingsChanged?: (changes: readonly SettingsChange[]) => void;
}

/** Options of {@link createGroupService}. */
export interface GroupServiceOptions {
  /** New group ids; default `og_` and 16 random hex digits. */
  newId?: () => string;
  /** How often a change is re-planned when another writer moved the revision; default 5. */
  attempts?: number;
}

/** A page by id; 404 `ERR_SETTINGS_PAGE` when unknown. */
export function requirePage(id: string): SettingsPage {
  const page = findSettingsPage(id);
  if (page === undefined)
    throw new ManagementError('ERR_SETTINGS_PAGE', `no settings page ${id}`, { field: 'page' });
  return page;
}

function requireGroup(state: ManagementState, id: string): OrgGroupRecord {
  const group = state.tree.get(id);
  if (group === undefined)
    throw new ManagementError('ERR_GROUP_NOT_FOUND', `no organization group ${id}`, { group: id });
  return group;
}

function stateOf(revision: number, groups: OrgGroupRecord[], settings: SettingsRecord[]) {
  const tree = buildGroupTree(groups);
  const records = indexSettings(settings);
  const resolvers = new Map<string, SettingsResolver>();
  const state: ManagementState = {
    revision,
    tree,
    records,
    resolver(page) {
      let r = resolvers.get(page.id);
      if (!r) {
        const index = pageRecords(records, page.id);
        resolvers.set(page.id, (r = createResolver(tree, page, (id) => index.get(id))));
      }
      return r;
    },
  };
  return state;
}

/** A plan made against one state: the change to apply and what to answer. */
interface Planned<T> {
  change: ManagementChange;
  reports: readonly SettingsReport[];
  result: (applied: boolean) => T;
}

/**
 * Creates the group service over `deps.store`. Changes are applied with the revision they were
 * planned at and re-planned up to `attempts` times; then 503 `ERR_MANAGEMENT_BUSY`.
 */
export function createGroupService(
  deps: GroupServiceDeps,
  options: GroupServiceOptions = {},
): GroupService {
  const clock = deps.clock ?? (() => new Date());
  const newId = options.newId ?? (() => `og_${randomBytes(8).toString('hex')}`);
  const attempts = options.attempts ?? 5;
  let cached: ManagementState | undefined;

  // The cheap revision read decides whether the whole tree must be read again; the snapshot then
  // carries its own revision, so a change landing in between is simply caught by the next call.
  async function load(): Promise<ManagementState> {
    if (cached !== undefined && cached.revision === (await deps.store.findManagementRevision()))
      return cached;
    const snap = await deps.store.loadManagement();
    cached = stateOf(snap.revision, snap.groups, snap.settings);
    return cached;
  }

  async function run<T>(
    opts: ChangeOptions,
    plan: (state: ManagementState) => Promise<Planned<T>> | Planned<T>,
  ): Promise<T> {
    for (let i = 0; i < attempts; i++) {
      const state = await load();
      opts.authorize?.(state);
      const planned = await plan(state);
      if (opts.dryRun === true) return planned.result(false);
      const revision = await deps.store.applyManagement(planned.change, state.revision);
      if (revision === undefined) continue;
      const changes = planned.reports.flatMap((r) => r.changed);
      if (changes.length > 0) deps.onSettingsChanged?.(changes);
      return planned.result(true);
    }
    throw new ManagementError('ERR_MANAGEMENT_BUSY', 'the group tree is changing: try again');
  }

  const administratorsAt = async (groupId: string): Promise<number> => {
    const all = (await deps.principals?.listPrincipals()) ?? [];
    return all.filter((p) => p.groupId === groupId && p.disabledAt === undefined).length;
  };

  function update(id: string, change: GroupUpdate, opts: ChangeOptions = {}) {
    return run(opts, (state): Planned<GroupChangeResult> => {
      const current = requireGroup(state, id);
      const rename = change.name === undefined ? {} : { name: change.name };
      if (change.parentId === undefined || change.parentId === current.parentId) {
        const group = { ...current, ...rename };
        const reports: SettingsReport[] = [];
        return {
          change: { putGroups: [group] },
          reports,
          result: (applied) => ({ group, reports, applied }),
        };
      }
      const plan = planReparent(state.tree, state.records, id, change.parentId, clock());
      const group = { ...current, ...rename, parentId: change.parentId };
      return {
        change: { ...plan.change, putGroups: [group] },
        reports: plan.reports,
        result: (applied) => ({ group, reports: plan.reports, applied }),
      };
    });
  }

  const effective = (state: ManagementState, groupId: string, page: SettingsPage) => {
    requireGroup(state, groupId);
    return state.resolver(page).resolve(groupId);
  };

  return {
    tree: async () => (await load()).tree,
    state: load,
    async effectiveSettings(groupId, pageId) {
      const page = requirePage(pageId);
      return effective(await load(), groupId, page);
    },
    async allSettings(groupId) {
      const state = await load();
      return SETTINGS_PAGES.map((page) => effective(state, groupId, page));
    },
    async storedSettings(groupId, pageId) {
      const page = requirePage(pageId);
      const state = await load();
      requireGroup(state, groupId);
      return pageRecords(state.records, page.id).get(groupId);
    },
    createGroup(input, opts = {}) {
      const group: OrgGroupRecord = {
        id: newId(),
        name: input.name,
        parentId: input.parentId,
        createdAt: clock(),
      };
      return run(opts, (state) => {
        const plan = planCreateGroup(state.tree, state.records, group, clock());
        return { ...plan, result: (applied) => ({ group, reports: plan.reports, applied }) };
      });
    },
    renameGroup: (id, name, opts) => update(id, { name }, opts),
    moveGroup: (id, parentId, opts) => update(id, { parentId }, opts),
    updateGroup: update,
    deleteGroup(id, opts = {}) {
      return run(opts, async (state) => {
        const group = requireGroup(state, id);
        const change = planDeleteGroup(state.tree, id, {
          profiles: await deps.store.countLibraryProfiles(id),
          administrators: await administratorsAt(id),
          users: (await deps.users?.listUsers({ limit: 1, groupIds: [id] }))?.items.length ?? 0,
        });
        const policies = (await deps.store.countPolicies?.(id)) ?? 0;
        if (policies > 0)
          throw new ManagementError(
            'ERR_GROUP_NOT_EMPTY',
            `${id} still owns ${policies} policy(ies): delete them or move them to another group`,
            { group: id },
          );
        return { change, reports: [], result: () => group };
      });
    },
    async writeSettings(groupId, pageId, write, opts = {}) {
      const page = requirePage(pageId);
      return await run(opts, (state) => {
        requireGroup(state, groupId);
        const plan = planSettingsWrite(
          state.tree,
          pageRecords(state.records, page.id),
          groupId,
          page,
          write,
          clock(),
        );
        const report = plan.reports[0] as SettingsReport;
        return {
          ...plan,
          result: (applied) => ({ effective: plan.effective, report, applied }),
        };
      });
    },
  };
}

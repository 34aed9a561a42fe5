/**
 * Groups in the console: the tree the administrator sees, and one group with its settings pages
 * (each with its Current Setting, where its values come from, and whether it is locked) and its
 * default policy (set or cleared here, previewed by nothing: the policy page shows the report).
 */
import { authorizeGroup, canEdit, canSee } from '../../../admin/principals.js';
import { SETTINGS_PAGES } from '../../../management/pages.js';
import type { GroupTree } from '../../../management/tree.js';
import { policyUnknown } from '../../../management/policies-ref.js';
import type { OrgGroupRecord } from '../../../storage/ports.js';
import { pageView } from '../../admin/routes/groups-views.js';
import type { WebDeps } from '../types.js';
import {
  auditAs,
  csrf,
  groupLink,
  guarded,
  h,
  noticeOf,
  readForm,
  render,
  seeOther,
  seg,
  viewerOf,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';
import { allVisible } from './lists.js';
import { settingsRoutes } from './settings.js';

function branch(tree: GroupTree, visible: (id: string) => boolean, g: OrgGroupRecord): Html {
  const kids = tree.children(g.id).filter((k) => visible(k.id));
  const sub = kids.length === 0 ? '' : h`<ul>${kids.map((k) => branch(tree, visible, k))}</ul>`;
  return h`<li data-testid="group-${g.id}">${groupLink(tree, g.id)}${sub}</li>`;
}

async function treePage(deps: WebDeps, c: ConsoleContext) {
  const { caller } = viewerOf(c);
  const tree = await deps.groups.tree();
  const visible = (id: string) => canSee(tree, caller, id);
  const root = tree.get(tree.rootId) as OrgGroupRecord;
  return render(
    c,
    'Groups',
    h`<h1>Organization groups</h1><ul class="tree">${branch(tree, visible, root)}</ul>`,
  );
}

async function policySection(deps: WebDeps, c: ConsoleContext, tree: GroupTree, id: string) {
  const viewer = viewerOf(c);
  const defaults = await deps.admin.listGroupPolicies();
  const source = tree.chain(id).find((g) => defaults.has(g));
  const own = defaults.get(id);
  const effective =
    source === undefined ? undefined : await deps.admin.findPolicy(defaults.get(source) ?? '');
  const line = effective
    ? h`<p>Users here without a policy of their own get <a href="/console/policies/${seg(effective.id)}">${effective.name}</a>${source === id ? ' (set here)' : h` (from ${groupLink(tree, source ?? '')})`}.</p>`
    : h`<p>No default policy applies here.</p>`;
  if (!canEdit(tree, viewer.caller, id))
    return h`<section><h2>Default policy</h2>${line}</section>`;
  const policies = await allVisible(tree, viewer.caller, (o) => deps.policies.list(o));
  const options = policies.map(
    (p) => h`<option value="${p.id}" ${p.id === own ? 'selected' : ''}>${p.name}</option>`,
  );
  return h`<section><h2>Default policy</h2>${line}
<form method="post" action="/console/groups/${seg(id)}/policy">${csrf(viewer)}
<label for="policyId">Default policy of this group</label>
<select id="policyId" name="policyId"><option value="">None (inherit from above)</option>${options}</select>
<button type="submit">Save</button></form></section>`;
}

async function groupPage(deps: WebDeps, c: ConsoleContext) {
  const { caller } = viewerOf(c);
  const id = c.req.param('id') ?? '';
  const state = await deps.groups.state();
  authorizeGroup(state.tree, caller, id, 'read');
  const rows = SETTINGS_PAGES.map((p) => {
    const v = pageView(state, caller, id, p.id);
    const lock = v.lockedBy === null ? '' : h` · locked by ${groupLink(state.tree, v.lockedBy)}`;
    return h`<tr><th scope="row"><a href="/console/groups/${seg(id)}/settings/${p.id}">${p.title}</a></th>
<td>${v.currentSetting}${lock}</td><td>${groupLink(state.tree, v.sourceGroupId)}</td><td>${v.childPermission}</td></tr>`;
  });
  const path = state.tree.path(id).join(' › ');
  const body = h`<h1>${state.tree.get(id)?.name ?? id}</h1>${noticeOf(c, { saved: 'Default policy saved.' })}
<p class="path">${path}</p><section><h2>Settings</h2><table><thead><tr><th scope="col">Page</th>
<th scope="col">Current Setting</th><th scope="col">Values from</th><th scope="col">Child Permission</th></tr></thead>
<tbody>${rows}</tbody></table></section>${await policySection(deps, c, state.tree, id)}`;
  return render(c, state.tree.get(id)?.name ?? id, body);
}

async function writePolicy(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const id = c.req.param('id') ?? '';
  const tree = await deps.groups.tree();
  authorizeGroup(tree, viewer.caller, id, 'write');
  const policyId = (await readForm(c)).get('policyId') ?? '';
  if (policyId !== '') {
    const policy = await deps.admin.findPolicy(policyId);
    if (policy === undefined || !canSee(tree, viewer.caller, policy.groupId))
      throw policyUnknown(policyId, 'policyId');
  }
  const result = await deps.policies.setGroupPolicy(id, policyId === '' ? undefined : policyId);
  await auditAs(deps, viewer, 'group.policy.write', id, {
    policyId: policyId === '' ? null : policyId,
    devices: result.report.devices,
  });
  return seeOther(c, `/console/groups/${seg(id)}`, 'saved');
}

/** Registers the group pages and their settings pages. */
export function groupRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/groups',
    guarded((c) => treePage(deps, c)),
  );
  app.get(
    '/console/groups/:id',
    guarded((c) => groupPage(deps, c)),
  );
  app.post(
    '/console/groups/:id/policy',
    guarded((c) => writePolicy(deps, c)),
  );
  settingsRoutes(app, deps);
}

/**
 * Policies in the console: the list the administrator sees (owned at, below or above its scope
 * group, A12), creating one, and one policy with its assignments: assign a library profile as
 * Auto, Optional or Interactive with its removal control (Interactive only where Profile Options
 * allows it: the service's 422 is shown), and unassign. Each applied change shows its report.
 */
import { canEdit } from '../../../admin/principals.js';
import type { ChangeReport } from '../../../management/delivery/types.js';
import type { AssignmentType, RemovalControl, PolicyRecord } from '../../../storage/ports.js';
import { visiblePolicy } from '../../admin/routes/policies-views.js';
import { visibleProfile } from '../../admin/routes/profiles-views.js';
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
import { allVisible, dataTable, groupOptions, ownedForm, ownedListPage } from './lists.js';

const TYPES: readonly AssignmentType[] = ['auto', 'optional', 'interactive'];
const REMOVALS: readonly RemovalControl[] = ['always', 'with-authorization', 'never'];

const listPolicies = (deps: WebDeps, c: ConsoleContext) =>
  ownedListPage<PolicyRecord>(deps, c, {
    title: 'Policies',
    path: '/console/policies',
    list: (o) => deps.policies.list(o),
    row: (p, tree) =>
      h`<tr data-testid="policy-${p.id}"><th scope="row"><a href="/console/policies/${seg(p.id)}">${p.name}</a></th>
<td>${p.description ?? ''}</td><td>${groupLink(tree, p.groupId)}</td></tr>`,
    headers: ['Policy', 'Description', 'Owner'],
    empty: 'No policies.',
    form: (tree, viewer) =>
      h`<section class="panel"><h2>New policy</h2><form method="post" action="/console/policies">${csrf(viewer)}
<p><label for="p-name">Name</label> <input id="p-name" name="name" required maxlength="128"></p>
<p><label for="p-description">Description</label> <input id="p-description" name="description"></p>
<p><label for="p-groupId">Owner group</label> <select id="p-groupId" name="groupId">${groupOptions(tree, viewer)}</select></p>
<p><button type="submit">Create</button></p></form></section>`,
  });

async function create(deps: WebDeps, c: ConsoleContext) {
  const { viewer, form, groupId } = await ownedForm(deps, c);
  const description = (form.get('description') ?? '').trim();
  const policy = await deps.policies.create({
    name: (form.get('name') ?? '').trim(),
    groupId,
    ...(description === '' ? {} : { description }),
  });
  await auditAs(deps, viewer, 'policy.create', policy.id, { name: policy.name, groupId });
  return seeOther(c, `/console/policies/${seg(policy.id)}`, 'created');
}

async function assignForm(
  deps: WebDeps,
  c: ConsoleContext,
  policyId: string,
  ownerId: string,
): Promise<Html> {
  const viewer = viewerOf(c);
  const tree = await deps.groups.tree();
  const profiles = await allVisible(tree, viewer.caller, (o) => deps.profiles.list(o));
  if (profiles.length === 0) return h`<p>The profile library has no profile to assign yet.</p>`;
  const options = profiles.map(
    (p) => h`<option value="${p.id}">${p.name} (${p.identifier})</option>`,
  );
  const select = (name: string, label: string, values: readonly string[]) =>
    h`<p><label for="a-${name}">${label}</label> <select id="a-${name}" name="${name}">${values.map((v) => h`<option value="${v}">${v}</option>`)}</select></p>`;
  const interactive = (await deps.profiles.interactiveEnabled(ownerId))
    ? h`<p>Interactive is allowed here: the user installs such a profile from the portal.</p>`
    : h`<p>Interactive is off for this policy's group (its Profile options page): assigning a profile as Interactive is refused.</p>`;
  return h`<section class="panel"><h2>Assign a profile</h2>${interactive}
<form method="post" action="/console/policies/${seg(policyId)}/profiles">${csrf(viewer)}
<p><label for="a-profileId">Profile</label> <select id="a-profileId" name="profileId">${options}</select></p>
${select('assignmentType', 'Assignment type', TYPES)}${select('removal', 'Removal', REMOVALS)}
<p><button type="submit">Assign</button></p></form></section>`;
}

async function onePage(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const { policy, tree } = await visiblePolicy(
    deps,
    viewer.caller,
    c.req.param('id') ?? '',
    'read',
  );
  const editable = canEdit(tree, viewer.caller, policy.groupId);
  const assignments = await deps.policies.assignments(policy.id);
  const rows = await Promise.all(
    assignments.map(async (a) => {
      const profile = await deps.admin.findLibraryProfile(a.profileId);
      const unassign = editable
        ? h`<form method="post" action="/console/policies/${seg(policy.id)}/profiles/${seg(a.profileId)}/unassign">${csrf(viewer)}<button type="submit">Unassign</button></form>`
        : '';
      return h`<tr data-testid="assignment-${a.profileId}"><th scope="row"><a href="/console/profiles/${seg(a.profileId)}">${profile?.name ?? a.profileId}</a></th>
<td>${profile?.identifier ?? ''}</td><td>${a.assignmentType}</td><td>${a.removal}</td><td>${unassign}</td></tr>`;
    }),
  );
  const headers = ['Profile', 'Identifier', 'Assignment', 'Removal', 'Actions'];
  const table = dataTable('No profiles assigned.', headers, rows);
  const body = h`<h1>${policy.name}</h1>${noticeOf(c, { created: 'Policy created.' })}
<p>${policy.description ?? ''}</p><p>Owner: ${groupLink(tree, policy.groupId)}</p><h2>Profiles</h2>${table}
${editable ? await assignForm(deps, c, policy.id, policy.groupId) : ''}`;
  return render(c, policy.name, body);
}

/** A change report in words. */
export function reportBody(title: string, back: string, r: ChangeReport): Html {
  const t = r.totals;
  return h`<h1>${title}</h1><p data-testid="report">${r.devices} devices reached: ${t.added} added, ${t.removed} removed,
${t.updated} updated, ${t.unchanged} unchanged, ${t.skipped} skipped, ${t.blocked} blocked; ${r.commandsQueued} commands queued.</p>
<p><a href="${back}">Back</a></p>`;
}

async function assign(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const { policy } = await visiblePolicy(deps, viewer.caller, c.req.param('id') ?? '', 'write');
  const form = await readForm(c);
  const { profile } = await visibleProfile(
    deps,
    viewer.caller,
    form.get('profileId') ?? '',
    'read',
  );
  const assignmentType = TYPES.find((t) => t === form.get('assignmentType'));
  const removal = REMOVALS.find((r) => r === form.get('removal'));
  const result = await deps.policies.assign(policy.id, profile.id, {
    ...(assignmentType === undefined ? {} : { assignmentType }),
    ...(removal === undefined ? {} : { removal }),
  });
  const { value } = result;
  if (value !== undefined)
    await auditAs(deps, viewer, 'policy.assign', policy.id, {
      ...{ profileId: profile.id, assignmentType: value.assignmentType },
      ...{ removal: value.removal, devices: result.report.devices },
    });
  return render(
    c,
    'Profile assigned',
    reportBody(
      `${profile.name} assigned to ${policy.name} as ${value?.assignmentType ?? 'before'}`,
      `/console/policies/${seg(policy.id)}`,
      result.report,
    ),
  );
}

async function unassign(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const { policy } = await visiblePolicy(deps, viewer.caller, c.req.param('id') ?? '', 'write');
  const profileId = c.req.param('profileId') ?? '';
  const result = await deps.policies.unassign(policy.id, profileId);
  await auditAs(deps, viewer, 'policy.unassign', policy.id, {
    profileId,
    devices: result.report.devices,
  });
  return render(
    c,
    'Profile unassigned',
    reportBody(
      `Profile removed from ${policy.name}`,
      `/console/policies/${seg(policy.id)}`,
      result.report,
    ),
  );
}

/** Registers the policy pages. */
export function policyRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/policies',
    guarded((c) => listPolicies(deps, c)),
  );
  app.post(
    '/console/policies',
    guarded((c) => create(deps, c)),
  );
  app.get(
    '/console/policies/:id',
    guarded((c) => onePage(deps, c)),
  );
  app.post(
    '/console/policies/:id/profiles',
    guarded((c) => assign(deps, c)),
  );
  app.post(
    '/console/policies/:id/profiles/:profileId/unassign',
    guarded((c) => unassign(deps, c)),
  );
}

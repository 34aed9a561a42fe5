/**
 * Users in the console: the list of the administrator's scope (its group and below: people's
 * data does not flow down), adding one, and the CSV import with its per-row report. One user's
 * page (QR code, link, send, rotate) is in `user.ts`. Changes are audited as the admin API's.
 */
import type { GroupTree } from '../../../management/tree.js';
import type { Page, UserRecord } from '../../../storage/ports.js';
import type { UserInput } from '../../../management/users.js';
import { authorizeWrite, invite, scopeOf } from '../../admin/routes/users-shared.js';
import type { UserImportReportJson } from '../../admin/routes/users-views.js';
import type { ConsoleViewer, WebDeps } from '../types.js';
import {
  auditAs,
  csrf,
  groupLink,
  guarded,
  h,
  readForm,
  render,
  seeOther,
  seg,
  viewerOf,
  writes,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';
import { groupOptions, listPage } from './lists.js';
import { userPageRoutes } from './user.js';

const PAGE = 50;

function addForm(tree: GroupTree, viewer: ConsoleViewer): Html {
  const field = (name: string, label: string, type = 'text', required = false) =>
    h`<p><label for="u-${name}">${label}</label> <input id="u-${name}" name="${name}" type="${type}" ${required ? 'required' : ''}></p>`;
  return h`<section class="panel"><h2>Add a user</h2>
<form method="post" action="/console/users">${csrf(viewer)}
${field('username', 'Username', 'text', true)}${field('email', 'E-mail', 'email', true)}
${field('firstName', 'First name')}${field('lastName', 'Last name')}
${field('policy', 'Own policy (name or id; empty: the group default)')}
<p><label for="u-groupId">Group</label> <select id="u-groupId" name="groupId">${groupOptions(tree, viewer)}</select></p>
<p><button type="submit">Add</button></p></form>
<p><a href="/console/users/import">Import users from a CSV file</a></p></section>`;
}

async function loadUsers(deps: WebDeps, viewer: ConsoleViewer, cursor: string | undefined) {
  const page = await deps.users
    .list({ limit: PAGE, ...scopeOf(viewer.caller), ...(cursor === undefined ? {} : { cursor }) })
    .catch((error: unknown): Page<UserRecord> => {
      if (error instanceof TypeError) return { items: [] }; // a foreign cursor
      throw error;
    });
  return { ...page, items: await deps.users.views(page.items) };
}

const listUsers = (deps: WebDeps, c: ConsoleContext) =>
  listPage(c, deps, {
    title: 'Users',
    path: '/console/users',
    load: (viewer, cursor) => loadUsers(deps, viewer, cursor),
    row: (u, tree) =>
      h`<tr data-testid="user-${u.id}"><th scope="row"><a href="/console/users/${seg(u.id)}">${u.username}</a></th>
<td>${[u.firstName, u.lastName].filter((n) => n !== null).join(' ')}</td><td>${u.email}</td>
<td>${groupLink(tree, u.groupId)}</td><td>${u.policy ?? '(group default)'}</td></tr>`,
    headers: ['Username', 'Name', 'E-mail', 'Group', 'Policy'],
    empty: 'No users.',
    form: addForm,
    notices: { deleted: 'User deleted.' },
  });

const FIELDS = ['username', 'email', 'groupId', 'firstName', 'lastName', 'policy'] as const;

async function addUser(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const form = await readForm(c);
  const input: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = (form.get(f) ?? '').trim();
    if (v !== '' || f === 'username' || f === 'email') input[f] = v;
  }
  const groupId = input.groupId ?? viewer.caller.principal.groupId;
  await authorizeWrite(deps, viewer.caller, groupId);
  const user = await deps.users.create({ ...input, groupId } as UserInput, scopeOf(viewer.caller));
  await auditAs(deps, viewer, 'user.create', user.id, { username: user.username, groupId });
  return seeOther(c, `/console/users/${seg(user.id)}`, 'created');
}

function importForm(tree: GroupTree, viewer: ConsoleViewer): Html {
  return h`<form method="post" action="/console/users/import" enctype="multipart/form-data">${csrf(viewer)}
<p><label for="csv">CSV file (header username,email and any of first_name, last_name, og, policy, managed_apple_id, send_invite, custom_1..3)</label>
<input id="csv" name="csv" type="file" accept=".csv,text/csv" required></p>
<p><label for="i-groupId">Group of new users without an og column</label>
<select id="i-groupId" name="groupId">${groupOptions(tree, viewer)}</select></p>
<p><input type="checkbox" id="atomic" name="atomic" value="true"> <label for="atomic">All rows or none</label></p>
<p><button type="submit">Import</button></p></form>`;
}

async function importPage(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const tree = await deps.groups.tree();
  const body = writes(viewer)
    ? importForm(tree, viewer)
    : h`<p>This administrator may only read.</p>`;
  return render(c, 'Import users', h`<h1>Import users</h1>${body}`);
}

/** The per-row report of an import. */
export function importReport(report: UserImportReportJson): Html {
  const rows = report.rows.map(
    (
      r,
    ) => h`<tr data-outcome="${r.outcome}"><td>${r.line}</td><th scope="row">${r.userId === undefined ? r.username : h`<a href="/console/users/${seg(r.userId)}">${r.username}</a>`}</th>
<td>${r.outcome}</td><td>${r.reason ?? ''}</td><td>${r.invitation ?? ''}</td></tr>`,
  );
  const summary = report.applied
    ? `${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged, ${report.refused} refused.`
    : `Nothing was stored: ${report.refused} rows were refused and the import was all or nothing.`;
  return h`<p data-testid="import-summary">${summary}</p><table><thead><tr><th scope="col">Line</th>
<th scope="col">Username</th><th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Invitation</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

async function importUsers(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const form = await readForm(c);
  const file = form.file('csv');
  const text = file === undefined ? (form.get('csv') ?? '') : await file.text();
  const groupId = form.get('groupId') ?? viewer.caller.principal.groupId;
  await authorizeWrite(deps, viewer.caller, groupId);
  const atomic = form.get('atomic') === 'true';
  const report = await deps.users.importUsers(text, { atomic, groupId, ...scopeOf(viewer.caller) });
  const done = await invite(deps, report);
  await auditAs(deps, viewer, 'user.import', groupId, {
    ...{ atomic, applied: done.applied, created: done.created, updated: done.updated },
    ...{ unchanged: done.unchanged, refused: done.refused },
    invited: done.rows.filter((r) => r.invitation === 'sent').length,
  });
  const tree = await deps.groups.tree();
  const body = h`<h1>Import report</h1>${importReport(done)}<h2>Import another file</h2>${importForm(tree, viewer)}`;
  return render(c, 'Import report', body);
}

/** Registers the user pages. */
export function userRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/users',
    guarded((c) => listUsers(deps, c)),
  );
  app.post(
    '/console/users',
    guarded((c) => addUser(deps, c)),
  );
  app.get(
    '/console/users/import',
    guarded((c) => importPage(deps, c)),
  );
  app.post(
    '/console/users/import',
    guarded((c) => importUsers(deps, c)),
  );
  userPageRoutes(app, deps);
}

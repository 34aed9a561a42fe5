/**
 * The profile library in the console: the profiles the administrator sees (A12), uploading a
 * `.mobileconfig` owned by a group (the library's 422 lists every issue), and one profile with
 * its compatibility (platforms, minimum OS, supervision, enrollment types, deprecations) and its
 * removal rules with `canRemove`'s answers, as the admin API describes them.
 */
import type { ProfileDescription } from '../../../management/profile-describe.js';
import { MAX_IMPORT_BYTES } from '../../../management/user-csv.js';
import type { AssignmentType, LibraryProfileRecord } from '../../../storage/ports.js';
import { visibleProfile } from '../../admin/routes/profiles-views.js';
import type { WebDeps } from '../types.js';
import {
  auditAs,
  csrf,
  groupLink,
  guarded,
  h,
  noticeOf,
  render,
  seeOther,
  seg,
  viewerOf,
  when,
  type ConsoleApp,
  type ConsoleContext,
  type Html,
} from './kit.js';
import { dataTable, groupOptions, ownedForm, ownedListPage } from './lists.js';
import { ManagementError } from '../../../errors.js';

const TYPES: readonly AssignmentType[] = ['auto', 'optional', 'interactive'];

const listProfiles = (deps: WebDeps, c: ConsoleContext) =>
  ownedListPage<LibraryProfileRecord>(deps, c, {
    title: 'Profile library',
    path: '/console/profiles',
    list: (o) => deps.profiles.list(o),
    row: (p, tree) =>
      h`<tr data-testid="library-${p.id}"><th scope="row"><a href="/console/profiles/${seg(p.id)}">${p.name}</a></th>
<td>${p.identifier}</td><td>${p.assignmentType}</td><td>${p.latestVersion}</td><td>${groupLink(tree, p.groupId)}</td></tr>`,
    headers: ['Profile', 'Identifier', 'Type', 'Version', 'Owner'],
    empty: 'The library is empty.',
    form: (tree, viewer) =>
      h`<section class="panel"><h2>Upload a profile</h2>
<form method="post" action="/console/profiles" enctype="multipart/form-data">${csrf(viewer)}
<p><label for="mobileconfig">.mobileconfig file (plain or signed)</label> <input id="mobileconfig" name="mobileconfig" type="file" accept=".mobileconfig,application/x-apple-aspen-config" required></p>
<p><label for="pr-groupId">Owner group</label> <select id="pr-groupId" name="groupId">${groupOptions(tree, viewer)}</select></p>
<p><label for="pr-type">Default assignment type</label> <select id="pr-type" name="assignmentType">${TYPES.map((t) => h`<option value="${t}">${t}</option>`)}</select></p>
<p><label for="pr-name">Name (default: its PayloadDisplayName)</label> <input id="pr-name" name="name" maxlength="256"></p>
<p><button type="submit">Upload</button></p></form></section>`,
  });

async function upload(deps: WebDeps, c: ConsoleContext) {
  const { viewer, form, groupId } = await ownedForm(deps, c);
  const file = form.file('mobileconfig');
  if (file === undefined || file.size === 0)
    throw new ManagementError('ERR_PROFILE_INVALID', 'choose a .mobileconfig file to upload', {
      field: 'mobileconfig',
    });
  const assignmentType = TYPES.find((t) => t === form.get('assignmentType'));
  const name = (form.get('name') ?? '').trim();
  const { profile, version } = await deps.profiles.upload({
    groupId,
    content: new Uint8Array(await file.arrayBuffer()),
    ...(assignmentType === undefined ? {} : { assignmentType }),
    ...(name === '' ? {} : { name }),
    actor: viewer.caller.principal.id,
  });
  await auditAs(deps, viewer, 'profile.create', profile.id, {
    ...{ groupId: profile.groupId, identifier: profile.identifier },
    ...{ assignmentType: profile.assignmentType, payloadUuid: version.payloadUuid },
  });
  return seeOther(c, `/console/profiles/${seg(profile.id)}`, 'uploaded');
}

const COMPAT_COLUMNS = [
  'Platform',
  'Minimum OS',
  'Removed in',
  'Needs supervision',
  'Enrollment types',
  'Manual install',
];

function compatibilityTable(d: ProfileDescription): Html {
  const cmp = d.compatibility;
  const rows = cmp.platforms.map(
    (
      p,
    ) => h`<tr><th scope="row">${p}</th><td>${cmp.minimumOs[p] ?? '—'}</td><td>${cmp.removedIn[p] ?? '—'}</td>
<td>${cmp.requiresSupervision.includes(p) ? 'yes' : 'no'}</td><td>${(cmp.enrollmentTypes[p] ?? []).join(', ')}</td>
<td>${cmp.manualInstall.includes(p) ? 'yes' : 'no'}</td></tr>`,
  );
  const deprecations = cmp.deprecations.map((i) => h`<li>${i.path}: ${i.message}</li>`);
  const table = dataTable('No platform takes every payload of this profile.', COMPAT_COLUMNS, rows);
  return h`<h2>Compatibility</h2>${table}
${deprecations.length === 0 ? '' : h`<h3>Deprecations</h3><ul>${deprecations}</ul>`}`;
}

function removalTable(d: ProfileDescription): Html {
  const r = d.removal;
  const cases = r.cases.map(
    (k) => h`<tr><th scope="row">${k.case}</th><td>${k.outcome}</td><td>${k.reason}</td></tr>`,
  );
  return h`<h2>Removal rules</h2><table><tbody>
<tr><th scope="row">Removal disallowed</th><td>${r.removalDisallowed ? 'yes' : 'no'}</td></tr>
<tr><th scope="row">Removal password</th><td>${r.hasRemovalPassword ? 'yes' : 'no'}</td></tr>
<tr><th scope="row">Removal date</th><td>${when(r.removalDate)}</td></tr></tbody></table>
<table><thead><tr><th scope="col">Who, on what</th><th scope="col">Outcome</th><th scope="col">Why</th></tr></thead><tbody>${cases}</tbody></table>`;
}

async function onePage(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const { profile, tree } = await visibleProfile(
    deps,
    viewer.caller,
    c.req.param('id') ?? '',
    'read',
  );
  const latest = await deps.profiles.read(profile.id);
  const description = deps.profiles.describe(latest.content);
  const body = h`<h1>${profile.name}</h1>${noticeOf(c, { uploaded: 'Profile uploaded.' })}
<table><tbody><tr><th scope="row">Identifier</th><td>${profile.identifier}</td></tr>
<tr><th scope="row">Owner</th><td>${groupLink(tree, profile.groupId)}</td></tr>
<tr><th scope="row">Default assignment type</th><td>${profile.assignmentType}</td></tr>
<tr><th scope="row">Latest version</th><td>${profile.latestVersion} (${when(latest.version.createdAt)})</td></tr>
<tr><th scope="row">Upload signer</th><td>${latest.version.uploadedSigner ?? 'unsigned'}</td></tr></tbody></table>
${compatibilityTable(description)}${removalTable(description)}`;
  return render(c, profile.name, body);
}

/** Largest upload body: the CSV import's 5 MiB (a profile is at most 3 MiB). */
export const UPLOAD_LIMIT = MAX_IMPORT_BYTES;

/** Registers the profile library pages. */
export function profileRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/profiles',
    guarded((c) => listProfiles(deps, c)),
  );
  app.post(
    '/console/profiles',
    guarded((c) => upload(deps, c)),
  );
  app.get(
    '/console/profiles/:id',
    guarded((c) => onePage(deps, c)),
  );
}

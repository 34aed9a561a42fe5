/**
 * One settings page of one group (rules A1-A13): the Current Setting (Inherit or Override), the
 * Child Permission, the effective values with the group they come from, and the stored override.
 * A page an ancestor locks says which group locks it and has no form; a write the service refuses
 * (409 `ERR_LOCKED_BY_ANCESTOR`, `ERR_OVERRIDE_REQUIRED`, 422 `ERR_SETTINGS_VALUES`) answers its
 * status with the message. Writes are audited as the admin API audits them.
 */
import { authorizeGroup } from '../../../admin/principals.js';
import { ManagementError } from '../../../errors.js';
import { requirePage } from '../../../management/groups-service.js';
import type { SettingsPage } from '../../../management/pages.js';
import type { SettingsWrite } from '../../../management/settings-plan.js';
import type { ChildPermission } from '../../../storage/ports.js';
import { pageView } from '../../admin/routes/groups-views.js';
import type { WebDeps } from '../types.js';
import {
  auditAs,
  csrf,
  groupLink,
  asText,
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
  type Form,
  type Html,
} from './kit.js';

const PERMISSIONS: readonly ChildPermission[] = [
  'inherit-or-override',
  'inherit-only',
  'override-only',
];

const shown = asText;

/** The input of one value, typed from the page's default. */
function valueInput(key: string, def: unknown, value: unknown): Html {
  const id = `v-${key}`;
  if (typeof def === 'boolean')
    return h`<p><input type="checkbox" id="${id}" name="${key}" value="true" ${value === true ? 'checked' : ''}>
<label for="${id}">${key}</label></p>`;
  if (Array.isArray(def)) {
    const chosen = new Set(Array.isArray(value) ? value.map(String) : []);
    const boxes = def.map(String).map(
      (
        o,
      ) => h`<li><input type="checkbox" id="${id}-${o}" name="${key}" value="${o}" ${chosen.has(o) ? 'checked' : ''}>
<label for="${id}-${o}">${o}</label></li>`,
    );
    return h`<fieldset><legend>${key}</legend><ul class="checks">${boxes}</ul></fieldset>`;
  }
  const type = typeof def === 'number' ? 'number' : 'text';
  return h`<p><label for="${id}">${key}</label> <input type="${type}" id="${id}" name="${key}" value="${shown(value)}"></p>`;
}

/** The values of `page` read from a form, typed from its defaults. */
export function valuesFrom(page: SettingsPage, form: Form): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(page.defaults)) {
    if (typeof def === 'boolean') values[key] = form.get(key) === 'true';
    else if (Array.isArray(def)) values[key] = form.all(key);
    else if (typeof def === 'number') {
      const text = (form.get(key) ?? '').trim();
      values[key] = text === '' ? Number.NaN : Number(text);
    } else values[key] = form.get(key) ?? '';
  }
  return values;
}

function settingsForm(
  c: ConsoleContext,
  page: SettingsPage,
  groupId: string,
  v: ReturnType<typeof pageView>,
): Html {
  const viewer = viewerOf(c);
  const current = v.stored === null ? 'inherit' : 'override';
  const radio = (mode: 'inherit' | 'override') =>
    h`<input type="radio" id="cs-${mode}" name="currentSetting" value="${mode}" ${current === mode ? 'checked' : ''}>
<label for="cs-${mode}">${mode === 'inherit' ? 'Inherit' : 'Override'}</label>`;
  const permission = PERMISSIONS.map(
    (p) => h`<option value="${p}" ${v.childPermission === p ? 'selected' : ''}>${p}</option>`,
  );
  const inputs = Object.entries(page.defaults).map(([k, def]) => valueInput(k, def, v.values[k]));
  return h`<form method="post" action="/console/groups/${seg(groupId)}/settings/${page.id}">${csrf(viewer)}
<fieldset><legend>Current Setting</legend>${radio('inherit')} ${radio('override')}</fieldset>
<p><label for="childPermission">Child Permission</label>
<select id="childPermission" name="childPermission">${permission}</select></p>
<fieldset><legend>Values (used when overriding)</legend>${inputs}</fieldset>
<p><button type="submit">Save</button></p></form>`;
}

async function showPage(deps: WebDeps, c: ConsoleContext) {
  const { caller } = viewerOf(c);
  const id = c.req.param('id') ?? '';
  const page = requirePage(c.req.param('page') ?? '');
  const state = await deps.groups.state();
  authorizeGroup(state.tree, caller, id, 'read');
  const v = pageView(state, caller, id, page.id);
  const { tree } = state;
  const values = Object.entries(v.values).map(
    ([k, value]) => h`<tr><th scope="row">${k}</th><td>${shown(value)}</td></tr>`,
  );
  const locked =
    v.lockedBy === null
      ? ''
      : h`<p class="notice notice-error" role="alert" data-testid="locked">This page is locked by ${groupLink(tree, v.lockedBy)}: its Child Permission is ${v.childPermission === 'override-only' ? 'Override only' : 'Inherit only'}, so it cannot be changed here.</p>`;
  const stored =
    v.stored === null
      ? ''
      : h`<h2>Stored here${v.dormant ? ' (dormant while the lock holds)' : ''}</h2><table><tbody>${Object.entries(
          v.stored.values,
        ).map(([k, value]) => h`<tr><th scope="row">${k}</th><td>${shown(value)}</td></tr>`)}
<tr><th scope="row">Child Permission</th><td>${v.stored.childPermission}</td></tr></tbody></table>`;
  const form = v.writable ? settingsForm(c, page, id, v) : '';
  const body = h`<h1>${page.title} · ${tree.get(id)?.name ?? id}</h1>${noticeOf(c, { saved: 'Settings saved.' })}
<p>${page.description}</p>${locked}
<table><tbody><tr><th scope="row">Current Setting</th><td data-testid="current-setting">${v.currentSetting}</td></tr>
<tr><th scope="row">Values come from</th><td>${groupLink(tree, v.sourceGroupId)}</td></tr>
<tr><th scope="row">Child Permission</th><td>${v.childPermission}</td></tr></tbody></table>
<h2>Effective values</h2><table><tbody>${values}</tbody></table>${stored}${form}
<p><a href="/console/groups/${seg(id)}">Back to the group</a></p>`;
  return render(c, `${page.title} · ${tree.get(id)?.name ?? id}`, body);
}

function writeFrom(page: SettingsPage, form: Form): SettingsWrite {
  const mode = form.get('currentSetting');
  if (mode !== 'inherit' && mode !== 'override')
    throw new ManagementError('ERR_SETTINGS_VALUES', 'choose Inherit or Override', {
      field: 'currentSetting',
    });
  const permission = form.get('childPermission');
  const childPermission = PERMISSIONS.find((p) => p === permission);
  if (mode === 'inherit') return { currentSetting: 'inherit' };
  return {
    currentSetting: 'override',
    ...(childPermission === undefined ? {} : { childPermission }),
    values: valuesFrom(page, form),
  };
}

/**
 * The refusal with the groups its message names by id shown by name too (`Europe (og_...)`), so
 * a locked page's refusal says which group locks it in words.
 */
async function withGroupNames(
  deps: Pick<WebDeps, 'groups'>,
  error: ManagementError,
): Promise<ManagementError> {
  const tree = await deps.groups.tree();
  const message = error.message.replace(/\b(og_[0-9a-f]+|global)\b/g, (id) => {
    const name = tree.get(id)?.name;
    return name === undefined || name === id ? id : `${name} (${id})`;
  });
  if (message === error.message) return error;
  return new ManagementError(error.code, message, {
    cause: error,
    ...(error.group === undefined ? {} : { group: error.group }),
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(error.issues === undefined ? {} : { issues: error.issues }),
  });
}

async function writePage(deps: WebDeps, c: ConsoleContext) {
  const viewer = viewerOf(c);
  const id = c.req.param('id') ?? '';
  const page = requirePage(c.req.param('page') ?? '');
  const write = writeFrom(page, await readForm(c));
  const result = await deps.groups
    .writeSettings(id, page.id, write, {
      authorize: (s) => {
        authorizeGroup(s.tree, viewer.caller, id, 'write');
      },
    })
    .catch(async (error: unknown) => {
      throw error instanceof ManagementError ? await withGroupNames(deps, error) : error;
    });
  const { report } = result;
  if (result.applied)
    await auditAs(deps, viewer, 'group.settings.write', id, {
      page: page.id,
      ...write,
      changed: report.changed.map((ch) => ch.groupId),
      suppressed: report.suppressed,
      reactivated: report.reactivated,
      materialized: report.materialized,
    });
  return seeOther(c, `/console/groups/${seg(id)}/settings/${page.id}`, 'saved');
}

/** Registers `GET|POST /console/groups/{id}/settings/{page}`. */
export function settingsRoutes(app: ConsoleApp, deps: WebDeps): void {
  app.get(
    '/console/groups/:id/settings/:page',
    guarded((c) => showPage(deps, c)),
  );
  app.post(
    '/console/groups/:id/settings/:page',
    guarded((c) => writePage(deps, c)),
  );
}

/**
 * The console's list pages, written once: one page of records as a table with its "Next page"
 * link and the form under it, every record of group-owned kinds the administrator sees (A12) for
 * the pickers, and the owner-group `<option>`s of the create forms.
 */
import { authorizeGroup, type Caller } from '../../../admin/principals.js';
import type { GroupTree } from '../../../management/tree.js';
import type { Page } from '../../../storage/ports.js';
import { listOwned, visibleOwners } from '../../admin/routes/owned-list.js';
import type { ConsoleViewer, WebDeps } from '../types.js';
import {
  h,
  noticeOf,
  readForm,
  render,
  seg,
  viewerOf,
  writes,
  type ConsoleContext,
  type Form,
  type Html,
} from './kit.js';

/** The groups a writer may put records in: its scope group and below, as `<option>`s. */
export function groupOptions(tree: GroupTree, viewer: ConsoleViewer, selected?: string): Html[] {
  return tree
    .subtree(viewer.caller.principal.groupId)
    .map(
      (id) =>
        h`<option value="${id}" ${id === selected ? 'selected' : ''}>${tree.path(id).join(' › ')}</option>`,
    );
}

/** A table with a column header per `headers` and `rows`, or the sentence `empty` when none. */
export function dataTable(empty: string, headers: readonly string[], rows: readonly Html[]): Html {
  if (rows.length === 0) return h`<p>${empty}</p>`;
  const ths = headers.map((t) => h`<th scope="col">${t}</th>`);
  return h`<table><thead><tr>${ths}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** The store's list call of a group-owned kind (policies, library profiles). */
type OwnedLister<T> = (options: {
  limit: number;
  cursor?: string;
  groupIds?: string[];
}) => Promise<Page<T>>;

/** Every record of a group-owned kind the caller sees (A12), by name (at most about 10,000). */
export async function allVisible<T extends { name: string }>(
  tree: GroupTree,
  caller: Caller,
  list: OwnedLister<T>,
): Promise<T[]> {
  const owners = visibleOwners(tree, caller);
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
      ...(owners === undefined ? {} : { groupIds: owners }),
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && out.length < 10_000);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** What a list page shows: its title, path, columns, rows, and the form under the table. */
export interface ListPageSpec<T> {
  title: string;
  /** The page's own path, for the "Next page" link. */
  path: string;
  /** One page of records from `cursor` (the query's). */
  load: (viewer: ConsoleViewer, cursor: string | undefined) => Promise<Page<T>>;
  row: (item: T, tree: GroupTree) => Html;
  headers: readonly string[];
  empty: string;
  /** The form under the table, shown only to viewers who may write. */
  form: (tree: GroupTree, viewer: ConsoleViewer) => Html;
  notices?: Record<string, string>;
}

/** Answers a list page: the heading, any notice, the table, the "Next page" link and the form. */
export async function listPage<T>(
  c: ConsoleContext,
  deps: Pick<WebDeps, 'groups'>,
  spec: ListPageSpec<T>,
) {
  const viewer = viewerOf(c);
  const page = await spec.load(viewer, c.req.query('cursor'));
  const tree = await deps.groups.tree();
  const next =
    page.nextCursor === undefined
      ? ''
      : h`<p><a href="${spec.path}?cursor=${seg(page.nextCursor)}">Next page</a></p>`;
  const table = dataTable(
    spec.empty,
    spec.headers,
    page.items.map((item) => spec.row(item, tree)),
  );
  const notice = spec.notices === undefined ? '' : noticeOf(c, spec.notices);
  const body = h`<h1>${spec.title}</h1>${notice}${table}${next}${writes(viewer) ? spec.form(tree, viewer) : ''}`;
  return render(c, spec.title, body);
}

/**
 * A list page of a group-owned kind (policies, library profiles): 100 a page of what the viewer
 * sees (A12).
 */
export function ownedListPage<T>(
  deps: Pick<WebDeps, 'groups'>,
  c: ConsoleContext,
  spec: Omit<ListPageSpec<T>, 'load'> & { list: OwnedLister<T> },
) {
  const load = (viewer: ConsoleViewer, cursor: string | undefined): Promise<Page<T>> =>
    listOwned(
      deps,
      viewer.caller,
      { limit: '100', ...(cursor === undefined ? {} : { cursor }) },
      spec.list,
    );
  return listPage(c, deps, { ...spec, load });
}

/** A create form of a group-owned kind, read, with its owner `groupId` the viewer may change. */
export async function ownedForm(
  deps: Pick<WebDeps, 'groups'>,
  c: ConsoleContext,
): Promise<{ viewer: ConsoleViewer; form: Form; groupId: string }> {
  const viewer = viewerOf(c);
  const form = await readForm(c);
  const groupId = form.get('groupId') ?? '';
  authorizeGroup(await deps.groups.tree(), viewer.caller, groupId, 'write');
  return { viewer, form, groupId };
}

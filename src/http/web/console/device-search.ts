/**
 * Searching devices in the console: by name, serial, UDID or enrollment id, or by the owner's
 * username, e-mail or name, case-insensitively. A root-scoped search reads a small index of every
 * device's and user's searchable text, rebuilt at most every 15 seconds (so a device enrolled
 * a moment ago may take that long to be found, while the list shows it at once); a scoped search
 * walks its own users' devices. Owners are looked up only for the devices shown.
 */
import { isGlobalCaller, type Caller } from '../../../admin/principals.js';
import type { GroupTree } from '../../../management/tree.js';
import type { EnrollmentRecord, UserRecord } from '../../../storage/ports.js';
import type { WebDeps } from '../types.js';
import {
  factText,
  findOwner,
  listDevices,
  seesDevice,
  withOwner,
  type ConsoleDevice,
} from './device-scope.js';

const has = (fields: readonly (string | undefined)[], needle: string): boolean =>
  fields.some((f) => f !== undefined && f.toLowerCase().includes(needle));

const deviceFields = (e: EnrollmentRecord): (string | undefined)[] => [
  factText(e, 'DeviceName'),
  factText(e, 'SerialNumber'),
  factText(e, 'UDID'),
  e.id,
];

const userFields = (u: UserRecord): (string | undefined)[] => [
  u.username,
  u.email,
  u.firstName,
  u.lastName,
];

/** Whether a device's own fields match: name, serial, UDID or enrollment id. */
export function matchesDevice(e: EnrollmentRecord, needle: string): boolean {
  return has(deviceFields(e), needle);
}

/** Whether a user matches: username, e-mail or name. */
export function matchesUser(u: UserRecord, needle: string): boolean {
  return has(userFields(u), needle);
}

const SCAN_PAGE = 1000;
const MAX_SCANNED = 200_000;
const INDEX_TTL_MS = 15_000;

/** A store's list call, one page at a time. */
type Lister<T> = (paging: {
  limit: number;
  cursor?: string;
}) => Promise<{ items: T[]; nextCursor?: string }>;

/** Walks every page of `list` (at most {@link MAX_SCANNED} items), calling `each` per page. */
async function scan<T>(
  list: Lister<T>,
  each: (items: T[]) => Promise<boolean> | boolean,
): Promise<void> {
  let cursor: string | undefined;
  let scanned = 0;
  do {
    const page = await list({ limit: SCAN_PAGE, ...(cursor === undefined ? {} : { cursor }) });
    if (!(await each(page.items))) return;
    scanned += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined && scanned < MAX_SCANNED);
}

/** One searchable row: an id and its lower-cased text. */
interface Row {
  id: string;
  text: string;
}

/** The root-scoped search's index: every device's and every user's searchable text. */
export interface SearchIndex {
  devices(): Promise<readonly Row[]>;
  users(): Promise<readonly Row[]>;
}

function cached(load: () => Promise<Row[]>): () => Promise<readonly Row[]> {
  let at = 0;
  let rows: Promise<Row[]> | undefined;
  return () => {
    if (rows === undefined || Date.now() - at >= INDEX_TTL_MS) {
      at = Date.now();
      rows = load().catch((error: unknown) => {
        rows = undefined;
        throw error;
      });
    }
    return rows;
  };
}

/** Every record's row: its id and its `fields`, lower-cased, read again at most every 15 s. */
function indexed<T extends { id: string }>(
  list: Lister<T>,
  fields: (item: T) => (string | undefined)[],
): () => Promise<readonly Row[]> {
  return cached(async () => {
    const rows: Row[] = [];
    await scan(list, (items) => {
      for (const item of items) {
        const text = fields(item).filter((f) => f !== undefined && f !== '');
        rows.push({ id: item.id, text: text.join('\n').toLowerCase() });
      }
      return true;
    });
    return rows;
  });
}

/** Creates the index over the stores (built on first use, then at most every 15 seconds). */
export function createSearchIndex(deps: Pick<WebDeps, 'storage' | 'users'>): SearchIndex {
  return {
    devices: indexed((paging) => deps.storage.listEnrollments(paging), deviceFields),
    users: indexed((paging) => deps.users.list(paging), userFields),
  };
}

/** The enrollment ids matching `needle` for a root-scoped caller, from the index. */
async function indexedIds(
  deps: Pick<WebDeps, 'admin'>,
  index: SearchIndex,
  needle: string,
  limit: number,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const row of await index.devices()) {
    if (row.text.includes(needle)) ids.add(row.id);
    if (ids.size > limit) return ids;
  }
  for (const row of await index.users()) {
    if (!row.text.includes(needle)) continue;
    for (const o of await deps.admin.listUserEnrollments(row.id)) ids.add(o.enrollmentId);
    if (ids.size > limit) return ids;
  }
  return ids;
}

/** The enrollment ids matching `needle` among the devices of a scoped caller's users. */
async function scopedIds(
  deps: Pick<WebDeps, 'storage' | 'admin'>,
  tree: GroupTree,
  caller: Caller,
  needle: string,
  limit: number,
): Promise<Set<string>> {
  const ids = new Set<string>();
  await scan(
    (paging) => listDevices(deps, tree, caller, paging, false),
    (items) => {
      for (const d of items)
        if (matchesDevice(d.enrollment, needle) || (d.owner && matchesUser(d.owner.user, needle)))
          ids.add(d.enrollment.id);
      return ids.size <= limit;
    },
  );
  return ids;
}

/** The devices matching `q` that the caller sees, at most `limit`, in id order. */
export async function searchDevices(
  deps: Pick<WebDeps, 'storage' | 'admin'>,
  index: SearchIndex,
  tree: GroupTree,
  caller: Caller,
  q: string,
  limit: number,
): Promise<{ items: ConsoleDevice[]; truncated: boolean }> {
  const needle = q.toLowerCase();
  const ids = isGlobalCaller(caller)
    ? await indexedIds(deps, index, needle, limit)
    : await scopedIds(deps, tree, caller, needle, limit);
  const shown = [...ids].sort().slice(0, limit);
  const records = await deps.storage.findEnrollments(shown);
  const items: ConsoleDevice[] = [];
  for (const e of records.sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const owner = await findOwner(deps, e.id);
    if (seesDevice(tree, caller, owner)) items.push(withOwner(e, owner));
  }
  return { items, truncated: ids.size > limit };
}

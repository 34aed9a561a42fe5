/**
 * Which devices an administrator sees in the console. A device belongs to its owning user's
 * organization group (M9, M10); as with users, people's devices do not flow down from ancestors:
 * an administrator sees the enrollments owned in its scope group and below, and a root-scoped
 * one sees every enrollment (owned or not). Anything else is the same 404 as an unknown id.
 */
import { isGlobalCaller, mayWrite, type Caller } from '../../../admin/principals.js';
import { RequestError } from '../../../errors.js';
import type { GroupTree } from '../../../management/tree.js';
import type { EnrollmentOwner, EnrollmentRecord } from '../../../storage/ports.js';
import { IDENTIFIER_PATTERN } from '../../admin/routes/enrollment-profiles-views.js';
import type { WebDeps } from '../types.js';

/** A device as the console shows it: its enrollment and owner (when someone owns it). */
export interface ConsoleDevice {
  enrollment: EnrollmentRecord;
  owner?: EnrollmentOwner;
}

/** Whether the caller sees a device owned by `owner` (none: only root-scoped callers). */
export function seesDevice(tree: GroupTree, caller: Caller, owner?: EnrollmentOwner): boolean {
  if (isGlobalCaller(caller)) return true;
  return owner !== undefined && tree.isWithin(owner.groupId, caller.principal.groupId);
}

/** Whether the caller may act on a device it sees (push, lock, erase, remove a profile). */
export const actsOnDevice = (caller: Caller): boolean => mayWrite(caller);

/** 404 `ERR_NOT_FOUND`: the same for an unknown device and one out of sight. */
export const deviceNotFound = (): RequestError =>
  new RequestError('ERR_NOT_FOUND', 'no such device');

/**
 * A profile identifier from a path: 404 (the same page as an unknown device) unless it has the
 * admin API's grammar (printable, no slash, at most 512 characters).
 */
export function identifierParam(value: string | undefined): string {
  if (value === undefined || !IDENTIFIER_PATTERN.test(value)) throw deviceNotFound();
  return value;
}

/** The device `id` when the caller sees it, with the group tree; 404 otherwise. */
export async function visibleDevice(
  deps: Pick<WebDeps, 'storage' | 'admin' | 'groups'>,
  caller: Caller,
  id: string,
): Promise<{ device: ConsoleDevice; tree: GroupTree }> {
  const [enrollment, owner, tree] = await Promise.all([
    deps.storage.findEnrollment(id),
    deps.admin.findEnrollmentOwner(id),
    deps.groups.tree(),
  ]);
  if (enrollment === undefined || !seesDevice(tree, caller, owner)) throw deviceNotFound();
  return { device: { enrollment, ...(owner === undefined ? {} : { owner }) }, tree };
}

/** The caller's devices as pages: every enrollment for a root-scoped caller, else owned ones. */
export interface DevicePage {
  items: ConsoleDevice[];
  nextCursor?: string;
}

/** One page of the devices the caller sees, in id order. */
export async function listDevices(
  deps: Pick<WebDeps, 'storage' | 'admin'>,
  tree: GroupTree,
  caller: Caller,
  paging: { limit: number; cursor?: string },
): Promise<DevicePage> {
  if (isGlobalCaller(caller)) {
    const page = await deps.storage.listEnrollments(paging);
    const owners = await Promise.all(page.items.map((e) => deps.admin.findEnrollmentOwner(e.id)));
    const items = page.items.map((enrollment, i) => withOwner(enrollment, owners[i]));
    return { items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
  }
  const groupIds = tree.subtree(caller.principal.groupId);
  const page = await deps.admin.listOwnedEnrollments({ groupIds }, paging);
  const records = await deps.storage.findEnrollments(page.items.map((o) => o.enrollmentId));
  const byId = new Map(records.map((r) => [r.id, r]));
  const items: ConsoleDevice[] = [];
  for (const owned of page.items) {
    const enrollment = byId.get(owned.enrollmentId);
    if (enrollment === undefined) continue;
    const owner = await deps.admin.findEnrollmentOwner(owned.enrollmentId);
    items.push(withOwner(enrollment, owner));
  }
  return { items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
}

function withOwner(enrollment: EnrollmentRecord, owner?: EnrollmentOwner): ConsoleDevice {
  return { enrollment, ...(owner === undefined ? {} : { owner }) };
}

const fact = (e: EnrollmentRecord, key: string): string => {
  const v = e.facts[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
};

/** The device's name as it reported it, else its id. */
export const deviceName = (e: EnrollmentRecord): string => fact(e, 'DeviceName') || e.id;

/** A fact as text ('' when absent or not a string or number). */
export const factText = fact;

/** Whether a device matches a search: name, serial, UDID, enrollment id or owner's username. */
export function matches(device: ConsoleDevice, q: string, username?: string): boolean {
  const needle = q.toLowerCase();
  const e = device.enrollment;
  const fields = [fact(e, 'DeviceName'), fact(e, 'SerialNumber'), fact(e, 'UDID'), e.id];
  if (username !== undefined) fields.push(username);
  return fields.some((f) => f.toLowerCase().includes(needle));
}

const SCAN_PAGE = 1000;
const MAX_SCANNED = 200_000;

/**
 * The devices matching `q` the caller sees, at most `limit`, scanning pages in id order (owners'
 * usernames looked up once each).
 */
export async function searchDevices(
  deps: Pick<WebDeps, 'storage' | 'admin'>,
  tree: GroupTree,
  caller: Caller,
  q: string,
  limit: number,
): Promise<{ items: ConsoleDevice[]; truncated: boolean }> {
  const names = new Map<string, Promise<string | undefined>>();
  const username = (userId: string) => {
    let found = names.get(userId);
    if (found === undefined)
      names.set(userId, (found = deps.admin.findUser(userId).then((u) => u?.username)));
    return found;
  };
  const items: ConsoleDevice[] = [];
  let cursor: string | undefined;
  let scanned = 0;
  do {
    const page = await listDevices(deps, tree, caller, {
      limit: SCAN_PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const d of page.items) {
      const name = d.owner === undefined ? undefined : await username(d.owner.userId);
      if (matches(d, q, name)) items.push(d);
      if (items.length > limit) return { items: items.slice(0, limit), truncated: true };
    }
    scanned += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined && scanned < MAX_SCANNED);
  return { items, truncated: false };
}

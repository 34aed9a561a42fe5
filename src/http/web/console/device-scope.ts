/**
 * Which devices an administrator sees in the console. A device belongs to its owning user's
 * organization group (M9, M10); as with users, people's devices do not flow down from ancestors:
 * an administrator sees the enrollments owned in its scope group and below, and a root-scoped
 * one sees every enrollment (owned or not). Anything else is the same 404 as an unknown id.
 */
import { isGlobalCaller, mayWrite, type Caller } from '../../../admin/principals.js';
import { RequestError } from '../../../errors.js';
import type { GroupTree } from '../../../management/tree.js';
import type { EnrollmentRecord, UserRecord } from '../../../storage/ports.js';
import { IDENTIFIER_PATTERN } from '../../admin/routes/enrollment-profiles-views.js';
import type { WebDeps } from '../types.js';

/** Who owns a device: the user as stored now (its group is the device's organization group). */
export interface DeviceOwner {
  userId: string;
  groupId: string;
  user: UserRecord;
}

/** A device as the console shows it: its enrollment and owner (when someone owns it). */
export interface ConsoleDevice {
  enrollment: EnrollmentRecord;
  owner?: DeviceOwner;
}

/** The owner of a user record. */
const ownerOf = (user: UserRecord): DeviceOwner => ({
  userId: user.id,
  groupId: user.groupId,
  user,
});

/** Whether the caller sees a device owned by `owner` (none: only root-scoped callers). */
export function seesDevice(tree: GroupTree, caller: Caller, owner?: DeviceOwner): boolean {
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

/** The owner of enrollment `id` as stored now, or `undefined` when nobody (or no user left) owns it. */
export async function findOwner(
  deps: Pick<WebDeps, 'admin'>,
  id: string,
): Promise<DeviceOwner | undefined> {
  const owner = await deps.admin.findEnrollmentOwner(id);
  const user = owner && (await deps.admin.findUser(owner.userId));
  return user && ownerOf(user);
}

/** `enrollment` with its owner. */
export function withOwner(enrollment: EnrollmentRecord, owner?: DeviceOwner): ConsoleDevice {
  return { enrollment, ...(owner === undefined ? {} : { owner }) };
}

/** The device `id` when the caller sees it, with the group tree; 404 otherwise. */
export async function visibleDevice(
  deps: Pick<WebDeps, 'storage' | 'admin' | 'groups'>,
  caller: Caller,
  id: string,
): Promise<{ device: ConsoleDevice; tree: GroupTree }> {
  const [enrollment, owner, tree] = await Promise.all([
    deps.storage.findEnrollment(id),
    findOwner(deps, id),
    deps.groups.tree(),
  ]);
  if (enrollment === undefined || !seesDevice(tree, caller, owner)) throw deviceNotFound();
  return { device: withOwner(enrollment, owner), tree };
}

/** A page of devices. */
export interface DevicePage {
  items: ConsoleDevice[];
  nextCursor?: string;
}

const pageOf = (items: ConsoleDevice[], nextCursor: string | undefined): DevicePage => ({
  items,
  ...(nextCursor === undefined ? {} : { nextCursor }),
});

/**
 * One page of the devices the caller sees, in id order: every enrollment for a root-scoped
 * caller, else those owned by users of its scope group and below. Owners are looked up only
 * when `owners` is true (a search matches first and looks up what it shows).
 */
export async function listDevices(
  deps: Pick<WebDeps, 'storage' | 'admin'>,
  tree: GroupTree,
  caller: Caller,
  paging: { limit: number; cursor?: string },
  owners = true,
): Promise<DevicePage> {
  if (isGlobalCaller(caller)) {
    const page = await deps.storage.listEnrollments(paging);
    const found = owners
      ? await Promise.all(page.items.map((e) => findOwner(deps, e.id)))
      : page.items.map(() => undefined);
    return pageOf(
      page.items.map((e, i) => withOwner(e, found[i])),
      page.nextCursor,
    );
  }
  const groupIds = tree.subtree(caller.principal.groupId);
  const page = await deps.admin.listOwnedEnrollments({ groupIds }, paging);
  const records = await deps.storage.findEnrollments(page.items.map((o) => o.enrollmentId));
  const byId = new Map(records.map((r) => [r.id, r]));
  const items = page.items.flatMap((o) => {
    const enrollment = byId.get(o.enrollmentId);
    return enrollment === undefined ? [] : [withOwner(enrollment, ownerOf(o.user))];
  });
  return pageOf(items, page.nextCursor);
}

const fact = (e: EnrollmentRecord, key: string): string => {
  const v = e.facts[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
};

/** The device's name as it reported it, else its id. */
export const deviceName = (e: EnrollmentRecord): string => fact(e, 'DeviceName') || e.id;

/** A fact as text ('' when absent or not a string or number). */
export const factText = fact;

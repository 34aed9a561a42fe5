/**
 * {@link UserStore.listOwnedEnrollments} in memory: owned enrollments joined with their users'
 * current fields, filtered by the union of the filter's conditions, in enrollment id order; and
 * {@link UserStore.listOwnedDevices} when the enrollments' store is known.
 */
import { filterIsEmpty, ownedPage, ownedPageStart } from '../policies-check.js';
import type {
  CheckinStore,
  OwnedDevice,
  OwnedEnrollment,
  OwnedEnrollmentFilter,
  UserRecord,
  UserStore,
} from '../ports.js';
import { adminStep, byBytes, type AdminState, type UserRow } from './admin-state.js';

type Match = (enrollmentId: string, user: UserRow) => boolean;

/** The filter as one predicate: any given condition matches (none given: everything). */
function matcher(filter: OwnedEnrollmentFilter): Match {
  if (filterIsEmpty(filter)) return () => true;
  const set = (ids: readonly string[] | undefined) => new Set(ids ?? []);
  const policies = set(filter.userPolicyIds);
  const defaults = set(filter.groupsWithoutUserPolicy);
  const groups = set(filter.groupIds);
  const users = set(filter.userIds);
  const enrollments = set(filter.enrollmentIds);
  return (enrollmentId, u) =>
    (u.policy !== undefined && policies.has(u.policy)) ||
    (u.policy === undefined && defaults.has(u.groupId)) ||
    groups.has(u.groupId) ||
    users.has(u.id) ||
    enrollments.has(enrollmentId);
}

function userRecord(row: UserRow): UserRecord {
  const { createdAt, updatedAt, ...rest } = row;
  return { ...rest, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
}

function list(
  s: AdminState,
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
) {
  const after = ownedPageStart(filter, options);
  const match = matcher(filter);
  const hits: { enrollmentId: string; user: UserRow }[] = [];
  for (const owner of s.owners.values()) {
    if (byBytes(owner.enrollmentId, after) <= 0) continue;
    const user = s.users.get(owner.userId);
    if (user !== undefined && match(owner.enrollmentId, user))
      hits.push({ enrollmentId: owner.enrollmentId, user });
  }
  hits.sort((a, b) => byBytes(a.enrollmentId, b.enrollmentId));
  const items: OwnedEnrollment[] = hits
    .slice(0, options.limit + 1)
    .map((h) => ({ enrollmentId: h.enrollmentId, user: userRecord(h.user) }));
  return ownedPage(items, options.limit);
}

/** The owned-enrollment listing of the memory {@link UserStore}. */
export function memoryOwnedEnrollments(s: AdminState): Pick<UserStore, 'listOwnedEnrollments'> {
  return {
    listOwnedEnrollments: (filter, options) => adminStep(s, () => list(s, filter, options)),
  };
}

/**
 * The owned-device listing of the memory {@link UserStore}: a page of owned enrollments, then
 * their records from `enrollments` (the memory MDM store keeps them apart from the admin state).
 */
export function memoryOwnedDevices(
  s: AdminState,
  enrollments: Pick<CheckinStore, 'findEnrollments'>,
): Required<Pick<UserStore, 'listOwnedDevices'>> {
  return {
    async listOwnedDevices(filter, options) {
      const page = await adminStep(s, () => list(s, filter, options));
      const found = await enrollments.findEnrollments(page.items.map((o) => o.enrollmentId));
      const byId = new Map(found.map((e) => [e.id, e]));
      const items: OwnedDevice[] = [];
      for (const o of page.items) {
        const record = byId.get(o.enrollmentId);
        if (record === undefined) continue;
        const { lastSeenAt: _seen, ...enrollment } = record;
        items.push({ ...o, enrollment });
      }
      return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
    },
  };
}

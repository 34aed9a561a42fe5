/**
 * Enrollment links in memory: kept by the hash of their secret, downloads and enrollments counted
 * apart. A single-use link stays downloadable until its first enrollment, which spends it; each
 * count is one synchronous step (no await inside), so of two calls on a single-use link one
 * succeeds.
 */
import type { EnrollmentLinkStore, EnrollmentTokenRecord } from '../ports.js';
import {
  adminStep,
  byBytes,
  insertUnique,
  newAdminId,
  put,
  type AdminState,
  type LinkRow,
} from './admin-state.js';

function record(row: LinkRow): EnrollmentTokenRecord {
  const r: EnrollmentTokenRecord = {
    id: row.id,
    singleUse: row.singleUse,
    uses: row.uses,
    enrollments: row.enrollments,
    createdAt: new Date(row.createdAt),
  };
  if (row.expiresAt !== undefined) r.expiresAt = new Date(row.expiresAt);
  if (row.user !== undefined) r.user = row.user;
  if (row.revokedAt !== undefined) r.revokedAt = new Date(row.revokedAt);
  return r;
}

/** A link that may still be downloaded or enroll a device at `now`. */
function usable(row: LinkRow, now: Date): boolean {
  return (
    row.revokedAt === undefined &&
    (row.expiresAt === undefined || row.expiresAt > now.getTime()) &&
    (!row.singleUse || row.enrollments === 0)
  );
}

/** The {@link EnrollmentLinkStore} on the memory admin state. */
export function memoryEnrollmentLinks(s: AdminState): EnrollmentLinkStore {
  const count = (column: 'uses' | 'enrollments', id: string | undefined, now: Date) => {
    const row = s.links.get(id ?? '');
    if (row === undefined || !usable(row, now)) return undefined;
    const next = { ...row, [column]: row[column] + 1 };
    put(s.links, row.id, next);
    return record(next);
  };
  return {
    createEnrollmentToken: (input) =>
      adminStep(s, () => {
        const row: LinkRow = {
          id: newAdminId('et'),
          hash: input.hash,
          singleUse: input.singleUse,
          uses: 0,
          enrollments: 0,
          createdAt: s.clock().getTime(),
        };
        if (input.expiresAt !== undefined) row.expiresAt = input.expiresAt.getTime();
        if (input.user !== undefined) row.user = input.user;
        insertUnique(s.links, s.linkHashes, row);
        return record(row);
      }),
    downloadEnrollmentToken: (hash, now) =>
      adminStep(s, () => count('uses', s.linkHashes.get(hash), now)),
    redeemEnrollmentToken: (id, now) => adminStep(s, () => count('enrollments', id, now)),
    listEnrollmentTokens: ({ limit, cursor }) =>
      adminStep(s, () => {
        const after = cursor ?? '';
        const rows = [...s.links.values()]
          .filter((row) => byBytes(row.id, after) > 0)
          .sort((a, b) => byBytes(a.id, b.id))
          .slice(0, limit + 1);
        const items = rows.slice(0, limit).map(record);
        const last = items.at(-1);
        return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
      }),
    findEnrollmentToken: (id) =>
      adminStep(s, () => {
        const row = s.links.get(id);
        return row && record(row);
      }),
    revokeEnrollmentToken: (id) =>
      adminStep(s, () => {
        const row = s.links.get(id);
        if (row === undefined || row.revokedAt !== undefined) return false;
        put(s.links, id, { ...row, revokedAt: s.clock().getTime() });
        return true;
      }),
  };
}

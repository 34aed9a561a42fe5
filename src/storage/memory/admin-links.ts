/**
 * Enrollment links in memory: kept by the hash of their secret, downloads and enrollments counted
 * apart. A single-use link stays downloadable until its first enrollment, which spends it; each
 * count, rotation and mail is one synchronous step (no await inside), so of two calls on a
 * single-use link one succeeds and a user never has two active personal links.
 */
import type { EnrollmentLinkStore, EnrollmentTokenRecord, NewEnrollmentToken } from '../ports.js';
import { checkNewLink } from '../users-check.js';
import {
  adminStep,
  byBytes,
  insertUnique,
  newAdminId,
  put,
  type AdminState,
  type LinkRow,
} from './admin-state.js';

const OPTIONAL_TEXT = ['user', 'userId', 'groupId', 'policy'] as const;
const OPTIONAL_TIMES = [
  'expiresAt',
  'revokedAt',
  'rotatedAt',
  'sentAt',
  'openedAt',
  'enrolledAt',
] as const;

function record(row: LinkRow): EnrollmentTokenRecord {
  const r: EnrollmentTokenRecord = {
    id: row.id,
    kind: row.kind,
    singleUse: row.singleUse,
    uses: row.uses,
    enrollments: row.enrollments,
    createdAt: new Date(row.createdAt),
  };
  for (const key of OPTIONAL_TEXT) {
    const value = row[key];
    if (value !== undefined) r[key] = value;
  }
  for (const key of OPTIONAL_TIMES) {
    const value = row[key];
    if (value !== undefined) r[key] = new Date(value);
  }
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

/** The user's active personal link row, or `undefined`. */
function personalRow(s: AdminState, userId: string): LinkRow | undefined {
  let found: LinkRow | undefined;
  for (const row of s.links.values())
    if (row.kind === 'personal' && row.userId === userId && row.revokedAt === undefined)
      if (found === undefined || row.createdAt > found.createdAt) found = row;
  return found;
}

/** Stores a new link row made at `createdAt`; TypeError on a bad input or a second personal link. */
function insertLink(s: AdminState, input: NewEnrollmentToken, createdAt: number): LinkRow {
  const kind = checkNewLink(input);
  if (kind === 'personal' && personalRow(s, input.userId ?? '') !== undefined)
    throw new TypeError(`user ${String(input.userId)} already has an active personal link`);
  const row: LinkRow = {
    id: newAdminId('et'),
    hash: input.hash,
    kind,
    singleUse: input.singleUse,
    uses: 0,
    enrollments: 0,
    createdAt,
  };
  if (input.expiresAt !== undefined) row.expiresAt = input.expiresAt.getTime();
  for (const key of OPTIONAL_TEXT) {
    const value = input[key];
    if (value !== undefined) row[key] = value;
  }
  if (input.secret !== undefined) row.secret = input.secret;
  insertUnique(s.links, s.linkHashes, row);
  return row;
}

/** Counts one use; the first download stamps `openedAt`, the first enrollment `enrolledAt`. */
function count(
  s: AdminState,
  column: 'uses' | 'enrollments',
  id: string | undefined,
  now: Date,
): EnrollmentTokenRecord | undefined {
  const row = s.links.get(id ?? '');
  if (row === undefined || !usable(row, now)) return undefined;
  const next = { ...row, [column]: row[column] + 1 };
  const stamp = column === 'uses' ? 'openedAt' : 'enrolledAt';
  next[stamp] ??= now.getTime();
  put(s.links, row.id, next);
  return record(next);
}

function rotate(
  s: AdminState,
  id: string,
  next: NewEnrollmentToken,
  at: Date,
): EnrollmentTokenRecord | undefined {
  const row = s.links.get(id);
  if (row === undefined || row.revokedAt !== undefined) return undefined;
  const old: LinkRow = { ...row, revokedAt: at.getTime(), rotatedAt: at.getTime() };
  put(s.links, id, old);
  try {
    return record(insertLink(s, next, at.getTime()));
  } catch (error) {
    put(s.links, id, row);
    throw error;
  }
}

function markSent(
  s: AdminState,
  id: string,
  at: Date,
  expiresAt: Date | undefined,
): EnrollmentTokenRecord | undefined {
  const row = s.links.get(id);
  if (row === undefined || row.revokedAt !== undefined) return undefined;
  const next: LinkRow = { ...row, sentAt: at.getTime() };
  if (expiresAt !== undefined && row.expiresAt !== undefined && expiresAt.getTime() > row.expiresAt)
    next.expiresAt = expiresAt.getTime();
  put(s.links, id, next);
  return record(next);
}

/** The {@link EnrollmentLinkStore} on the memory admin state. */
export function memoryEnrollmentLinks(s: AdminState): EnrollmentLinkStore {
  return {
    createEnrollmentToken: (input) =>
      adminStep(s, () => record(insertLink(s, input, s.clock().getTime()))),
    downloadEnrollmentToken: (hash, now) =>
      adminStep(s, () => count(s, 'uses', s.linkHashes.get(hash), now)),
    redeemEnrollmentToken: (id, now) => adminStep(s, () => count(s, 'enrollments', id, now)),
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
    findEnrollmentTokenByHash: (hash) =>
      adminStep(s, () => {
        const row = s.links.get(s.linkHashes.get(hash) ?? '');
        return row && record(row);
      }),
    findEnrollmentTokenSecret: (id) => adminStep(s, () => s.links.get(id)?.secret),
    findPersonalEnrollmentToken: (userId) =>
      adminStep(s, () => {
        const row = personalRow(s, userId);
        return row && record(row);
      }),
    rotateEnrollmentToken: (id, next, at) => adminStep(s, () => rotate(s, id, next, at)),
    markEnrollmentTokenSent: (id, at, expiresAt) =>
      adminStep(s, () => markSent(s, id, at, expiresAt)),
  };
}

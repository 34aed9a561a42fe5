/**
 * The profile library in SQLite (migration 7): profiles (UNIQUE `identifier`) and their versions
 * (content as a BLOB, sealed with the secrets key when the store has one). Adding a version is a compare-and-set on
 * `latest_version` in one IMMEDIATE transaction; a group filter is bound as one JSON array
 * (`json_each`), so a list of any length uses one prepared statement.
 */
import { checkAssignment, checkProfileId } from '../management-check.js';
import type {
  AssignmentType,
  LibraryProfileRecord,
  ProfileLibraryStore,
  ProfileVersionRecord,
} from '../ports.js';
import { adminGuard } from './admin-util.js';
import { stmt, writeTx, type SqliteContext } from './db.js';
import { fromStore, libraryProfileOwner, toStore } from './sealed-secrets.js';

interface ProfileRow {
  id: string;
  group_id: string;
  identifier: string;
  name: string;
  assignment_type: AssignmentType;
  latest_version: number;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  profile_id: string;
  version: number;
  payload_uuid: string;
  sha256: string;
  content?: Buffer;
  uploaded_signer: string | null;
  created_by: string;
  created_at: number;
}

function profileRecord(row: ProfileRow): LibraryProfileRecord {
  return {
    id: row.id,
    groupId: row.group_id,
    identifier: row.identifier,
    name: row.name,
    assignmentType: row.assignment_type,
    latestVersion: row.latest_version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function versionRecord(ctx: SqliteContext, row: VersionRow): ProfileVersionRecord {
  const owner = libraryProfileOwner(row.profile_id, row.version);
  const r: ProfileVersionRecord = {
    profileId: row.profile_id,
    version: row.version,
    payloadUuid: row.payload_uuid,
    sha256: row.sha256,
    // Sealed with the secrets key when the store has one: profiles carry Wi-Fi and VPN passwords.
    content: row.content
      ? Buffer.from(fromStore(ctx, 'library-profile', owner, row.content))
      : Buffer.alloc(0),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
  };
  if (row.uploaded_signer !== null) r.uploadedSigner = row.uploaded_signer;
  return r;
}

const PROFILES = `SELECT id, group_id, identifier, name, assignment_type, latest_version,
  created_at, updated_at FROM orchard_library_profiles`;
const VERSION_COLUMNS =
  'profile_id, version, payload_uuid, sha256, uploaded_signer, created_by, created_at';

function knownGroup(ctx: SqliteContext, groupId: string): void {
  if (stmt(ctx, 'SELECT 1 FROM orchard_groups WHERE id = ?').pluck().get(groupId) === undefined)
    throw new TypeError(`unknown group ${groupId}`);
}

function findProfile(ctx: SqliteContext, id: string): LibraryProfileRecord | undefined {
  const row = stmt(ctx, `${PROFILES} WHERE id = ?`).get(id) as ProfileRow | undefined;
  return row && profileRecord(row);
}

function insertVersion(ctx: SqliteContext, v: ProfileVersionRecord): void {
  stmt(
    ctx,
    `INSERT INTO orchard_library_profile_versions (${VERSION_COLUMNS}, content)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    v.profileId,
    v.version,
    v.payloadUuid,
    v.sha256,
    v.uploadedSigner ?? null,
    v.createdBy,
    v.createdAt.getTime(),
    toStore(ctx, 'library-profile', libraryProfileOwner(v.profileId, v.version), v.content),
  );
}

function create(ctx: SqliteContext, p: LibraryProfileRecord, first: ProfileVersionRecord): boolean {
  checkProfileId(p.id);
  checkAssignment(p.assignmentType);
  if (p.latestVersion !== 1 || first.version !== 1 || first.profileId !== p.id)
    throw new TypeError('a new profile starts with its version 1');
  return writeTx(ctx, () => {
    knownGroup(ctx, p.groupId);
    const taken = 'SELECT 1 FROM orchard_library_profiles WHERE identifier = ?';
    if (stmt(ctx, taken).pluck().get(p.identifier) !== undefined) return false;
    stmt(
      ctx,
      `INSERT INTO orchard_library_profiles (id, group_id, identifier, name, assignment_type,
         latest_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
    ).run(
      p.id,
      p.groupId,
      p.identifier,
      p.name,
      p.assignmentType,
      p.createdAt.getTime(),
      p.updatedAt.getTime(),
    );
    insertVersion(ctx, first);
    return true;
  });
}

function addVersion(ctx: SqliteContext, v: ProfileVersionRecord): LibraryProfileRecord | undefined {
  return writeTx(ctx, () => {
    const row = stmt(
      ctx,
      `UPDATE orchard_library_profiles SET latest_version = ?, updated_at = ?
       WHERE id = ? AND latest_version = ? RETURNING *`,
    ).get(v.version, v.createdAt.getTime(), v.profileId, v.version - 1) as ProfileRow | undefined;
    if (row === undefined) return undefined;
    insertVersion(ctx, v);
    return profileRecord(row);
  });
}

function update(
  ctx: SqliteContext,
  id: string,
  change: { name?: string; assignmentType?: AssignmentType; groupId?: string },
  at: Date,
): LibraryProfileRecord | undefined {
  return writeTx(ctx, () => {
    const current = findProfile(ctx, id);
    if (current === undefined) return undefined;
    if (change.assignmentType !== undefined) checkAssignment(change.assignmentType);
    if (change.groupId !== undefined) knownGroup(ctx, change.groupId);
    const next: LibraryProfileRecord = { ...current, updatedAt: at };
    if (change.name !== undefined) next.name = change.name;
    if (change.assignmentType !== undefined) next.assignmentType = change.assignmentType;
    if (change.groupId !== undefined) next.groupId = change.groupId;
    stmt(
      ctx,
      `UPDATE orchard_library_profiles SET name = ?, assignment_type = ?, group_id = ?,
         updated_at = ? WHERE id = ?`,
    ).run(next.name, next.assignmentType, next.groupId, at.getTime(), id);
    return next;
  });
}

function list(
  ctx: SqliteContext,
  options: { limit: number; cursor?: string; groupIds?: readonly string[] },
) {
  if (options.cursor !== undefined) checkProfileId(options.cursor, 'cursor');
  const after = options.cursor ?? '';
  const rows = (
    options.groupIds === undefined
      ? stmt(ctx, `${PROFILES} WHERE id > ? ORDER BY id LIMIT ?`).all(after, options.limit + 1)
      : stmt(
          ctx,
          `${PROFILES} WHERE id > ? AND group_id IN (SELECT value FROM json_each(?))
           ORDER BY id LIMIT ?`,
        ).all(after, JSON.stringify(options.groupIds), options.limit + 1)
  ) as ProfileRow[];
  const items = rows.slice(0, options.limit).map(profileRecord);
  const last = items.at(-1);
  return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
}

/** The {@link ProfileLibraryStore} on a connection context. */
export function sqliteProfileLibrary(ctx: SqliteContext): ProfileLibraryStore {
  const run = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    createLibraryProfile: (record, first) => run(() => create(ctx, record, first)),
    addProfileVersion: (version) => run(() => addVersion(ctx, version)),
    updateLibraryProfile: (id, change, at) => run(() => update(ctx, id, change, at)),
    findLibraryProfile: (id) => run(() => findProfile(ctx, id)),
    findLibraryProfileByIdentifier: (identifier) =>
      run(() => {
        const row = stmt(ctx, `${PROFILES} WHERE identifier = ?`).get(identifier) as
          ProfileRow | undefined;
        return row && profileRecord(row);
      }),
    listLibraryProfiles: (options) => run(() => list(ctx, options)),
    findProfileVersion: (profileId, version) =>
      run(() => {
        const sql = `SELECT ${VERSION_COLUMNS}, content FROM orchard_library_profile_versions
          WHERE profile_id = ? AND version = ?`;
        const row = stmt(ctx, sql).get(profileId, version) as VersionRow | undefined;
        return row && versionRecord(ctx, row);
      }),
    listProfileVersions: (profileId) =>
      run(() =>
        (
          stmt(
            ctx,
            `SELECT ${VERSION_COLUMNS} FROM orchard_library_profile_versions
             WHERE profile_id = ? ORDER BY version DESC`,
          ).all(profileId) as VersionRow[]
        ).map((row) => versionRecord(ctx, row)),
      ),
    deleteLibraryProfile: (id) =>
      run(
        () => stmt(ctx, 'DELETE FROM orchard_library_profiles WHERE id = ?').run(id).changes === 1,
      ),
    countLibraryProfiles: (groupId) =>
      run(
        () =>
          stmt(ctx, 'SELECT count(*) FROM orchard_library_profiles WHERE group_id = ?')
            .pluck()
            .get(groupId) as number,
      ),
  };
}

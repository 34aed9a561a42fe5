/**
 * The profile library in PostgreSQL: profiles (UNIQUE `identifier`) and their versions (content
 * as bytea, sealed with purpose `library-profile` when the store has a keyring, bound to
 * `libraryProfileOwner`). A new profile is `INSERT ... ON CONFLICT (identifier) DO NOTHING`;
 * adding a version is a compare-and-set on `latest_version` (a conditional UPDATE) in one
 * transaction, so of two daemons adding version n exactly one succeeds.
 */
import type pg from 'pg';
import { checkAssignment, checkProfileId } from '../management-check.js';
import type {
  AssignmentType,
  LibraryProfileRecord,
  Page,
  ProfileLibraryStore,
  ProfileVersionRecord,
} from '../ports.js';
import { libraryProfileOwner } from '../sealed-owners.js';
import { one, op, query, run, setIf, tx, type PgContext } from './db.js';
import { knownGroup } from './management.js';
import { fromStore, toStore } from './sealed-secrets.js';

interface ProfileRow {
  id: string;
  group_id: string;
  identifier: string;
  name: string;
  assignment_type: AssignmentType;
  latest_version: number;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow {
  profile_id: string;
  version: number;
  payload_uuid: string;
  sha256: string;
  content?: Buffer;
  uploaded_signer: string | null;
  created_by: string;
  created_at: Date;
}

function profileRecord(row: ProfileRow): LibraryProfileRecord {
  return {
    id: row.id,
    groupId: row.group_id,
    identifier: row.identifier,
    name: row.name,
    assignmentType: row.assignment_type,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function versionRecord(ctx: PgContext, row: VersionRow): ProfileVersionRecord {
  const owner = libraryProfileOwner(row.profile_id, row.version);
  const r: ProfileVersionRecord = {
    profileId: row.profile_id,
    version: row.version,
    payloadUuid: row.payload_uuid,
    sha256: row.sha256,
    // Sealed when the store has a keyring: profiles carry Wi-Fi and VPN passwords.
    content: row.content
      ? Buffer.from(fromStore(ctx, 'library-profile', owner, row.content))
      : Buffer.alloc(0),
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
  setIf(r, 'uploadedSigner', row.uploaded_signer);
  return r;
}

const PROFILE_COLUMNS = `id, group_id, identifier, name, assignment_type, latest_version,
  created_at, updated_at`;
const PROFILES = `SELECT ${PROFILE_COLUMNS} FROM orchard_library_profiles`;
const VERSION_COLUMNS =
  'profile_id, version, payload_uuid, sha256, uploaded_signer, created_by, created_at';

async function findProfile(on: pg.Pool | pg.PoolClient, id: string, lock = false) {
  const sql = `${PROFILES} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`;
  const row = await one<ProfileRow>(on, sql, [id]);
  return row && profileRecord(row);
}

async function insertVersion(
  ctx: PgContext,
  c: pg.PoolClient,
  v: ProfileVersionRecord,
): Promise<void> {
  await run(
    c,
    `INSERT INTO orchard_library_profile_versions (${VERSION_COLUMNS}, content)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      v.profileId,
      v.version,
      v.payloadUuid,
      v.sha256,
      v.uploadedSigner ?? null,
      v.createdBy,
      v.createdAt,
      toStore(ctx, 'library-profile', libraryProfileOwner(v.profileId, v.version), v.content),
    ],
  );
}

function create(
  ctx: PgContext,
  p: LibraryProfileRecord,
  first: ProfileVersionRecord,
): Promise<boolean> {
  return tx(ctx, async (c) => {
    checkProfileId(p.id);
    checkAssignment(p.assignmentType);
    if (p.latestVersion !== 1 || first.version !== 1 || first.profileId !== p.id)
      throw new TypeError('a new profile starts with its version 1');
    await knownGroup(c, p.groupId);
    const inserted = await run(
      c,
      `INSERT INTO orchard_library_profiles (${PROFILE_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, 1, $6, $7) ON CONFLICT (identifier) DO NOTHING`,
      [p.id, p.groupId, p.identifier, p.name, p.assignmentType, p.createdAt, p.updatedAt],
    );
    if (inserted === 0) return false;
    await insertVersion(ctx, c, first);
    return true;
  });
}

function addVersion(
  ctx: PgContext,
  v: ProfileVersionRecord,
): Promise<LibraryProfileRecord | undefined> {
  return tx(ctx, async (c) => {
    const row = await one<ProfileRow>(
      c,
      `UPDATE orchard_library_profiles SET latest_version = $1, updated_at = $2
       WHERE id = $3 AND latest_version = $4 RETURNING ${PROFILE_COLUMNS}`,
      [v.version, v.createdAt, v.profileId, v.version - 1],
    );
    if (row === undefined) return undefined;
    await insertVersion(ctx, c, v);
    return profileRecord(row);
  });
}

function update(
  ctx: PgContext,
  id: string,
  change: { name?: string; assignmentType?: AssignmentType; groupId?: string },
  at: Date,
): Promise<LibraryProfileRecord | undefined> {
  return tx(ctx, async (c) => {
    const current = await findProfile(c, id, true);
    if (current === undefined) return undefined;
    if (change.assignmentType !== undefined) checkAssignment(change.assignmentType);
    if (change.groupId !== undefined) await knownGroup(c, change.groupId);
    const next: LibraryProfileRecord = { ...current, updatedAt: at };
    if (change.name !== undefined) next.name = change.name;
    if (change.assignmentType !== undefined) next.assignmentType = change.assignmentType;
    if (change.groupId !== undefined) next.groupId = change.groupId;
    await run(
      c,
      `UPDATE orchard_library_profiles SET name = $1, assignment_type = $2, group_id = $3,
         updated_at = $4 WHERE id = $5`,
      [next.name, next.assignmentType, next.groupId, at, id],
    );
    return next;
  });
}

async function list(
  ctx: PgContext,
  options: { limit: number; cursor?: string; groupIds?: readonly string[] },
): Promise<Page<LibraryProfileRecord>> {
  if (options.cursor !== undefined) checkProfileId(options.cursor, 'cursor');
  const after = options.cursor ?? '';
  const rows =
    options.groupIds === undefined
      ? await query<ProfileRow>(ctx.pool, `${PROFILES} WHERE id > $1 ORDER BY id LIMIT $2`, [
          after,
          options.limit + 1,
        ])
      : await query<ProfileRow>(
          ctx.pool,
          `${PROFILES} WHERE id > $1 AND group_id = ANY($2::text[]) ORDER BY id LIMIT $3`,
          [after, [...options.groupIds], options.limit + 1],
        );
  const items = rows.slice(0, options.limit).map(profileRecord);
  const last = items.at(-1);
  return rows.length > options.limit && last ? { items, nextCursor: last.id } : { items };
}

async function findVersion(ctx: PgContext, profileId: string, version: number) {
  const sql = `SELECT ${VERSION_COLUMNS}, content FROM orchard_library_profile_versions
    WHERE profile_id = $1 AND version = $2`;
  const row = await one<VersionRow>(ctx.pool, sql, [profileId, version]);
  return row && versionRecord(ctx, row);
}

/** The {@link ProfileLibraryStore} on a context. */
export function pgProfileLibrary(ctx: PgContext): ProfileLibraryStore {
  return {
    createLibraryProfile: (record, first) => create(ctx, record, first),
    addProfileVersion: (version) => addVersion(ctx, version),
    updateLibraryProfile: (id, change, at) => update(ctx, id, change, at),
    findLibraryProfile: (id) => op(ctx, () => findProfile(ctx.pool, id)),
    findLibraryProfileByIdentifier: (identifier) =>
      op(ctx, async () => {
        const row = await one<ProfileRow>(ctx.pool, `${PROFILES} WHERE identifier = $1`, [
          identifier,
        ]);
        return row && profileRecord(row);
      }),
    listLibraryProfiles: (options) => op(ctx, () => list(ctx, options)),
    findProfileVersion: (profileId, version) => op(ctx, () => findVersion(ctx, profileId, version)),
    listProfileVersions: (profileId) =>
      op(ctx, async () =>
        (
          await query<VersionRow>(
            ctx.pool,
            `SELECT ${VERSION_COLUMNS} FROM orchard_library_profile_versions
             WHERE profile_id = $1 ORDER BY version DESC`,
            [profileId],
          )
        ).map((row) => versionRecord(ctx, row)),
      ),
    deleteLibraryProfile: (id) =>
      op(
        ctx,
        async () =>
          (await run(ctx.pool, 'DELETE FROM orchard_library_profiles WHERE id = $1', [id])) === 1,
      ),
    countLibraryProfiles: (groupId) =>
      op(ctx, async () => {
        const row = await one<{ n: number }>(
          ctx.pool,
          'SELECT count(*)::int AS n FROM orchard_library_profiles WHERE group_id = $1',
          [groupId],
        );
        return row?.n ?? 0;
      }),
  };
}

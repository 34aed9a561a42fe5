/**
 * The profile library in memory: profiles by id and by `PayloadIdentifier`, each with its
 * versions. Content is copied in and out, so neither the uploader nor a reader can change what
 * is stored; adding a version is one synchronous compare-and-set on `latestVersion`.
 */
import { StorageError } from '../../errors.js';
import { checkAssignment, checkProfileId } from '../management-check.js';
import type { LibraryProfileRecord, ProfileLibraryStore, ProfileVersionRecord } from '../ports.js';
import {
  adminStep,
  byBytes,
  put,
  type AdminState,
  type ProfileRow,
  type VersionRow,
} from './admin-state.js';
import { deleteProfileAssignments } from './policies.js';

function profileRecord(row: ProfileRow): LibraryProfileRecord {
  return {
    id: row.id,
    groupId: row.groupId,
    identifier: row.identifier,
    name: row.name,
    assignmentType: row.assignmentType,
    latestVersion: row.latestVersion,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

function versionRecord(row: VersionRow, withContent: boolean): ProfileVersionRecord {
  const r: ProfileVersionRecord = {
    profileId: row.profileId,
    version: row.version,
    payloadUuid: row.payloadUuid,
    sha256: row.sha256,
    content: withContent ? Buffer.from(row.content) : Buffer.alloc(0),
    createdBy: row.createdBy,
    createdAt: new Date(row.createdAt),
  };
  if (row.uploadedSigner !== undefined) r.uploadedSigner = row.uploadedSigner;
  return r;
}

function versionRow(v: ProfileVersionRecord): VersionRow {
  const row: VersionRow = {
    profileId: v.profileId,
    version: v.version,
    payloadUuid: v.payloadUuid,
    sha256: v.sha256,
    content: Buffer.from(v.content),
    createdBy: v.createdBy,
    createdAt: v.createdAt.getTime(),
  };
  if (v.uploadedSigner !== undefined) row.uploadedSigner = v.uploadedSigner;
  return row;
}

function profileRow(r: LibraryProfileRecord): ProfileRow {
  return {
    id: r.id,
    groupId: r.groupId,
    identifier: r.identifier,
    name: r.name,
    assignmentType: r.assignmentType,
    latestVersion: r.latestVersion,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
  };
}

/** Throws TypeError unless `record` and `first` make a valid new profile. */
function checkNewProfile(record: LibraryProfileRecord, first: ProfileVersionRecord): void {
  checkProfileId(record.id);
  checkAssignment(record.assignmentType);
  if (record.latestVersion !== 1 || first.version !== 1 || first.profileId !== record.id)
    throw new TypeError('a new profile starts with its version 1');
}

/** The {@link ProfileLibraryStore} on the memory admin state. */
export function memoryProfileLibrary(s: AdminState): ProfileLibraryStore {
  const knownGroup = (groupId: string): void => {
    if (!s.groups.has(groupId)) throw new TypeError(`unknown group ${groupId}`);
  };
  return {
    createLibraryProfile: (record, first) =>
      adminStep(s, () => {
        checkNewProfile(record, first);
        knownGroup(record.groupId);
        if (s.profileIdentifiers.has(record.identifier)) return false;
        if (s.profiles.has(record.id))
          throw new StorageError('admin store operation failed: duplicate profile id');
        const row = profileRow(record);
        s.profiles.set(row.id, row);
        s.profileIdentifiers.set(row.identifier, row.id);
        s.versions.set(row.id, [versionRow(first)]);
        return true;
      }),
    addProfileVersion: (version) =>
      adminStep(s, () => {
        const row = s.profiles.get(version.profileId);
        const versions = s.versions.get(version.profileId);
        if (row === undefined || versions === undefined) return undefined;
        if (row.latestVersion !== version.version - 1) return undefined;
        const next = {
          ...row,
          latestVersion: version.version,
          updatedAt: version.createdAt.getTime(),
        };
        s.versions.set(row.id, [...versions, versionRow(version)]);
        put(s.profiles, row.id, next);
        return profileRecord(next);
      }),
    updateLibraryProfile: (id, change, at) =>
      adminStep(s, () => {
        const row = s.profiles.get(id);
        if (row === undefined) return undefined;
        if (change.assignmentType !== undefined) checkAssignment(change.assignmentType);
        if (change.groupId !== undefined) knownGroup(change.groupId);
        const next: ProfileRow = { ...row, updatedAt: at.getTime() };
        if (change.name !== undefined) next.name = change.name;
        if (change.assignmentType !== undefined) next.assignmentType = change.assignmentType;
        if (change.groupId !== undefined) next.groupId = change.groupId;
        put(s.profiles, id, next);
        return profileRecord(next);
      }),
    findLibraryProfile: (id) =>
      adminStep(s, () => {
        const row = s.profiles.get(id);
        return row && profileRecord(row);
      }),
    findLibraryProfileByIdentifier: (identifier) =>
      adminStep(s, () => {
        const row = s.profiles.get(s.profileIdentifiers.get(identifier) ?? '');
        return row && profileRecord(row);
      }),
    listLibraryProfiles: ({ limit, cursor, groupIds }) =>
      adminStep(s, () => {
        if (cursor !== undefined) checkProfileId(cursor, 'cursor');
        const after = cursor ?? '';
        const groups = groupIds && new Set(groupIds);
        const rows = [...s.profiles.values()]
          .filter((row) => byBytes(row.id, after) > 0 && (!groups || groups.has(row.groupId)))
          .sort((a, b) => byBytes(a.id, b.id))
          .slice(0, limit + 1);
        const items = rows.slice(0, limit).map(profileRecord);
        const last = items.at(-1);
        return rows.length > limit && last ? { items, nextCursor: last.id } : { items };
      }),
    findProfileVersion: (profileId, version) =>
      adminStep(s, () => {
        const row = s.versions.get(profileId)?.find((v) => v.version === version);
        return row && versionRecord(row, true);
      }),
    listProfileVersions: (profileId) =>
      adminStep(s, () =>
        [...(s.versions.get(profileId) ?? [])]
          .sort((a, b) => b.version - a.version)
          .map((row) => versionRecord(row, false)),
      ),
    deleteLibraryProfile: (id) =>
      adminStep(s, () => {
        const row = s.profiles.get(id);
        if (row === undefined) return false;
        s.profiles.delete(id);
        s.profileIdentifiers.delete(row.identifier);
        s.versions.delete(id);
        deleteProfileAssignments(s, id);
        return true;
      }),
    countLibraryProfiles: (groupId) =>
      adminStep(s, () => [...s.profiles.values()].filter((p) => p.groupId === groupId).length),
  };
}

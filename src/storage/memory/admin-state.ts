/**
 * The memory admin store's state and the helpers its stores share. Records are replaced, never
 * mutated in place, so a returned record never changes under its holder.
 */
import { randomBytes } from 'node:crypto';
import { StorageError } from '../../errors.js';
import {
  OWNER_PRINCIPAL_ID,
  ROOT_GROUP_ID,
  type AdminRole,
  type ApiKeyScope,
  type AssignmentType,
  type ChildPermission,
  type DeliveryChannel,
  type DeviceProfileState,
  type EnrollmentLinkKind,
  type RemovalControl,
  type UserFields,
} from '../ports.js';
import { compareBytes } from '../policies-check.js';
import { closedError } from '../support.js';

/** An API key as kept: its hash and its fields (times in ms). */
export interface KeyRow {
  id: string;
  name: string;
  scope: ApiKeyScope;
  hash: string;
  principalId: string;
  createdAt: number;
  revokedAt?: number;
}

/** One audit entry as kept: `detail` as JSON text, as SQLite keeps it. */
export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

/** An enrollment link as kept (times in ms). */
export interface LinkRow {
  id: string;
  hash: string;
  kind: EnrollmentLinkKind;
  singleUse: boolean;
  uses: number;
  enrollments: number;
  expiresAt?: number;
  user?: string;
  userId?: string;
  groupId?: string;
  policy?: string;
  /** The kept secret of a personal or generic link. */
  secret?: string;
  createdAt: number;
  revokedAt?: number;
  rotatedAt?: number;
  sentAt?: number;
  openedAt?: number;
  enrolledAt?: number;
}

/** A user as kept (times in ms). */
export interface UserRow extends UserFields {
  id: string;
  generic: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Who an enrollment belongs to, as kept (times in ms). */
export interface OwnerRow {
  enrollmentId: string;
  userId: string;
  groupId: string;
  linkId?: string;
  assignedAt: number;
}

/** An organization group as kept (times in ms). */
export interface GroupRow {
  id: string;
  name: string;
  parentId?: string;
  createdAt: number;
}

/** A settings record as kept: `values` as JSON text, so no caller can reach the stored object. */
export interface SettingsRow {
  groupId: string;
  page: string;
  values: string;
  childPermission: ChildPermission;
  updatedAt: number;
}

/** An administrator as kept (times in ms). */
export interface PrincipalRow {
  id: string;
  name: string;
  role: AdminRole;
  groupId: string;
  createdAt: number;
  disabledAt?: number;
}

/** A library profile as kept (times in ms). */
export interface ProfileRow {
  id: string;
  groupId: string;
  identifier: string;
  name: string;
  assignmentType: AssignmentType;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** A profile version as kept: `content` is a private copy. */
export interface VersionRow {
  profileId: string;
  version: number;
  payloadUuid: string;
  sha256: string;
  content: Buffer;
  uploadedSigner?: string;
  createdBy: string;
  createdAt: number;
}

/** A policy as kept (times in ms). */
export interface PolicyRow {
  id: string;
  name: string;
  description?: string;
  groupId: string;
  createdAt: number;
  updatedAt: number;
}

/** A policy's assignment of one profile as kept (times in ms). */
export interface AssignmentRow {
  policyId: string;
  profileId: string;
  assignmentType: AssignmentType;
  removal: RemovalControl;
  removalPassword?: string;
  createdAt: number;
  updatedAt: number;
}

/** One library profile on one enrollment as kept (times in ms). */
export interface DeviceProfileRow {
  enrollmentId: string;
  identifier: string;
  profileId: string;
  version: number;
  payloadUuid?: string;
  state: DeviceProfileState;
  reason?: string;
  channel: DeliveryChannel;
  commandUuid?: string;
  installedAt?: number;
  updatedAt: number;
}

/** An enrollment's reconciliation times as kept (ms). */
export interface ReconcileRow {
  enrollmentId: string;
  commandUuid?: string;
  queuedAt?: number;
  reconciledAt?: number;
}

/** Everything the memory admin store holds. */
export interface AdminState {
  clock: () => Date;
  closed: boolean;
  keys: Map<string, KeyRow>;
  /** hash -> key id (hashes are unique, as SQLite's UNIQUE column makes them). */
  keyHashes: Map<string, string>;
  /** Audit rows in `seq` order. */
  audit: AuditRow[];
  /** Last `seq` handed out (AUTOINCREMENT: never reused unless its write was undone). */
  auditSeq: number;
  links: Map<string, LinkRow>;
  /** hash -> link id. */
  linkHashes: Map<string, string>;
  meta: Map<string, string>;
  groups: Map<string, GroupRow>;
  /** settingsKey(groupId, page) -> record. */
  settings: Map<string, SettingsRow>;
  /** Bumped by every applied management change; 0 for a fresh store. */
  revision: number;
  principals: Map<string, PrincipalRow>;
  profiles: Map<string, ProfileRow>;
  /** PayloadIdentifier -> profile id. */
  profileIdentifiers: Map<string, string>;
  /** Profile id -> its versions, oldest first. */
  versions: Map<string, VersionRow[]>;
  users: Map<string, UserRow>;
  /** Folded username (see `foldUsername`) -> user id. */
  usernames: Map<string, string>;
  /** Enrollment id -> its owner. */
  owners: Map<string, OwnerRow>;
  policies: Map<string, PolicyRow>;
  /** Policy name key (see `policyNameKey`) -> policy id. */
  policyNames: Map<string, string>;
  /** Policy id -> profile id -> assignment. */
  assignments: Map<string, Map<string, AssignmentRow>>;
  /** Group id -> its default policy id. */
  groupPolicies: Map<string, string>;
  /** Enrollment id -> identifier -> record. */
  deviceProfiles: Map<string, Map<string, DeviceProfileRow>>;
  /** Enrollment id -> reconciliation record. */
  reconciles: Map<string, ReconcileRow>;
}

/**
 * A fresh state on `clock`: no keys, links or profiles; the root group and the owner, both
 * stamped with the clock's time, at revision 0.
 */
export function createAdminState(clock: () => Date): AdminState {
  const createdAt = clock().getTime();
  const root: GroupRow = { id: ROOT_GROUP_ID, name: 'Global', createdAt };
  const owner: PrincipalRow = {
    id: OWNER_PRINCIPAL_ID,
    name: 'Owner',
    role: 'full',
    groupId: ROOT_GROUP_ID,
    createdAt,
  };
  return {
    clock,
    closed: false,
    keys: new Map(),
    keyHashes: new Map(),
    audit: [],
    auditSeq: 0,
    links: new Map(),
    linkHashes: new Map(),
    meta: new Map(),
    groups: new Map([[root.id, root]]),
    settings: new Map(),
    revision: 0,
    principals: new Map([[owner.id, owner]]),
    profiles: new Map(),
    profileIdentifiers: new Map(),
    versions: new Map(),
    users: new Map(),
    usernames: new Map(),
    owners: new Map(),
    policies: new Map(),
    policyNames: new Map(),
    assignments: new Map(),
    groupPolicies: new Map(),
    deviceProfiles: new Map(),
    reconciles: new Map(),
  };
}

/**
 * Runs one synchronous step of a store as a promise: it rejects with the StorageError of a
 * closed store, or with whatever `fn` throws; it never throws synchronously.
 */
export function adminStep<T>(state: AdminState, fn: () => T): Promise<T> {
  return new Promise((resolve) => {
    if (state.closed) throw closedError();
    resolve(fn());
  });
}

/** Sets `map[key]`, or deletes it for `undefined`. */
export function put<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

/** Inserts a row keyed by a fresh id and a unique hash; StorageError on a taken id or hash. */
export function insertUnique<R extends { id: string; hash: string }>(
  rows: Map<string, R>,
  hashes: Map<string, string>,
  row: R,
): void {
  if (rows.has(row.id) || hashes.has(row.hash))
    throw new StorageError('admin store operation failed: duplicate id or hash');
  put(rows, row.id, row);
  put(hashes, row.hash, row.id);
}

/** A short random id with a prefix, e.g. `ak_3f9c0e1a2b4d` (the SQLite store's spelling). */
export function newAdminId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Orders strings as SQLite's BINARY collation does (see {@link compareBytes}). */
export const byBytes = compareBytes;

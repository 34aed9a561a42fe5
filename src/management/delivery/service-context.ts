/**
 * What the delivery service runs on: its dependencies, options, and the caches every part
 * shares (the compatibility judge, decoded profile versions, a short-lived policy snapshot).
 * Profile versions never change once stored, so their decoded content is cached by
 * (profile, version) without expiry (bounded in size).
 */
import { randomUUID } from 'node:crypto';
import { ManagementError } from '../../errors/management.js';
import type { Logger } from '../../logger.js';
import type { PlistDict } from '../../protocol/plist.js';
import { decodeProfile } from '../../profile/sign.js';
import type { MdmCore } from '../../service/core.js';
import type {
  CheckinStore,
  EnrollmentRecord,
  ManagementStorage,
  OwnedDevice,
  OwnedEnrollmentFilter,
  Page,
} from '../../storage/ports.js';
import type { GroupService } from '../groups-service.js';
import { renderProfile, type ProfileSigner } from '../profile-render.js';
import { createCompatibilityJudge, type CompatibilityJudge } from './compatibility.js';
import { loadPolicySnapshot } from './snapshot.js';
import type { PolicySnapshot, ProfileVariable } from './types.js';
import { variablesIn } from './variables.js';

/** What {@link createDeliveryService} needs. */
export interface DeliveryDeps {
  /** The admin store: policies, profiles, users, owners and device profile records. */
  store: ManagementStorage;
  /** The check-in store's enrollment reads and the facts merge. */
  enrollments: Pick<
    CheckinStore,
    'findEnrollment' | 'findEnrollments' | 'mergeFacts' | 'listEnrollments'
  >;
  /**
   * The MDM core's queue: commands are queued without a push, then pushed once. With
   * `listCommands` (the core has it), a device's own answer is read from its own queue instead
   * of from every target of a bulk command.
   */
  commands: Pick<MdmCore, 'enqueue' | 'cancel' | 'findCommand' | 'push'> &
    Partial<Pick<MdmCore, 'listCommands'>>;
  groups: GroupService;
  /** The identity every profile sent is signed with (the profile library's). */
  signing: ProfileSigner;
  clock: () => Date;
  logger: Logger;
  /** Command UUIDs; default `randomUUID`. */
  uuid?: () => string;
  /** Signs one profile body (XML) for InstallProfile; default {@link renderProfile} with `signing`. */
  sign?: (xml: Uint8Array) => Uint8Array;
}

/** Options of {@link createDeliveryService}. */
export interface DeliveryOptions {
  /** A device is reconciled (ProfileList) when not reconciled within this; default 24 h. */
  reconcileIntervalMs?: number;
  /** Most targets of one queued command; a body for more devices is queued in chunks. Default 100,000. */
  maxTargetsPerCommand?: number;
  /** How long deliveries on device events reuse a policy snapshot; default 2 s (0 disables). */
  snapshotTtlMs?: number;
}

/** A decoded profile version, with its variables. */
export interface VersionContent {
  profileId: string;
  version: number;
  payloadUuid: string;
  content: PlistDict;
  variables: readonly ProfileVariable[];
}

/** The dependencies, options and shared caches of one delivery service. */
export interface DeliveryContext {
  deps: DeliveryDeps;
  reconcileIntervalMs: number;
  maxTargetsPerCommand: number;
  judge: CompatibilityJudge;
  newUuid(): string;
  /** Signs a profile body (XML plist) as an InstallProfile `Payload`. */
  sign(xml: Uint8Array): Uint8Array;
  /** The stored version, decoded (cached); 404 `ERR_PROFILE_NOT_FOUND` when it is gone. */
  version(profileId: string, version: number): Promise<VersionContent>;
  /** The current policy snapshot; `fresh` reads it again (and keeps it for the next callers). */
  snapshot(fresh?: boolean): Promise<PolicySnapshot>;
  /** The enrollment, or 404 `ERR_ENROLLMENT_NOT_FOUND`. */
  requireEnrollment(id: string): Promise<EnrollmentRecord>;
  /**
   * A page of owned devices (see `UserStore.listOwnedDevices`): the store's own call where it
   * has one, else its owned enrollments and then their records from `deps.enrollments`.
   */
  ownedDevices(
    filter: OwnedEnrollmentFilter,
    options: { limit: number; cursor?: string },
  ): Promise<Page<OwnedDevice>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_VERSIONS = 512;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be positive`);
  return value;
}

function versionCache(deps: DeliveryDeps) {
  const cache = new Map<string, VersionContent>();
  return async (profileId: string, version: number): Promise<VersionContent> => {
    const key = `${profileId}@${version}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const found = await deps.store.findProfileVersion(profileId, version);
    if (!found)
      throw new ManagementError(
        'ERR_PROFILE_NOT_FOUND',
        `profile ${profileId} has no version ${version}`,
      );
    const content = decodeProfile(found.content);
    const value = { profileId, version, payloadUuid: found.payloadUuid, content };
    const entry = { ...value, variables: variablesIn(content) };
    if (cache.size >= MAX_VERSIONS) cache.delete(cache.keys().next().value as string);
    cache.set(key, entry);
    return entry;
  };
}

function snapshotCache(deps: DeliveryDeps, ttlMs: number) {
  let held: { at: number; snapshot: PolicySnapshot } | undefined;
  return async (fresh = false): Promise<PolicySnapshot> => {
    // Monotonic time: the cache's age is not a domain time (an injected clock may stand still).
    const now = performance.now();
    if (!fresh && held && ttlMs > 0 && now - held.at < ttlMs) return held.snapshot;
    const snapshot = await loadPolicySnapshot(deps.store, await deps.groups.tree());
    held = { at: now, snapshot };
    return snapshot;
  };
}

/** Owned devices in two reads, for a store without `listOwnedDevices` (memory on its own). */
function ownedDevicesOf(deps: DeliveryDeps): DeliveryContext['ownedDevices'] {
  const own = deps.store.listOwnedDevices?.bind(deps.store);
  if (own) return own;
  return async (filter, options) => {
    const page = await deps.store.listOwnedEnrollments(filter, options);
    const found = await deps.enrollments.findEnrollments(page.items.map((o) => o.enrollmentId));
    const byId = new Map(found.map((e) => [e.id, e]));
    const items: OwnedDevice[] = [];
    for (const o of page.items) {
      const enrollment = byId.get(o.enrollmentId);
      if (enrollment) items.push({ ...o, enrollment });
    }
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
  };
}

/** Builds the context, validating options (TypeError on a non-positive number). */
export function createDeliveryContext(
  deps: DeliveryDeps,
  options: DeliveryOptions = {},
): DeliveryContext {
  const reconcileIntervalMs = positive('reconcileIntervalMs', options.reconcileIntervalMs, DAY_MS);
  const maxTargetsPerCommand = positive(
    'maxTargetsPerCommand',
    options.maxTargetsPerCommand,
    100_000,
  );
  const ttl = options.snapshotTtlMs ?? 2000;
  return {
    ...{ deps, reconcileIntervalMs, maxTargetsPerCommand },
    judge: createCompatibilityJudge(),
    newUuid: deps.uuid ?? randomUUID,
    sign: deps.sign ?? ((xml) => renderProfile(xml, deps.signing, { signingTime: deps.clock() })),
    version: versionCache(deps),
    snapshot: snapshotCache(deps, ttl),
    ownedDevices: ownedDevicesOf(deps),
    async requireEnrollment(id) {
      const found = await deps.enrollments.findEnrollment(id);
      if (found) return found;
      throw new ManagementError('ERR_ENROLLMENT_NOT_FOUND', `no enrollment ${id}`);
    },
  };
}

/**
 * The delivery service's test world: the memory admin and MDM stores, the real MDM core and
 * group service, counted queue calls and signatures, library profiles stored straight into the
 * store, and fake devices that answer what the core queued for them (InstallProfile,
 * RemoveProfile, DeviceInformation, ProfileList) the way a device would.
 */
import { createHash } from 'node:crypto';
import { expect } from '@jest/globals';
import { createGroupService, type GroupService } from '../../src/management/groups-service.js';
import { renderProfile } from '../../src/management/profile-render.js';
import {
  createDeliveryService,
  type DeliveryEngine,
  type DeliveryOptions,
} from '../../src/management/delivery/service.js';
import { decodePlist, encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import { silentLogger } from '../../src/logger.js';
import { openProfile } from '../../src/sim/enroll.js';
import { createMemoryAdminStorage, createMemoryStorage } from '../../src/storage/memory/index.js';
import type {
  AdminStorage,
  AssignmentType,
  CommandStatus,
  EnrollmentCommand,
  EnrollmentRecord,
  EnrollmentType,
  LibraryProfileRecord,
  MdmStorage,
  PageOptions,
  PolicyRecord,
  RemovalControl,
  ReportStatus,
  UserRecord,
} from '../../src/storage/ports.js';
import { fixtureProfile, signing } from './profile-fixtures.js';

/** Facts of an iPhone's Authenticate (supervision comes later, from DeviceInformation). */
export const IPHONE = {
  SerialNumber: 'F2LXK0AAHG7J',
  OSVersion: '17.4',
  BuildVersion: '21E219',
  ProductName: 'iPhone16,1',
  Model: 'iPhone16,1',
  UDID: 'x',
};

/** Facts of an Apple TV (no Wi-Fi payload there). */
export const APPLE_TV = { ...IPHONE, ProductName: 'AppleTV14,1', Model: 'AppleTV14,1' };

/** Counted calls of the queue and of signing. */
export interface Counts {
  enqueue: number;
  push: number;
  cancel: number;
  sign: number;
}

/** A fake device: what it has installed (identifier to PayloadUUID) and what it reports. */
export interface FakeDevice {
  id: string;
  facts: Record<string, unknown>;
  supervised: boolean;
  installed: Map<string, string>;
  /** Bodies it received, decoded. */
  received: PlistDict[];
  /** Answer InstallProfile with this error instead of installing. */
  failInstall?: string;
}

/** The test world. */
export interface Harness {
  admin: AdminStorage;
  mdm: MdmStorage;
  core: MdmCore;
  groups: GroupService;
  delivery: DeliveryEngine;
  counts: Counts;
  devices: Map<string, FakeDevice>;
  /** Stores a library profile (version 1) from the `wifi` or `restrictions` fixture. */
  profile(
    name: string,
    options?: { type?: AssignmentType; fixture?: 'wifi' | 'restrictions'; extra?: PlistDict },
  ): Promise<LibraryProfileRecord>;
  /** Stores the next version of a profile (a new PayloadUUID); the updated record. */
  bump(profile: LibraryProfileRecord): Promise<LibraryProfileRecord>;
  policy(name: string, groupId?: string): Promise<PolicyRecord>;
  assign(
    policy: PolicyRecord,
    profile: LibraryProfileRecord,
    type?: AssignmentType,
    removal?: RemovalControl,
  ): Promise<void>;
  user(username: string, groupId?: string, policy?: PolicyRecord): Promise<UserRecord>;
  /** Authenticates, enrolls (TokenUpdate) and owns a device; no event is fed. */
  device(
    id: string,
    user: UserRecord | undefined,
    options?: { facts?: Record<string, unknown>; supervised?: boolean; type?: EnrollmentType },
  ): Promise<EnrollmentRecord>;
  /** Feeds the `enrolled` (or `re-enrolled`) event and waits for it. */
  enroll(id: string, type?: 'enrolled' | 're-enrolled'): Promise<void>;
  /** Commands still queued for a device. */
  queued(id: string): Promise<EnrollmentCommand[]>;
  /** Stores a device's report and feeds the `command-result` event. */
  report(id: string, uuid: string, status: ReportStatus, fields?: PlistDict): Promise<void>;
  /** Lets the fake device answer everything queued for it, as a device would; the request types. */
  connect(id: string): Promise<string[]>;
}

const NOW = new Date('2026-12-07T04:00:00Z');

function uuidOf(name: string, version: number): string {
  const hex = createHash('sha256').update(`${name}@${version}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

function answerOf(
  device: FakeDevice,
  command: PlistDict,
): { status: ReportStatus; fields: PlistDict } {
  const ok = (fields: PlistDict = {}) => ({ status: 'Acknowledged' as const, fields });
  switch (command.RequestType) {
    case 'InstallProfile': {
      const profile = openProfile(command.Payload as Uint8Array);
      device.received.push(profile);
      if (device.failInstall !== undefined)
        return {
          status: 'Error',
          fields: {
            ErrorChain: [
              {
                ErrorCode: 4001,
                ErrorDomain: 'MCProfileErrorDomain',
                LocalizedDescription: device.failInstall,
              },
            ],
          },
        };
      device.installed.set(profile.PayloadIdentifier as string, profile.PayloadUUID as string);
      return ok();
    }
    case 'RemoveProfile':
      device.installed.delete(command.Identifier as string);
      return ok();
    case 'DeviceInformation':
      return ok({
        QueryResponses: { ...(device.facts as PlistDict), IsSupervised: device.supervised },
      });
    case 'ProfileList':
      return ok({
        ProfileList: [...device.installed].map(([PayloadIdentifier, PayloadUUID]) => ({
          PayloadIdentifier,
          PayloadUUID,
        })),
      });
    default:
      return { status: 'CommandFormatError', fields: {} };
  }
}

/**
 * Fresh memory stores; `linked` (default) gives the admin store the MDM store's enrollments, so
 * it reads owned devices in one call (`listOwnedDevices`), as SQLite and PostgreSQL do.
 */
export function memoryStores(linked = true): { admin: AdminStorage; mdm: MdmStorage } {
  const mdm = createMemoryStorage();
  return { admin: createMemoryAdminStorage(linked ? { enrollments: mdm } : {}), mdm };
}

/** Creates a world (over `stores`, default fresh memory stores); `options` go to the service. */
export function createHarness(
  options: DeliveryOptions = {},
  stores: { admin: AdminStorage; mdm: MdmStorage } = memoryStores(),
  queue: { listCommands?: boolean } = {},
): Harness {
  const { admin, mdm } = stores;
  const clock = () => NOW;
  const core = createMdmCore({ storage: mdm, logger: silentLogger, clock });
  const groups = createGroupService({ store: admin, principals: admin, clock });
  const counts: Counts = { enqueue: 0, push: 0, cancel: 0, sign: 0 };
  const devices = new Map<string, FakeDevice>();
  let n = 0;
  const delivery = createDeliveryService(
    {
      ...{ store: admin, enrollments: mdm, groups, signing, clock, logger: silentLogger },
      commands: {
        enqueue: (ids, command, opts) => (counts.enqueue++, core.enqueue(ids, command, opts)),
        push: (ids) => (counts.push++, core.push(ids)),
        cancel: (id, uuid) => (counts.cancel++, core.cancel(id, uuid)),
        findCommand: (uuid) => core.findCommand(uuid),
        ...(queue.listCommands === false
          ? {}
          : {
              listCommands: (id: string, opts: PageOptions & { status?: CommandStatus }) =>
                core.listCommands(id, opts),
            }),
      },
      sign: (xml) => (counts.sign++, renderProfile(xml, signing, { signingTime: NOW })),
    },
    options,
  );
  const h: Harness = {
    ...{ admin, mdm, core, groups, delivery, counts, devices },
    async profile(name, { type = 'auto', fixture = 'wifi', extra = {} } = {}) {
      const identifier = `com.example.${name}`;
      const payloadUuid = uuidOf(name, 1);
      const content = encodePlist(
        {
          ...fixtureProfile(fixture),
          PayloadIdentifier: identifier,
          PayloadUUID: payloadUuid,
          PayloadDisplayName: name,
          ...extra,
        },
        { format: 'xml' },
      );
      const record: LibraryProfileRecord = {
        ...{ id: `prf_${name}`, groupId: 'global', identifier, name, assignmentType: type },
        ...{ latestVersion: 1, createdAt: NOW, updatedAt: NOW },
      };
      const sha256 = createHash('sha256').update(content).digest('hex');
      const version = {
        profileId: record.id,
        version: 1,
        payloadUuid,
        sha256,
        content,
        createdBy: 'owner',
        createdAt: NOW,
      };
      expect(await admin.createLibraryProfile(record, version)).toBe(true);
      return record;
    },
    async bump(profile) {
      const v = profile.latestVersion + 1;
      const old = await admin.findProfileVersion(profile.id, profile.latestVersion);
      const dict = decodePlist(old?.content ?? '') as PlistDict;
      const payloadUuid = uuidOf(profile.identifier, v);
      const content = encodePlist({ ...dict, PayloadUUID: payloadUuid }, { format: 'xml' });
      const sha256 = createHash('sha256').update(content).digest('hex');
      const updated = await admin.addProfileVersion({
        profileId: profile.id,
        version: v,
        payloadUuid,
        sha256,
        content,
        createdBy: 'owner',
        createdAt: NOW,
      });
      if (!updated) throw new Error('version not added');
      return updated;
    },
    async policy(name, groupId = 'global') {
      const record = { id: `pol_${name}`, name, groupId, createdAt: NOW, updatedAt: NOW };
      expect(await admin.createPolicy(record)).toBe(true);
      return record;
    },
    async assign(policy, profile, type = 'auto', removal = 'always') {
      await admin.putAssignment({
        ...{ policyId: policy.id, profileId: profile.id, assignmentType: type, removal },
        ...(removal === 'with-authorization' ? { removalPassword: 'Removal-Password-123' } : {}),
        ...{ createdAt: NOW, updatedAt: NOW },
      });
    },
    async user(username, groupId = 'global', policy) {
      const user = await admin.createUser({
        ...{ username, email: `${username}@example.com`, groupId },
        ...(policy ? { policy: policy.id } : {}),
      });
      if (!user) throw new Error('user not created');
      return user;
    },
    async device(id, user, { facts = IPHONE, supervised = false, type = 'device' } = {}) {
      const identity = { id, type, deviceId: id };
      await mdm.storeAuthenticate({ ...identity, facts: { ...facts, UDID: id } });
      const record = await mdm.storeTokenUpdate({
        ...identity,
        push: { token: 'ab'.repeat(32), pushMagic: 'magic', topic: 'com.apple.mgmt.test' },
      });
      if (user)
        await admin.assignEnrollmentOwner({
          enrollmentId: id,
          userId: user.id,
          groupId: user.groupId,
          assignedAt: NOW,
        });
      devices.set(id, {
        id,
        facts: { ...facts, UDID: id },
        supervised,
        installed: new Map(),
        received: [],
      });
      return record;
    },
    async enroll(id, type = 'enrolled') {
      await delivery.onEvent({
        type,
        id: `ev-${++n}`,
        at: NOW.toISOString(),
        enrollmentId: id,
        enrollmentType: 'device',
        deviceId: id,
      });
      await delivery.idle();
    },
    async queued(id) {
      return (await core.listCommands(id, { limit: 1000, status: 'queued' })).items;
    },
    async report(id, uuid, status, fields = {}) {
      const result = encodePlist(
        { UDID: id, CommandUUID: uuid, Status: status, ...fields },
        { format: 'xml' },
      );
      expect(await mdm.storeResult(id, { uuid, status, result })).toBe(true);
      await delivery.onEvent({
        type: 'command-result',
        id: `ev-${++n}`,
        at: NOW.toISOString(),
        enrollmentId: id,
        enrollmentType: 'device',
        deviceId: id,
        commandUuid: uuid,
        status,
      });
      await delivery.idle();
    },
    async connect(id) {
      const device = devices.get(id);
      if (!device) throw new Error(`no fake device ${id}`);
      const seen: string[] = [];
      for (let i = 0; i < 100; i++) {
        const next = (await h.queued(id))[0];
        if (!next) return seen;
        const command = (await core.findCommand(next.uuid)) ?? { body: new Uint8Array() };
        const plist = (decodePlist(command.body) as PlistDict).Command as PlistDict;
        seen.push(plist.RequestType as string);
        const { status, fields } = answerOf(device, plist);
        await h.report(id, next.uuid, status, fields);
      }
      throw new Error('the device never ran out of commands');
    },
  };
  return h;
}

/**
 * Builders of the planner tests: enrollments with the facts the simulator sends, device
 * contexts, library profiles, assignments, desired profiles and device records, all fixed
 * in time so results (and golden files) are stable.
 */
import { readFileSync } from 'node:fs';
import { buildProfile } from '../../../src/profile/build.js';
import { parseProfileSpec } from '../../../src/profile/spec.js';
import type { PlistDict } from '../../../src/protocol/plist.js';
import { deviceTargetOf } from '../../../src/management/delivery/target.js';
import type { DesiredProfile, DeviceContext } from '../../../src/management/delivery/types.js';
import type {
  AssignmentType,
  DeviceProfileRecord,
  EnrollmentRecord,
  EnrollmentType,
  LibraryProfileRecord,
  OrgGroupRecord,
  PolicyAssignmentRecord,
  PolicyRecord,
  RemovalControl,
  UserRecord,
} from '../../../src/storage/ports.js';

/** The fixed time of every record. */
export const NOW = new Date('2026-12-07T04:00:00.000Z');

const fixtures = new URL('../../../fixtures/profiles/', import.meta.url);

/** A profile built from a fixture spec (`restrictions`: supervised-only keys; `wifi`: anywhere). */
export function fixtureProfile(name: 'restrictions' | 'wifi'): PlistDict {
  return buildProfile(parseProfileSpec(readFileSync(new URL(`${name}.yaml`, fixtures), 'utf8')));
}

/** Facts of a simulated iPhone's Authenticate plus DeviceInformation's `IsSupervised`. */
export const IPHONE_FACTS = {
  SerialNumber: 'F2LXK0AAHG7J',
  OSVersion: '17.4',
  BuildVersion: '22A100',
  ProductName: 'iPhone16,1',
  Model: 'iPhone16,1',
  ModelName: 'iPhone',
  IsSupervised: false,
};

/** An enrollment record; `facts` replace the iPhone's when given. */
export function enrollment(
  facts: Record<string, unknown> = IPHONE_FACTS,
  type: EnrollmentType = 'device',
  id = 'UDID-0001',
): EnrollmentRecord {
  return {
    id,
    type,
    deviceId: id.split(':')[0] ?? id,
    enrolled: true,
    facts,
    createdAt: NOW,
    updatedAt: NOW,
    tokenUpdateCount: 1,
  };
}

/** The organization group `Sales` under Global. */
export const GROUP: OrgGroupRecord = {
  id: 'grp_sales',
  name: 'Sales',
  parentId: 'global',
  createdAt: NOW,
};

/** The user ann in Sales. */
export const USER: UserRecord = {
  id: 'usr_ann',
  username: 'ann',
  email: 'ann@example.com',
  groupId: GROUP.id,
  custom1: 'cost-center-7',
  generic: false,
  createdAt: NOW,
  updatedAt: NOW,
};

/** A device context over `record`, owned by ann in Sales unless `owned` is false. */
export function context(record: EnrollmentRecord = enrollment(), owned = true): DeviceContext {
  return {
    enrollment: record,
    target: deviceTargetOf(record),
    ...(owned ? { user: USER, group: GROUP } : {}),
  };
}

/** The policy Sales devices get. */
export const POLICY: PolicyRecord = {
  id: 'pol_sales',
  name: 'Sales phones',
  groupId: GROUP.id,
  createdAt: NOW,
  updatedAt: NOW,
};

/** A library profile `prf_<name>` with identifier `com.example.<name>`. */
export function libraryProfile(
  name: string,
  latestVersion = 1,
  type: AssignmentType = 'auto',
): LibraryProfileRecord {
  return {
    id: `prf_${name}`,
    groupId: 'global',
    identifier: `com.example.${name}`,
    name: name.charAt(0).toUpperCase() + name.slice(1),
    assignmentType: type,
    latestVersion,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

/** One assignment of `profile` in {@link POLICY}. */
export function assignment(
  profile: LibraryProfileRecord,
  type: AssignmentType = 'auto',
  removal: RemovalControl = 'always',
): PolicyAssignmentRecord {
  return {
    policyId: POLICY.id,
    profileId: profile.id,
    assignmentType: type,
    removal,
    ...(removal === 'with-authorization' ? { removalPassword: 'Secret-Removal-Password-1' } : {}),
    createdAt: NOW,
    updatedAt: NOW,
  };
}

/** `profile` as desired by {@link POLICY} with assignment `type`. */
export function desired(
  profile: LibraryProfileRecord,
  type: AssignmentType = 'auto',
  removal: RemovalControl = 'always',
): DesiredProfile {
  return { policy: POLICY, assignment: assignment(profile, type, removal), profile };
}

/** A device record of `profile` on UDID-0001. */
export function deviceRecord(
  profile: LibraryProfileRecord,
  state: DeviceProfileRecord['state'],
  more: Partial<DeviceProfileRecord> = {},
): DeviceProfileRecord {
  return {
    enrollmentId: 'UDID-0001',
    identifier: profile.identifier,
    profileId: profile.id,
    version: profile.latestVersion,
    state,
    channel: 'policy',
    updatedAt: NOW,
    ...more,
  };
}

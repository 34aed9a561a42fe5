/**
 * What the policies end-to-end test uses beyond the daemon harness: the profiles it uploads
 * (each a one-payload `.mobileconfig` chosen for its compatibility), the policy calls of the
 * admin API in one place, and loops that connect a simulated device until the daemon's view of
 * it settles (bounded by a number of rounds, never by time).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from '@jest/globals';
import { encodePlist, type PlistDict } from '../../src/index.js';
import type { SimDevice } from '../../src/sim/index.js';
import type { Harness } from '../daemon/harness.js';

/** A configuration profile with one payload of `type`. */
export function oneProfile(identifier: string, type: string, keys: PlistDict): PlistDict {
  return {
    ...{ PayloadType: 'Configuration', PayloadVersion: 1, PayloadIdentifier: identifier },
    ...{ PayloadUUID: randomUUID().toUpperCase(), PayloadDisplayName: identifier },
    PayloadContent: [
      {
        ...{ PayloadType: type, PayloadVersion: 1, PayloadIdentifier: `${identifier}.payload` },
        ...{ PayloadUUID: randomUUID().toUpperCase(), ...keys },
      },
    ],
  };
}

/**
 * The profiles of the test, by role: Wi-Fi (Auto, every platform, no supervision), cellular
 * (Auto, iOS only), app removal (Auto, supervised iOS only), a font (Optional, iOS and macOS),
 * a passcode policy (Interactive, iOS and macOS).
 */
export const PROFILES = {
  wifi: {
    type: 'auto',
    content: oneProfile('com.example.e2e.wifi', 'com.apple.wifi.managed', {
      ...{ SSID_STR: 'Office', AutoJoin: true, EncryptionType: 'None' },
    }),
  },
  cellular: {
    type: 'auto',
    content: oneProfile('com.example.e2e.cellular', 'com.apple.cellular', {
      AttachAPN: { Name: 'internet.example' },
    }),
  },
  supervisedOnly: {
    type: 'auto',
    content: oneProfile('com.example.e2e.restrict', 'com.apple.applicationaccess', {
      allowAppRemoval: false,
    }),
  },
  font: {
    type: 'optional',
    content: oneProfile('com.example.e2e.font', 'com.apple.font', {
      Font: new Uint8Array([0, 1, 0, 0]),
    }),
  },
  passcode: {
    type: 'interactive',
    content: oneProfile('com.example.e2e.passcode', 'com.apple.mobiledevice.passwordpolicy', {
      allowSimple: false,
    }),
  },
} as const;

/** A profile's name in {@link PROFILES}. */
export type ProfileRole = keyof typeof PROFILES;

/** The PayloadIdentifier of a profile of {@link PROFILES}. */
export const identifierOf = (role: ProfileRole): string =>
  PROFILES[role].content.PayloadIdentifier as string;

/** Uploads every profile of {@link PROFILES} to `groupId`; their library ids by role. */
export async function uploadProfiles(
  h: Harness,
  groupId: string,
): Promise<Record<ProfileRole, string>> {
  const ids = {} as Record<ProfileRole, string>;
  for (const [role, p] of Object.entries(PROFILES) as [
    ProfileRole,
    (typeof PROFILES)[ProfileRole],
  ][]) {
    const res = await h.api('POST', '/api/v1/profiles', {
      groupId,
      assignmentType: p.type,
      mobileconfig: encodePlist(p.content, { format: 'xml' }).toString('base64'),
    });
    expect([role, res.status]).toEqual([role, 201]);
    ids[role] = res.body.profile.id as string;
  }
  return ids;
}

/** The policy calls of the admin API (issue 18), in one place. */
export const policyApi = {
  /** Creates a policy owned by `groupId`; its id. */
  async create(h: Harness, name: string, groupId: string): Promise<string> {
    const res = await h.api('POST', '/api/v1/policies', { name, groupId });
    expect([res.status, res.body]).toEqual([201, expect.objectContaining({ name, groupId })]);
    return res.body.id as string;
  },
  /** Assigns a library profile (its own assignment type unless `assignmentType` is given). */
  async assign(
    h: Harness,
    policyId: string,
    profileId: string,
    input: { assignmentType?: string; removal?: string } = {},
  ) {
    const res = await h.api('PUT', `/api/v1/policies/${policyId}/profiles/${profileId}`, input);
    expect([200, 201]).toContain(res.status);
    return res.body as Record<string, unknown>;
  },
  /** Removes a profile from a policy (RemoveProfile for devices Orchard installed it on). */
  async unassign(h: Harness, policyId: string, profileId: string) {
    const res = await h.api('DELETE', `/api/v1/policies/${policyId}/profiles/${profileId}`);
    expect([profileId, res.status]).toEqual([profileId, 200]);
    return res.body as Record<string, unknown>;
  },
};

/** One enrollment's profiles as `GET /api/v1/enrollments/{id}/profiles` shows them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON
export async function profilesOf(h: Harness, id: string): Promise<Record<string, any>> {
  const res = await h.api('GET', `/api/v1/enrollments/${encodeURIComponent(id)}/profiles`);
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

/** The identifiers of one state list of a device profiles view. */
export const identifiersIn = (view: Record<string, unknown>, state: string): string[] =>
  ((view[state] ?? []) as { identifier: string }[]).map((p) => p.identifier).sort();

/**
 * Connects `device` (pushes do not reach it: APNs is unreachable in the harness) until `done`
 * holds, at most `rounds` times with a short pause between: delivery queues on core events, so
 * what a connection acknowledges may queue more for the next one.
 */
export async function settle(
  device: Pick<SimDevice, 'connect'>,
  done: () => Promise<boolean>,
  rounds = 40,
): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    if (await done()) return;
    await sleep(50);
  }
  throw new Error(`the device did not settle in ${rounds} connections`);
}

/** The `Identifier` of every RemoveProfile queued to enrollment `id`. */
export async function removeProfileTargets(h: Harness, id: string): Promise<string[]> {
  const list = await h.api(
    'GET',
    `/api/v1/enrollments/${encodeURIComponent(id)}/commands?limit=1000`,
  );
  expect(list.status).toBe(200);
  const removals = (list.body.items as { commandUuid: string; requestType: string }[]).filter(
    (c) => c.requestType === 'RemoveProfile',
  );
  const out: string[] = [];
  for (const c of removals) {
    const one = await h.api('GET', `/api/v1/commands/${c.commandUuid}?encoding=readable`);
    out.push(one.body.command.Command.Identifier as string);
  }
  return out.sort();
}

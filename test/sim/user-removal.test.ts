/**
 * A simulated device's user removing profiles by hand under the removal rules (S8, M6): what
 * `canRemove` allows as `user` goes, a removal password turns `needs-password` into
 * `user-with-password`, macOS asks for an administrator, MDM-installed profiles stay on iOS;
 * and the answers reconciliation and the compatibility filter read (ProfileList identifiers and
 * UUIDs, DeviceInformation facts) on each platform. One device runs against the daemon harness.
 */
import { describe, expect, test } from '@jest/globals';
import type { PlistDict } from '../../src/index.js';
import { FACT_QUERIES } from '../../src/management/delivery/acks.js';
import type { RemovalDevice } from '../../src/profile/removal.js';
import { answerCommand } from '../../src/sim/index.js';
import { createProfileStore, type SimProfileStore } from '../../src/sim/profiles.js';
import { enrolledSimDevice, useSimDaemon } from './daemon-support.js';

const IPHONE: RemovalDevice = { platform: 'iOS', supervised: false, enrollment: 'device' };
const SUPERVISED: RemovalDevice = { ...IPHONE, supervised: true };
const OLD_MAC: RemovalDevice = {
  ...{ platform: 'macOS', osVersion: '10.14.6', supervised: false, enrollment: 'device' },
};

function profile(identifier: string, extra: PlistDict = {}, password?: string): PlistDict {
  const payloads: PlistDict[] = [
    {
      ...{ PayloadType: 'com.apple.wifi.managed', PayloadVersion: 1, SSID_STR: 'Office' },
      ...{ PayloadIdentifier: `${identifier}.wifi`, PayloadUUID: `${identifier}-wifi-uuid` },
    },
  ];
  if (password !== undefined)
    payloads.push({
      ...{ PayloadType: 'com.apple.profileRemovalPassword', PayloadVersion: 1 },
      ...{ PayloadIdentifier: `${identifier}.pw`, PayloadUUID: `${identifier}-pw-uuid` },
      RemovalPassword: password,
    });
  return {
    ...{ PayloadType: 'Configuration', PayloadVersion: 1, PayloadIdentifier: identifier },
    ...{ PayloadUUID: `${identifier}-uuid`, PayloadContent: payloads, ...extra },
  };
}

const ids = (store: SimProfileStore) => store.list().map((r) => r.identifier);

describe('S8 a user removing a profile by hand', () => {
  test('ok/a profile installed by hand goes (rule 6); an MDM one stays on iOS (rule 3)', () => {
    const store = createProfileStore(() => IPHONE);
    store.install(profile('com.example.manual'), 'configuration', 'manual');
    store.install(profile('com.example.mdm'), 'configuration');
    expect(store.removeByUser('com.example.mdm')).toMatchObject({ outcome: 'denied', rule: 3 });
    expect(store.removeByUser('com.example.manual')).toMatchObject({ outcome: 'allowed', rule: 6 });
    expect(ids(store)).toEqual(['com.example.mdm']);
    expect(store.removeByUser('com.example.absent')).toBeUndefined();
  });

  test('ok/a locked profile needs its removal password; a wrong one is asked again', () => {
    const store = createProfileStore(() => SUPERVISED);
    const locked = profile('com.example.locked', { PayloadRemovalDisallowed: true }, 's3cret');
    store.install(locked, 'configuration', 'manual');
    const outcomes = [undefined, 'wrong'].map((password) =>
      store.removeByUser('com.example.locked', password === undefined ? {} : { password }),
    );
    expect(outcomes.map((d) => d?.outcome)).toEqual(['needs-password', 'needs-password']);
    expect(ids(store)).toEqual(['com.example.locked']);
    const given = store.removeByUser('com.example.locked', { password: 's3cret' });
    expect(given).toMatchObject({ outcome: 'allowed', rule: 5 });
    expect(ids(store)).toEqual([]);
  });

  test('ok/before macOS 10.15 an MDM profile goes only once an administrator authenticates', () => {
    const store = createProfileStore(() => OLD_MAC);
    store.install(profile('com.example.mdm'), 'configuration');
    const asked = store.removeByUser('com.example.mdm');
    expect(asked).toMatchObject({ outcome: 'needs-admin-authentication', rule: 3 });
    expect(ids(store)).toEqual(['com.example.mdm']);
    store.removeByUser('com.example.mdm', { adminAuthenticated: true });
    expect(ids(store)).toEqual([]);
  });

  test('fail/PayloadRemovalDisallowed on a supervised iPhone without a password: denied', () => {
    const store = createProfileStore(() => SUPERVISED);
    store.install(
      profile('com.example.x', { PayloadRemovalDisallowed: true }),
      'configuration',
      'manual',
    );
    const decision = store.removeByUser('com.example.x', { password: 'anything' });
    expect(decision).toMatchObject({ outcome: 'denied', rule: 5 });
    expect(ids(store)).toEqual(['com.example.x']);
  });
});

/** A command context around `store` for the responders. */
function context(platform: 'iOS' | 'macOS', store: SimProfileStore, userEnrollment = false) {
  return {
    ...{
      platform,
      osVersion: platform === 'iOS' ? '17.4' : '14.5',
      supervised: platform === 'iOS',
    },
    ...{ udid: 'UDID-7', userEnrollment, serialNumber: 'SER7', deviceName: 'Dev', profiles: store },
    identity: () => {
      throw new Error('not used');
    },
    certificates: () => [],
    renewIdentity: () => Promise.resolve(),
    unenroll: () => Promise.resolve(),
  };
}

/** What Orchard asks a device at enrollment, as the simulator must answer it. */
const FACTS = [...FACT_QUERIES];

describe('what reconciliation and the compatibility filter read', () => {
  test('ok/ProfileList carries each PayloadIdentifier and PayloadUUID, managed or not', async () => {
    const store = createProfileStore(() => IPHONE);
    store.install(profile('com.example.mdm'), 'configuration');
    store.install(profile('com.example.manual'), 'configuration', 'manual');
    const answer = await answerCommand({ RequestType: 'ProfileList' }, context('iOS', store));
    const list = answer.fields?.ProfileList as PlistDict[];
    expect(list.map((p) => [p.PayloadIdentifier, p.PayloadUUID, p.IsManaged])).toEqual([
      ['com.example.mdm', 'com.example.mdm-uuid', true],
      ['com.example.manual', 'com.example.manual-uuid', false],
    ]);
  });

  test.each([
    ['iOS', 'iPhone16,1', true],
    ['macOS', 'Mac14,2', false],
  ] as const)(
    'ok/DeviceInformation on %s answers every fact asked',
    async (platform, product, sup) => {
      const ctx = context(
        platform,
        createProfileStore(() => IPHONE),
      );
      const answer = await answerCommand({ RequestType: 'DeviceInformation', Queries: FACTS }, ctx);
      const facts = answer.fields?.QueryResponses as PlistDict;
      expect(Object.keys(facts).sort()).toEqual([...FACTS].sort());
      expect(facts).toMatchObject({ ProductName: product, IsSupervised: sup, UDID: 'UDID-7' });
      expect(facts).toMatchObject({ SerialNumber: 'SER7', OSVersion: ctx.osVersion });
      expect(typeof facts.BuildVersion).toBe('string');
    },
  );

  test('ok/under User Enrollment DeviceInformation keeps SerialNumber and UDID private', async () => {
    const ctx = context(
      'iOS',
      createProfileStore(() => IPHONE),
      true,
    );
    const answer = await answerCommand({ RequestType: 'DeviceInformation', Queries: FACTS }, ctx);
    const facts = answer.fields?.QueryResponses as PlistDict;
    expect(Object.keys(facts).sort()).toEqual(
      ['BuildVersion', 'IsSupervised', 'Model', 'OSVersion', 'ProductName'].sort(),
    );
  });
});

describe('a simulated device against the daemon', () => {
  const sim = useSimDaemon(1);

  test('ok/the user removes a manual profile and then the enrollment profile: the device checks out', async () => {
    const device = await enrolledSimDevice(sim.h, sim.keys, {
      manualProfiles: [profile('com.example.manual')],
    });
    expect(await device.removeProfileByUser('com.example.manual')).toMatchObject({ rule: 6 });
    const enrollment = device.installedProfiles()[0]?.identifier ?? '';
    const decision = await device.removeProfileByUser(enrollment);
    expect(decision).toMatchObject({ outcome: 'allowed', rule: 3 });
    expect(device.enrolled).toBe(false);
    expect(device.installedProfiles()).toEqual([]);
    const read = await sim.h.api('GET', `/api/v1/enrollments/${device.enrollmentId}`);
    expect(read.body.enrolled).toBe(false);
  }, 60_000);
});

/**
 * Simulated devices against a real in-process daemon: enrollment from a link (profile, SCEP,
 * Authenticate, TokenUpdate), commands queued with the admin API and answered on `connect()`,
 * results read back through the API; removal refused by the removal rules; identity renewal.
 */
import { describe, expect, test } from '@jest/globals';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptProfile, signProfile, type PlistDict } from '../../src/index.js';
import type { SimDevice, SimDeviceOptions } from '../../src/sim/index.js';
import { commandTarget, enrolledSimDevice, queueCommand, useSimDaemon } from './daemon-support.js';

const sim = useSimDaemon(1);

function fontsProfile(identifier: string): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: '2B1F1C7E-5A44-4C9B-9D55-6C1E2A3B4C5D',
    PayloadDisplayName: 'Fonts',
    PayloadContent: [
      {
        PayloadType: 'com.apple.font',
        PayloadVersion: 1,
        PayloadIdentifier: `${identifier}.one`,
        PayloadUUID: '8F0E1D2C-3B4A-4596-8778-695A4B3C2D1E',
        Font: new Uint8Array([0, 1, 0, 0]),
      },
    ],
  };
}

function signed(profile: PlistDict): Buffer {
  const ca = join(sim.h.dataDir, 'ca');
  return signProfile(profile, {
    certificate: new X509Certificate(readFileSync(join(ca, 'ca.pem'))),
    privateKey: createPrivateKey(readFileSync(join(ca, 'ca.key'))),
  });
}

const enrolled = (extra: Partial<SimDeviceOptions> = {}) =>
  enrolledSimDevice(sim.h, sim.keys, extra);

const queue = (device: SimDevice | string, command: Record<string, unknown>): Promise<string> =>
  queueCommand(sim.h, typeof device === 'string' ? device : device.udid, command);

const target = (uuid: string) => commandTarget(sim.h, uuid);

describe('a simulated device against the daemon', () => {
  test('ok/enrolls from a link and answers the queued commands', async () => {
    const device = await enrolled({ supervised: true });
    expect(device.enrolled).toBe(true);
    expect(device.topic).toBe(sim.h.topic);
    expect(device.pushToken).toMatch(/^[0-9a-f]{64}$/);
    const info = await queue(device, {
      RequestType: 'DeviceInformation',
      Queries: ['UDID', 'SerialNumber', 'OSVersion', 'ProductName', 'IsSupervised'],
    });
    const list = await queue(device, { RequestType: 'ProfileList' });
    const install = await queue(device, {
      RequestType: 'InstallProfile',
      Payload: { $data: signed(fontsProfile('com.example.fonts')).toString('base64') },
    });
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    expect(session.commands).toEqual({ Acknowledged: 3 });
    expect(session.requestTypes).toEqual({
      DeviceInformation: 1,
      ProfileList: 1,
      InstallProfile: 1,
    });
    expect(session.latenciesMs).toHaveLength(4);
    const infoTarget = await target(info);
    expect(infoTarget.status).toBe('Acknowledged');
    expect(JSON.stringify(infoTarget.result)).toContain(device.serialNumber);
    expect(JSON.stringify(infoTarget.result)).toContain('iPhone16,1');
    expect((await target(list)).status).toBe('Acknowledged');
    expect((await target(install)).status).toBe('Acknowledged');
    expect(device.installedProfiles().map((p) => p.identifier)).toContain('com.example.fonts');

    const remove = await queue(device, {
      RequestType: 'RemoveProfile',
      Identifier: 'com.example.fonts',
    });
    const again = await queue(device, { RequestType: 'ProfileList' });
    const second = await device.connect();
    expect(second.errors).toEqual([]);
    expect(second.commands).toEqual({ Acknowledged: 2 });
    expect((await target(remove)).status).toBe('Acknowledged');
    expect(JSON.stringify((await target(again)).result)).not.toContain('com.example.fonts');
    expect(device.installedProfiles().map((p) => p.identifier)).not.toContain('com.example.fonts');
  }, 60_000);

  test('fail/a profile the user installed by hand is not removed by the MDM', async () => {
    const device = await enrolled({
      platform: 'macOS',
      osVersion: '15.1',
      manualProfiles: [fontsProfile('com.example.manual')],
    });
    const remove = await queue(device, {
      RequestType: 'RemoveProfile',
      Identifier: 'com.example.manual',
    });
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    expect(session.commands).toEqual({ Error: 1 });
    const t = await target(remove);
    expect(t.status).toBe('Error');
    expect(JSON.stringify(t.result)).toContain('rule 3');
    expect(device.installedProfiles().map((p) => p.identifier)).toContain('com.example.manual');
  }, 60_000);

  test('ok/identity renewal: the new enrollment profile re-enrolls over SCEP and the device goes on', async () => {
    const device = await enrolled({ platform: 'iPadOS', osVersion: '18.1' });
    const before = device.certificate?.serialNumber;
    const renew = await sim.h.api('POST', `/api/v1/enrollments/${device.udid}/identity/renew`);
    expect(renew.status).toBe(202);
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    expect(session.commands).toEqual({ Acknowledged: 1 });
    expect(device.certificate?.serialNumber).not.toBe(before);
    const identity = await sim.h.api('GET', `/api/v1/enrollments/${device.udid}/identity`);
    expect(identity.body.renewal).toBeNull();
    const info = await queue(device, { RequestType: 'SecurityInfo' });
    const after = await device.connect();
    expect(after.errors).toEqual([]);
    expect((await target(info)).status).toBe('Acknowledged');
  }, 60_000);
});

describe('an encrypted profile', () => {
  test('ok/is decrypted with the identity key the device enrolled over SCEP', async () => {
    const device = await enrolled();
    const recipient = device.certificate;
    expect(recipient).toBeDefined();
    if (recipient === undefined) return;
    const encrypted = encryptProfile(fontsProfile('com.example.secret'), { recipient });
    const uuid = await queue(device, {
      RequestType: 'InstallProfile',
      Payload: { $data: signed(encrypted).toString('base64') },
    });
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    expect((await target(uuid)).status).toBe('Acknowledged');
    expect(device.installedProfiles().map((p) => p.identifier)).toContain('com.example.secret');
  }, 60_000);
});

describe('a macOS user channel', () => {
  test('ok/enrolls with TokenUpdate and answers its own commands', async () => {
    const device = await enrolled({ platform: 'macOS', osVersion: '15.1' });
    const alice = device.user('alice');
    await alice.enroll();
    const uuid = await queue(alice.enrollmentId, { RequestType: 'ProfileList' });
    const session = await alice.connect();
    expect(session.errors).toEqual([]);
    expect(session.commands).toEqual({ Acknowledged: 1 });
    expect((await target(uuid)).enrollmentId).toBe(alice.enrollmentId);
    expect((await device.connect()).commands).toEqual({});
  }, 60_000);

  test('fail/an iPhone has no user channel yet', async () => {
    const device = await enrolled();
    expect(() => device.user('bob')).toThrow(TypeError);
  }, 60_000);
});

describe('removing the enrollment profile', () => {
  test('ok/the device checks out and is no longer enrolled', async () => {
    const device = await enrolled();
    const enrollment = device.installedProfiles().find((p) => p.identifier !== '');
    expect(enrollment).toBeDefined();
    await queue(device, { RequestType: 'RemoveProfile', Identifier: enrollment?.identifier });
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    expect(session.commands).toEqual({ Acknowledged: 1 });
    expect(device.enrolled).toBe(false);
    expect(device.installedProfiles()).toEqual([]);
  }, 60_000);
});

describe('overlapping pushes', () => {
  test('ok/two connects run one after the other and each command is answered once', async () => {
    const device = await enrolled();
    await queue(device, { RequestType: 'ProfileList' });
    await queue(device, { RequestType: 'SecurityInfo' });
    const [a, b] = await Promise.all([device.connect(), device.connect()]);
    expect([...a.errors, ...b.errors]).toEqual([]);
    expect(a.commands).toEqual({ Acknowledged: 2 });
    expect(b.commands).toEqual({});
  }, 60_000);
});

describe('User Enrollment', () => {
  test('ok/the device is known by its EnrollmentID and keeps its serial number private', async () => {
    const device = await enrolled({ userEnrollment: true });
    expect(device.enrollmentId).not.toBe(device.udid);
    const uuid = await queue(device.enrollmentId, {
      RequestType: 'DeviceInformation',
      Queries: ['SerialNumber', 'UDID', 'OSVersion'],
    });
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    const t = await target(uuid);
    expect(t.status).toBe('Acknowledged');
    expect(JSON.stringify(t.result)).toContain('18.1');
    expect(JSON.stringify(t.result)).not.toContain(device.serialNumber);
    expect(JSON.stringify(t.result)).not.toContain(device.udid);
  }, 60_000);
});

describe('NotNow on demand', () => {
  test('ok/a command answered NotNow comes back on the next connection', async () => {
    let roll = 0;
    const device = await enrolled({ behaviour: { notNowRate: 0.5, random: () => roll } });
    const uuid = await queue(device, { RequestType: 'SecurityInfo' });
    const busy = await device.connect();
    expect(busy.errors).toEqual([]);
    expect(busy.commands).toEqual({ NotNow: 1 });
    expect((await target(uuid)).status).toBe('NotNow');
    roll = 0.9;
    const free = await device.connect();
    expect(free.errors).toEqual([]);
    expect(free.commands).toEqual({ Acknowledged: 1 });
    expect((await target(uuid)).status).toBe('Acknowledged');
  }, 60_000);
});

/**
 * Simulated devices' other channels and check-ins against a real in-process daemon: the User
 * Enrollment user channel, Shared iPad users, a supervised Mac's bootstrap token (escrowed with
 * SetBootstrapToken on enrollment, read back with GetBootstrapToken), and the enrollment
 * profile's signer traced to trusted roots when the device is given some.
 */
import { describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransientCertificate } from '../../src/identity/scep/client.js';
import { encodePlist } from '../../src/protocol/plist.js';
import { createSimDevice, type SimDeviceOptions } from '../../src/sim/index.js';
import { commandTarget, enrolledSimDevice, queueCommand, useSimDaemon } from './daemon-support.js';

const sim = useSimDaemon(2);

async function link(): Promise<string> {
  const res = await sim.h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
  expect(res.status).toBe(201);
  return res.body.url as string;
}

const enrolled = (options: Partial<SimDeviceOptions> & Pick<SimDeviceOptions, 'platform'>) =>
  enrolledSimDevice(sim.h, sim.keys, { osVersion: '17.5', ...options });

const queue = (id: string, command: Record<string, unknown>) => queueCommand(sim.h, id, command);

const target = (uuid: string) => commandTarget(sim.h, uuid);

describe('user channels beyond macOS', () => {
  test('ok/the User Enrollment user channel enrolls by EnrollmentUserID and answers its commands', async () => {
    const device = await enrolled({ platform: 'iOS', userEnrollment: true });
    const user = device.user('appleseed');
    await user.enroll();
    expect(user.enrollmentId).toBe(`${device.enrollmentId}:${user.userId}`);
    const uuid = await queue(user.enrollmentId, { RequestType: 'ProfileList' });
    const session = await user.connect();
    expect(session.errors).toEqual([]);
    expect(session.commands).toEqual({ Acknowledged: 1 });
    expect((await target(uuid)).enrollmentId).toBe(user.enrollmentId);
  }, 60_000);

  test('ok/a Shared iPad user is known by its short name', async () => {
    const device = await enrolled({ platform: 'iPadOS', supervised: true, sharedIpad: true });
    const user = device.user('student1');
    await user.enroll();
    expect(user.enrollmentId).toBe(`${device.udid}:student1`);
    const uuid = await queue(user.enrollmentId, { RequestType: 'ProfileList' });
    expect((await user.connect()).commands).toEqual({ Acknowledged: 1 });
    expect((await target(uuid)).status).toBe('Acknowledged');
  }, 60_000);

  test('fail/an iPad that is not shared has no user channel', async () => {
    const device = await enrolled({ platform: 'iPadOS' });
    expect(() => device.user('student1')).toThrow(TypeError);
  }, 60_000);
});

describe('bootstrap token', () => {
  test('ok/a supervised Mac escrows its token on enrollment and gets it back', async () => {
    const device = await enrolled({ platform: 'macOS', osVersion: '14.5', supervised: true });
    const token = device.bootstrapToken;
    expect(token).toBeInstanceOf(Uint8Array);
    const back = await device.getBootstrapToken();
    expect(Buffer.from(back ?? []).equals(Buffer.from(token ?? [1]))).toBe(true);
  }, 60_000);

  test('ok/an unsupervised Mac escrows none and the server has none', async () => {
    const device = await enrolled({ platform: 'macOS', osVersion: '14.5' });
    expect(device.bootstrapToken).toBeUndefined();
    expect(await device.getBootstrapToken()).toBeUndefined();
  }, 60_000);
});

describe('trusted roots for the enrollment profile', () => {
  test('ok/a profile signed under a trusted root is accepted', async () => {
    const root = new X509Certificate(readFileSync(join(sim.h.dataDir, 'ca', 'ca.pem')));
    const device = await enrolled({ platform: 'iOS', trust: [root] });
    expect(device.enrolled).toBe(true);
  }, 60_000);

  test('fail/a profile whose signer does not chain to the trusted roots is refused', async () => {
    const stranger = createTransientCertificate(sim.keys.take(), 'CN=Stranger', new Date());
    const device = createSimDevice({
      platform: 'iOS',
      osVersion: '17.5',
      keys: sim.keys,
      trust: [stranger],
    });
    await expect(device.enroll({ url: await link() })).rejects.toMatchObject({
      code: 'ERR_CERT_UNTRUSTED',
    });
    expect(device.enrolled).toBe(false);
  }, 60_000);

  test('fail/an unsigned profile is refused once roots are given', async () => {
    const root = new X509Certificate(readFileSync(join(sim.h.dataDir, 'ca', 'ca.pem')));
    const device = createSimDevice({
      platform: 'iOS',
      osVersion: '17.5',
      keys: sim.keys,
      trust: [root],
    });
    const plain = encodePlist(
      { PayloadType: 'Configuration', PayloadContent: [] },
      { format: 'xml' },
    );
    await expect(device.enroll({ profile: plain })).rejects.toMatchObject({
      code: 'ERR_PROFILE_NOT_SIGNED',
    });
  });
});

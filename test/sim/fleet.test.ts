/**
 * The fleet runner with a small fake device (the real one is tested in its own files and end to
 * end through `orchard sim --demo`): enrollment with bounded concurrency and a platform mix,
 * push-driven and interval check-ins, and the summary.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { assignPlatforms, createFleet, parseOsMix, runFleet } from '../../src/sim/fleet.js';
import { latencySummary } from '../../src/sim/summary.js';
import type {
  SimDevice,
  SimDeviceOptions,
  SimSessionResult,
  SimUserChannel,
} from '../../src/sim/types.js';

interface Fake extends SimDevice {
  options: SimDeviceOptions;
  connects: number;
}

/** A device that enrolls unless its URL says `fail`, and answers one DeviceInformation per connect. */
function fakeDevices(track: { inFlight: number; peak: number }) {
  const made: Fake[] = [];
  const users: SimUserChannel[] = [];
  const create = (options: SimDeviceOptions): SimDevice => {
    let enrolled = false;
    const device: Fake = {
      options,
      connects: 0,
      udid: randomBytes(8).toString('hex'),
      serialNumber: 'SIM',
      platform: options.platform,
      pushToken: randomBytes(32).toString('hex'),
      pushMagic: 'magic',
      certificate: undefined,
      topic: 'com.apple.mgmt.External.test',
      get enrolled() {
        return enrolled;
      },
      async enroll(source) {
        track.peak = Math.max(track.peak, ++track.inFlight);
        await new Promise((r) => setImmediate(r));
        track.inFlight--;
        if ('url' in source && source.url.includes('fail')) throw new Error('enrollment refused');
        enrolled = true;
      },
      connect(): Promise<SimSessionResult> {
        device.connects++;
        return Promise.resolve({
          commands: { Acknowledged: 1 },
          requestTypes: { DeviceInformation: 1 },
          latenciesMs: [device.connects],
          errors: [],
        });
      },
      installedProfiles: () => [],
      user: (shortName) => {
        const channel = {
          enrollmentId: `${device.udid}:${shortName}`,
          userId: shortName,
          shortName,
          pushToken: randomBytes(32).toString('hex'),
          pushMagic: 'magic',
          enrolled: false,
          enroll: () => {
            channel.enrolled = true;
            return Promise.resolve();
          },
          connect: () =>
            Promise.resolve({ commands: {}, requestTypes: {}, latenciesMs: [1], errors: [] }),
          installedProfiles: () => [],
        };
        users.push(channel);
        return channel;
      },
    };
    made.push(device);
    return device;
  };
  return { made, create, users };
}

describe('runFleet', () => {
  test('ok/enrolls every device with the mix, bounded concurrency, and a check-in each', async () => {
    const track = { inFlight: 0, peak: 0 };
    const { made, create } = fakeDevices(track);
    const registered: string[] = [];
    let n = 0;
    const summary = await runFleet({
      devices: 10,
      concurrency: 3,
      osMix: parseOsMix('ios:50,macos@13.6:50'),
      enrollmentUrl: () => Promise.resolve(`http://x/enroll/${n++}`),
      createDevice: create,
      apns: { register: (t) => registered.push(t), pushes: 0 },
    });
    expect(summary).toMatchObject({ devices: 10, enrolled: 10, failed: 0, sessions: 10 });
    expect(summary.commands).toEqual({ Acknowledged: 10 });
    expect(summary.errors).toEqual({ count: 0, first: [] });
    expect(track.peak).toBeLessThanOrEqual(3);
    expect(registered.sort()).toEqual(made.map((d) => d.pushToken).sort());
    expect(made.filter((d) => d.platform === 'macOS').map((d) => d.options.osVersion)).toEqual(
      Array(5).fill('13.6'),
    );
  });

  test('ok/a push makes its device connect; pushes during a connection coalesce into one more', async () => {
    const { made, create } = fakeDevices({ inFlight: 0, peak: 0 });
    const fleet = createFleet({
      devices: 2,
      enrollmentUrl: () => Promise.resolve('http://x/enroll'),
      createDevice: create,
      afterEnroll: async (f) => {
        const token = f.devices[0]!.pushToken;
        f.push(token);
        f.push(token);
        f.push(token.toUpperCase());
        f.push('00'.repeat(32)); // unknown: ignored
        await f.settled();
      },
    });
    const summary = await fleet.run();
    const pushed = made.find((d) => d.pushToken === fleet.devices[0]!.pushToken)!;
    expect(pushed.connects).toBe(3);
    expect(summary.sessions).toBe(4);
  });

  test('ok/a push to every device runs at most `sessions` sessions at once; pushes while waiting coalesce', async () => {
    const { made, create } = fakeDevices({ inFlight: 0, peak: 0 });
    const open = { now: 0, peak: 0 };
    const fleet = createFleet({
      devices: 40,
      concurrency: 8,
      sessions: 5,
      enrollmentUrl: () => Promise.resolve('http://x/enroll'),
      createDevice: create,
      afterEnroll: async (f) => {
        for (const d of made)
          d.connect = async () => {
            d.connects++;
            open.peak = Math.max(open.peak, ++open.now);
            await new Promise((r) => setImmediate(r));
            open.now--;
            const result = { commands: { Acknowledged: 1 }, requestTypes: { ProfileList: 1 } };
            return { ...result, latenciesMs: [1], errors: [], retries: 1 };
          };
        // Two pushes each, at once: the first five connect at once and again after (the second
        // push came during their session); the others wait, and their second push adds nothing.
        for (const d of f.devices) f.push(d.pushToken);
        for (const d of f.devices) f.push(d.pushToken);
        await f.settled();
      },
    });
    const summary = await fleet.run();
    expect(open.peak).toBe(5);
    expect(made.map((d) => d.connects).sort()).toEqual([...Array(35).fill(2), ...Array(5).fill(3)]);
    expect(summary.requestTypes.ProfileList).toBe(45);
    expect(summary.retries).toBe(45);
    expect(summary.errors.count).toBe(0);
  });

  test('fail/sessions must be a positive integer', () => {
    const { create } = fakeDevices({ inFlight: 0, peak: 0 });
    const enrollmentUrl = () => Promise.resolve('http://x/enroll');
    for (const sessions of [0, -1, 1.5])
      expect(() =>
        createFleet({ devices: 1, sessions, enrollmentUrl, createDevice: create }),
      ).toThrow(TypeError);
  });

  test('fail/an enrollment failure is counted and its error listed once', async () => {
    const { create } = fakeDevices({ inFlight: 0, peak: 0 });
    let n = 0;
    const summary = await runFleet({
      devices: 4,
      enrollmentUrl: () => Promise.resolve(n++ % 2 === 0 ? 'http://x/fail' : 'http://x/ok'),
      createDevice: create,
    });
    expect(summary).toMatchObject({ enrolled: 2, failed: 2 });
    expect(summary.errors).toEqual({ count: 2, first: ['enroll: enrollment refused'] });
  });

  test('ok/interval check-ins run until the duration ends (injected clock)', async () => {
    const { made, create } = fakeDevices({ inFlight: 0, peak: 0 });
    let t = 0;
    const lines: string[] = [];
    const summary = await runFleet({
      devices: 2,
      enrollmentUrl: () => Promise.resolve('http://x/enroll'),
      createDevice: create,
      intervalMs: 10,
      durationMs: 35,
      now: () => t,
      sleep: (ms) => {
        t += ms;
        return Promise.resolve();
      },
      onProgress: (line) => lines.push(line),
    });
    expect(made.map((d) => d.connects)).toEqual([4, 4]);
    expect(summary.sessions).toBe(8);
    expect(summary.latencyMs).toEqual({ count: 8, p50: 2, p90: 4, p99: 4, max: 4 });
    expect(lines.at(-1)).toMatch(/^enrolled 2\/2, failed 0, sessions 8, commands 8, errors 0/);
  });
});

describe('runFleet channels and behaviour', () => {
  test('ok/User Enrollment shares, user channels on macOS device enrollments, behaviour passed on', async () => {
    const { made, create, users } = fakeDevices({ inFlight: 0, peak: 0 });
    const registered: string[] = [];
    const summary = await runFleet({
      devices: 6,
      osMix: parseOsMix('ios-ue:1,macos:1,macos-ue:1'),
      enrollmentUrl: () => Promise.resolve('http://x/enroll'),
      createDevice: create,
      deviceOptions: { behaviour: { notNowRate: 0.5, errorRate: 0.25 } },
      userChannels: true,
      apns: { register: (t) => registered.push(t), pushes: 0 },
    });
    const ue = made.filter((d) => d.options.userEnrollment === true).map((d) => d.platform);
    expect(ue.sort()).toEqual(['iOS', 'iOS', 'macOS', 'macOS']);
    expect(made.every((d) => d.options.behaviour?.notNowRate === 0.5)).toBe(true);
    expect(made.every((d) => d.options.behaviour?.errorRate === 0.25)).toBe(true);
    // Only the two macOS device enrollments open a user channel; it enrolls, is pushable, checks in.
    expect(users).toHaveLength(2);
    expect(users.every((u) => u.enrolled)).toBe(true);
    expect(registered).toEqual(expect.arrayContaining(users.map((u) => u.pushToken)));
    expect(registered).toHaveLength(8);
    expect(summary).toMatchObject({ devices: 6, enrolled: 6, failed: 0, sessions: 8 });
    expect(summary.commands).toEqual({ Acknowledged: 6 });
    expect(summary.errors.count).toBe(0);
  });

  test('ok/user channels check in on the interval too', async () => {
    const { create } = fakeDevices({ inFlight: 0, peak: 0 });
    let t = 0;
    const summary = await runFleet({
      devices: 1,
      osMix: parseOsMix('macos:1'),
      enrollmentUrl: () => Promise.resolve('http://x/enroll'),
      createDevice: create,
      userChannels: true,
      intervalMs: 10,
      durationMs: 25,
      now: () => t,
      sleep: (ms) => {
        t += ms;
        return Promise.resolve();
      },
    });
    // Device and user channel: a first check-in each, then two intervals each.
    expect(summary.sessions).toBe(6);
    expect(summary.commands).toEqual({ Acknowledged: 3 });
  });

  test('fail/a user channel that cannot enroll is an error, not a failed device', async () => {
    const { create } = fakeDevices({ inFlight: 0, peak: 0 });
    const summary = await runFleet({
      devices: 1,
      osMix: parseOsMix('macos:1'),
      enrollmentUrl: () => Promise.resolve('http://x/enroll'),
      createDevice: (options) => {
        const device = create(options);
        return {
          ...device,
          connect: () => device.connect(),
          user: () => {
            throw new TypeError('no user channel here');
          },
        };
      },
      userChannels: true,
    });
    expect(summary).toMatchObject({ enrolled: 1, failed: 0, sessions: 1 });
    expect(summary.errors).toEqual({ count: 1, first: ['user channel: no user channel here'] });
  });
});

describe('mix and percentiles', () => {
  test.each([
    ['ok/default shape', 'ios:70,ipados:10,macos:20', 3],
    ['ok/version', 'iOS@16.4:1', 1],
    ['ok/User Enrollment', 'ios:60,ios-ue:20,macos-ue@14.1:20', 3],
  ])('%s', (_name, text, length) => {
    expect(parseOsMix(text)).toHaveLength(length);
  });

  test.each([
    ['fail/unknown', 'android:5'],
    ['fail/no weight', 'ios'],
    ['fail/zero', 'ios:0'],
    ['fail/unknown suffix', 'ios-byod:5'],
  ])('%s', (_name, text) => {
    expect(() => parseOsMix(text)).toThrow(TypeError);
  });

  test('ok/platforms follow the weights', () => {
    const counts: Record<string, number> = {};
    for (const e of assignPlatforms(100, parseOsMix('ios:70,ipados:10,macos:20')))
      counts[e.platform] = (counts[e.platform] ?? 0) + 1;
    expect(counts).toEqual({ iOS: 70, iPadOS: 10, macOS: 20 });
  });

  test('ok/nearest-rank percentiles', () => {
    expect(latencySummary([5, 1, 4, 2, 3])).toEqual({ count: 5, p50: 3, p90: 5, p99: 5, max: 5 });
    expect(latencySummary([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

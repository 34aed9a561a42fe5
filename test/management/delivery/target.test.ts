/**
 * The device target of an enrollment (M7 inputs): platform from ProductName or Model, OS
 * version, supervision, enrollment type and channel, unknown facts listed; and its cache key.
 */
import { describe, expect, test } from '@jest/globals';
import { deviceTargetOf, targetKey } from '../../../src/management/delivery/target.js';
import { authenticateMessage } from '../../../src/sim/checkin.js';
import type { EnrollmentType } from '../../../src/storage/ports.js';
import { enrollment, IPHONE_FACTS } from './support.js';

describe('deviceTargetOf', () => {
  test.each([
    ['iPhone16,1', 'iOS'],
    ['iPod9,1', 'iOS'],
    ['iPad14,3', 'iOS'],
    ['Mac14,2', 'macOS'],
    ['MacBookPro18,1', 'macOS'],
    ['iMac21,1', 'macOS'],
    ['VirtualMac2,1', 'macOS'],
    ['AppleTV14,1', 'tvOS'],
    ['RealityDevice14,1', 'visionOS'],
    ['Watch7,1', 'watchOS'],
  ])('ok/product %s runs %s', (product, platform) => {
    expect(deviceTargetOf(enrollment({ ProductName: product })).platform).toBe(platform);
  });

  test('ok/Model stands in for a missing ProductName; a part number says nothing', () => {
    expect(deviceTargetOf(enrollment({ Model: 'iPad14,3' })).platform).toBe('iOS');
    const t = deviceTargetOf(enrollment({ Model: 'MTLT3LL/A' }));
    expect(t.platform).toBeUndefined();
    expect(t.unknown).toEqual(['platform', 'osVersion', 'supervised']);
  });

  test('ok/the facts a simulated iPhone authenticates with, before DeviceInformation', () => {
    const message = authenticateMessage({
      keys: { UDID: 'UDID-0001' },
      userEnrollment: false,
      serialNumber: 'F2LXK0AAHG7J',
      platform: 'iOS',
      osVersion: '17.4',
      deviceName: 'Ann’s iPhone',
      topic: 'com.apple.mgmt.test',
      pushToken: new Uint8Array(32),
      pushMagic: 'magic',
    });
    const t = deviceTargetOf(enrollment(message));
    expect(t).toEqual({
      platform: 'iOS',
      osVersion: '17.4',
      enrollment: 'device',
      channel: 'device',
      sharedIPad: false,
      unknown: ['supervised'],
    });
  });

  test('ok/IsSupervised from DeviceInformation is read; a non-boolean is unknown', () => {
    expect(deviceTargetOf(enrollment({ ...IPHONE_FACTS, IsSupervised: true })).supervised).toBe(
      true,
    );
    const t = deviceTargetOf(enrollment({ ...IPHONE_FACTS, IsSupervised: 'yes' }));
    expect(t.supervised).toBeUndefined();
    expect(t.unknown).toEqual(['supervised']);
  });

  test('ok/an OSVersion that is not a version is unknown', () => {
    const t = deviceTargetOf(enrollment({ ...IPHONE_FACTS, OSVersion: 'seventeen' }));
    expect(t.osVersion).toBeUndefined();
    expect(t.unknown).toEqual(['osVersion']);
  });

  test.each<[EnrollmentType, string, string, boolean]>([
    ['device', 'device', 'device', false],
    ['user', 'device', 'user', false],
    ['user-enrollment-device', 'user', 'device', false],
    ['user-enrollment-user', 'user', 'user', false],
    ['shared-ipad-user', 'device', 'user', true],
  ])(
    'ok/enrollment type %s: enrollment %s, channel %s, shared iPad %s',
    (type, kind, channel, shared) => {
      const t = deviceTargetOf(enrollment(IPHONE_FACTS, type));
      expect([t.enrollment, t.channel, t.sharedIPad]).toEqual([kind, channel, shared]);
    },
  );
});

describe('targetKey', () => {
  test('ok/equal for alike devices, different when any fact differs, ? for unknown', () => {
    const a = deviceTargetOf(enrollment(IPHONE_FACTS, 'device', 'UDID-A'));
    const b = deviceTargetOf(enrollment(IPHONE_FACTS, 'device', 'UDID-B'));
    expect(targetKey(a)).toBe(targetKey(b));
    expect(targetKey(a)).toBe('iOS|17.4|unsupervised|device|device|-');
    const variants = [
      { ...IPHONE_FACTS, OSVersion: '17.5' },
      { ...IPHONE_FACTS, IsSupervised: true },
      { ...IPHONE_FACTS, ProductName: 'Mac14,2', Model: 'Mac14,2' },
    ].map((f) => targetKey(deviceTargetOf(enrollment(f))));
    const ue = targetKey(deviceTargetOf(enrollment(IPHONE_FACTS, 'user-enrollment-device')));
    expect(new Set([targetKey(a), ...variants, ue]).size).toBe(5);
    expect(targetKey(deviceTargetOf(enrollment({})))).toBe('?|?|?|device|device|-');
  });
});

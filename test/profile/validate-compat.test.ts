import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildProfile } from '../../src/profile/build.js';
import { parseProfileSpec } from '../../src/profile/spec.js';
import { checkProfile, validateProfile } from '../../src/profile/validate.js';
import type { Target } from '../../src/schema/target.js';
import type { PlistDict } from '../../src/protocol/plist.js';

const spec = (file: string): PlistDict =>
  buildProfile(
    parseProfileSpec(
      readFileSync(`fixtures/profiles/${file}`, 'utf8'),
      file.endsWith('.json') ? 'json' : 'yaml',
    ),
  );

const wifi = spec('wifi.yaml');
const passcode = spec('passcode.json');
const restrictions = spec('restrictions.yaml');

const errors = (p: PlistDict, t: Target): [string, string][] =>
  validateProfile(p, t)
    .filter((i) => i.severity === 'error')
    .map((i) => [i.path, i.code]);
const warnings = (p: PlistDict, t: Target): [string, string][] =>
  validateProfile(p, t)
    .filter((i) => i.severity === 'warning')
    .map((i) => [i.path, i.code]);

describe('compatibility against targets', () => {
  test.each<[string, PlistDict, Target]>([
    [
      'ok/wifi on iOS 17 User Enrollment',
      wifi,
      { platform: 'iOS', osVersion: '17.0', enrollment: 'user' },
    ],
    ['ok/wifi on macOS 14', wifi, { platform: 'macOS', osVersion: '14.0', enrollment: 'device' }],
    [
      'ok/passcode on unsupervised iOS 16',
      passcode,
      { platform: 'iOS', osVersion: '16.0', enrollment: 'device' },
    ],
    [
      'ok/restrictions on ADE iOS 17',
      restrictions,
      { platform: 'iOS', osVersion: '17.0', enrollment: 'ade' },
    ],
    [
      'ok/restrictions on supervised iOS 18',
      restrictions,
      { platform: 'iOS', osVersion: '18.0', supervised: true },
    ],
  ])('%s', (_name, p, t) => {
    expect(errors(p, t)).toEqual([]);
  });

  test('fail/supervised-only restriction keys on unsupervised iOS', () => {
    expect(
      errors(restrictions, { platform: 'iOS', osVersion: '17.0', enrollment: 'device' }),
    ).toEqual([
      ['PayloadContent[0].allowAppClips', 'requires-supervision'],
      ['PayloadContent[0].allowVPNCreation', 'requires-supervision'],
      ['PayloadContent[0].allowPersonalHotspotModification', 'requires-supervision'],
      ['PayloadContent[0].allowiPhoneWidgetsOnMac', 'requires-supervision'],
    ]);
  });

  test('fail/key introduced in iOS 17 on iOS 16.0', () => {
    expect(errors(restrictions, { platform: 'iOS', osVersion: '16.0', supervised: true })).toEqual([
      ['PayloadContent[0].allowiPhoneWidgetsOnMac', 'introduced-later'],
    ]);
  });

  test('fail/payload forbidden in User Enrollment', () => {
    expect(errors(passcode, { platform: 'macOS', osVersion: '14.0', enrollment: 'user' })).toEqual([
      ['PayloadContent[0]', 'forbidden-in-user-enrollment'],
    ]);
  });

  test('fail/restrictions on macOS: every iOS-only key is unavailable', () => {
    const found = errors(restrictions, { platform: 'macOS', osVersion: '14.0' });
    expect(found).toContainEqual(['PayloadContent[0].allowAppClips', 'unavailable']);
    expect(found).not.toContainEqual(['PayloadContent[0].allowCamera', 'unavailable']);
  });

  test('fail/the whole profile on an OS before the payload existed', () => {
    expect(errors(wifi, { platform: 'tvOS', osVersion: '8.0' })).toEqual([
      ['', 'introduced-later'],
      ['PayloadContent[0]', 'introduced-later'],
    ]);
  });

  test('ok/removal controls on an unsupervised iPhone are warnings, not errors', () => {
    const target: Target = { platform: 'iOS', osVersion: '17.0', enrollment: 'device' };
    const profile = { ...passcode, PayloadRemovalDisallowed: true };
    expect(errors(profile, target)).toEqual([]);
    expect(warnings(profile, target)).toEqual([
      ['PayloadRemovalDisallowed', 'removal-not-honoured'],
    ]);
  });

  test('ok/removal password payload in a User Enrollment is a warning', () => {
    const profile = {
      ...wifi,
      PayloadContent: [
        ...(wifi.PayloadContent as PlistDict[]),
        {
          PayloadType: 'com.apple.profileRemovalPassword',
          PayloadVersion: 1,
          PayloadIdentifier: 'x.pw',
          PayloadUUID: 'A-B',
          RemovalPassword: 'pw',
        },
      ],
    };
    const target: Target = { platform: 'iOS', osVersion: '17.0', enrollment: 'user' };
    expect(errors(profile, target)).toEqual([]);
    expect(warnings(profile, target)).toEqual([
      ['PayloadContent[1]', 'removal-not-honoured'],
      ['PayloadContent[1]', 'removal-not-honoured'],
    ]);
  });

  test('ok/PayloadRemovalDisallowed false asks for nothing', () => {
    const target: Target = { platform: 'iOS', enrollment: 'device' };
    expect(validateProfile({ ...passcode, PayloadRemovalDisallowed: false }, target)).toEqual([]);
  });
});

describe('compatibility summary', () => {
  const mode = (p: PlistDict, platform: string, m: string): boolean | undefined =>
    checkProfile(p)
      .compatibility?.find((r) => r.platform === platform)
      ?.modes.find((x) => x.mode === m)?.ok;

  test.each<[string, PlistDict, string, string, boolean]>([
    ['ok/wifi accepted in iOS User Enrollment', wifi, 'iOS', 'user-enrollment', true],
    ['ok/restrictions accepted on supervised iOS', restrictions, 'iOS', 'supervised', true],
    ['fail/restrictions refused on unsupervised iOS', restrictions, 'iOS', 'device', false],
    [
      'fail/restrictions refused in iOS User Enrollment',
      restrictions,
      'iOS',
      'user-enrollment',
      false,
    ],
    ['fail/passcode refused in macOS User Enrollment', passcode, 'macOS', 'user-enrollment', false],
  ])('%s', (_name, p, platform, m, ok) => {
    expect(mode(p, platform, m)).toBe(ok);
  });

  test('ok/minimum versions come from the newest key used', () => {
    const rows = checkProfile(restrictions).compatibility ?? [];
    expect(rows.find((r) => r.platform === 'iOS')?.minVersion).toBe('17.0');
    expect(rows.find((r) => r.platform === 'macOS')?.available).toBe(false);
    expect(checkProfile(wifi).compatibility?.find((r) => r.platform === 'iOS')?.minVersion).toBe(
      '7.0',
    );
  });
});

import { describe, expect, test } from '@jest/globals';
import type { PlistDict } from '../../src/protocol/plist.js';
import { checkProfile, profileCompatibility, validateProfile } from '../../src/profile/validate.js';
import type { Target } from '../../src/schema/target.js';

function profile(type: string, keys: PlistDict, top: PlistDict = {}): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.profile',
    PayloadUUID: 'F0000000-0000-0000-0000-000000000000',
    PayloadContent: [
      {
        PayloadType: type,
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.p0',
        PayloadUUID: '00000000-0000-0000-0000-000000000000',
        ...keys,
      },
    ],
    ...top,
  };
}

const softwareUpdate = profile('com.apple.SoftwareUpdate', { AutomaticCheckEnabled: true });
const assistant = profile('com.apple.applicationaccess', { allowAssistant: false });
const proximity = profile('com.apple.applicationaccess', { allowPasswordProximityRequests: false });
const privateBrowsing = profile('com.apple.applicationaccess', {
  allowSafariPrivateBrowsing: false,
});

type Row = [string, PlistDict, Target | undefined, [string, string, string, RegExp][]];
const found = (p: PlistDict, t: Target | undefined): [string, string, string, string][] =>
  validateProfile(p, t)
    .filter((i) => i.code === 'deprecated' || i.code === 'removed')
    .map((i) => [i.path, i.code, i.severity, i.message]);

describe('deprecated and removed (Apple 26.4 markers)', () => {
  test.each<Row>([
    [
      'ok/com.apple.SoftwareUpdate on macOS 26.0 warns with the version',
      softwareUpdate,
      { platform: 'macOS', osVersion: '26.0' },
      [['PayloadContent[0]', 'deprecated', 'warning', /deprecated since macOS 26\.0/]],
    ],
    [
      'ok/com.apple.SoftwareUpdate on macOS 15 says nothing',
      softwareUpdate,
      { platform: 'macOS', osVersion: '15.0' },
      [],
    ],
    [
      'ok/com.apple.SoftwareUpdate without a target lists where it is deprecated',
      softwareUpdate,
      undefined,
      [
        [
          'PayloadContent[0]',
          'deprecated',
          'warning',
          /com\.apple\.SoftwareUpdate is deprecated since macOS 26\.0$/,
        ],
      ],
    ],
    [
      'ok/key-level: allowAssistant on iOS 26.4',
      assistant,
      { platform: 'iOS', osVersion: '26.4' },
      [['PayloadContent[0].allowAssistant', 'deprecated', 'warning', /deprecated since iOS 26\.4/]],
    ],
    [
      'ok/key-level: allowAssistant on iOS 26.3 says nothing',
      assistant,
      { platform: 'iOS', osVersion: '26.3' },
      [],
    ],
    [
      'ok/key-level without a target names every platform',
      assistant,
      undefined,
      [
        [
          'PayloadContent[0].allowAssistant',
          'deprecated',
          'warning',
          /iOS 26\.4, macOS 26\.4, visionOS 26\.4$/,
        ],
      ],
    ],
    [
      'fail/allowPasswordProximityRequests on tvOS 26.4 was removed',
      proximity,
      { platform: 'tvOS', osVersion: '26.4', supervised: true },
      [
        [
          'PayloadContent[0].allowPasswordProximityRequests',
          'removed',
          'error',
          /removed in tvOS 26\.4/,
        ],
      ],
    ],
    [
      'ok/allowPasswordProximityRequests on tvOS 18 is deprecated',
      proximity,
      { platform: 'tvOS', osVersion: '18.0', supervised: true },
      [
        [
          'PayloadContent[0].allowPasswordProximityRequests',
          'deprecated',
          'warning',
          /deprecated since tvOS 17\.4/,
        ],
      ],
    ],
    [
      'ok/allowPasswordProximityRequests on tvOS without a version announces both',
      proximity,
      { platform: 'tvOS', supervised: true },
      [
        ['PayloadContent[0].allowPasswordProximityRequests', 'deprecated', 'warning', /tvOS 17\.4/],
        ['PayloadContent[0].allowPasswordProximityRequests', 'removed', 'warning', /tvOS 26\.4/],
      ],
    ],
    [
      'ok/allowPasswordProximityRequests without a target: removed and deprecated warnings',
      proximity,
      undefined,
      [
        [
          'PayloadContent[0].allowPasswordProximityRequests',
          'removed',
          'warning',
          /was removed in tvOS 26\.4$/,
        ],
        [
          'PayloadContent[0].allowPasswordProximityRequests',
          'deprecated',
          'warning',
          /deprecated since tvOS 17\.4$/,
        ],
      ],
    ],
    [
      'ok/allowPasswordProximityRequests on iOS is neither',
      proximity,
      { platform: 'iOS', osVersion: '26.4', supervised: true },
      [],
    ],
  ])('%s', (_name, p, target, expected) => {
    const got = found(p, target);
    expect(got.map(([path, code, severity]) => [path, code, severity])).toEqual(
      expected.map(([path, code, severity]) => [path, code, severity]),
    );
    got.forEach(([, , , message], i) => {
      expect(message).toMatch(expected[i]?.[3] ?? /^$/);
    });
  });

  test('ok/removed on tvOS 26.4 makes the profile invalid there; deprecated alone does not', () => {
    const errors = (t: Target): string[] =>
      validateProfile(proximity, t)
        .filter((i) => i.severity === 'error')
        .map((i) => i.code);
    expect(errors({ platform: 'tvOS', osVersion: '26.4', supervised: true })).toEqual(['removed']);
    expect(errors({ platform: 'tvOS', osVersion: '18.0', supervised: true })).toEqual([]);
  });
});

describe('keys new in 26.4 and retired top-level keys', () => {
  test.each<[string, PlistDict, Target | undefined]>([
    ['ok/allowSafariPrivateBrowsing is a known key', privateBrowsing, undefined],
    [
      'ok/allowSafariPrivateBrowsing on supervised iOS 26.0',
      privateBrowsing,
      { platform: 'iOS', osVersion: '26.0', supervised: true },
    ],
    [
      'ok/IsEncrypted and HasRemovalPasscode (dropped from TopLevel at 26.x) stay known',
      profile('com.apple.SoftwareUpdate', {}, { IsEncrypted: false, HasRemovalPasscode: true }),
      { platform: 'macOS', osVersion: '15.0' },
    ],
  ])('%s', (_name, p, target) => {
    expect(validateProfile(p, target).filter((i) => i.severity === 'error')).toEqual([]);
  });

  test('fail/allowSafariPrivateBrowsing before iOS 26.0 needs a later OS', () => {
    const codes = validateProfile(privateBrowsing, {
      platform: 'iOS',
      osVersion: '18.0',
      supervised: true,
    }).map((i) => i.code);
    expect(codes).toEqual(['introduced-later']);
  });

  test('fail/a retired top-level key is still type-checked', () => {
    const codes = validateProfile(profile('com.apple.SoftwareUpdate', {}, { IsEncrypted: 'yes' }));
    expect(codes.map((i) => [i.path, i.code])).toContainEqual(['IsEncrypted', 'wrong-type']);
  });
});

describe('compatibility facts', () => {
  const row = (p: PlistDict, platform: string) =>
    profileCompatibility(p).find((r) => r.platform === platform);

  test.each<[string, PlistDict, string, string | undefined, string | undefined]>([
    [
      'ok/SoftwareUpdate on macOS: deprecated from 26.0',
      softwareUpdate,
      'macOS',
      '26.0',
      undefined,
    ],
    ['ok/allowAssistant on iOS: deprecated from 26.4', assistant, 'iOS', '26.4', undefined],
    ['ok/allowPasswordProximityRequests on tvOS: 17.4 and 26.4', proximity, 'tvOS', '17.4', '26.4'],
    ['ok/allowPasswordProximityRequests on iOS: neither', proximity, 'iOS', undefined, undefined],
  ])('%s', (_name, p, platform, deprecatedIn, removedIn) => {
    const r = row(p, platform);
    expect(r?.available).toBe(true);
    expect(r?.deprecatedIn).toBe(deprecatedIn);
    expect(r?.removedIn).toBe(removedIn);
  });

  test('ok/per-key lists name the place, once, with its versions', () => {
    expect(row(proximity, 'tvOS')?.lifecycle).toEqual([
      {
        platform: 'tvOS',
        path: 'PayloadContent[0].allowPasswordProximityRequests',
        label: 'allowPasswordProximityRequests',
        deprecated: '17.4',
        removed: '26.4',
      },
    ]);
    expect(row(softwareUpdate, 'macOS')?.lifecycle).toEqual([
      {
        platform: 'macOS',
        path: 'PayloadContent[0]',
        label: 'com.apple.SoftwareUpdate',
        deprecated: '26.0',
      },
    ]);
    expect(row(privateBrowsing, 'iOS')?.lifecycle).toBeUndefined();
  });

  test('ok/checkProfile carries the same facts as profileCompatibility', () => {
    expect(checkProfile(softwareUpdate).compatibility).toEqual(
      profileCompatibility(softwareUpdate),
    );
  });
});

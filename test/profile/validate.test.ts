import { describe, expect, test } from '@jest/globals';
import { PlistReal } from '../../src/protocol/plist.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import { checkProfile, validateProfile } from '../../src/profile/validate.js';

function payload(type: string, keys: PlistDict, n = 0): PlistDict {
  return {
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: `com.example.p${n}`,
    PayloadUUID: `00000000-0000-0000-0000-00000000000${n}`,
    ...keys,
  };
}

function profile(payloads: PlistDict[], top: PlistDict = {}): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.profile',
    PayloadUUID: 'F0000000-0000-0000-0000-000000000000',
    PayloadContent: payloads.map((p, i) => ({
      ...p,
      PayloadIdentifier: `com.example.p${i}`,
      PayloadUUID: `00000000-0000-0000-0000-00000000000${i}`,
    })),
    ...top,
  };
}

const passcode = (keys: PlistDict): PlistDict =>
  payload('com.apple.mobiledevice.passwordpolicy', keys);
const scep = (content: PlistDict): PlistDict =>
  payload('com.apple.security.scep', { PayloadContent: content });
const mdm = (keys: PlistDict): PlistDict =>
  payload('com.apple.mdm', {
    ServerURL: 'https://mdm.example.com/mdm',
    Topic: 'com.apple.mgmt.External.x',
    IdentityCertificateUUID: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
    ...keys,
  });

const codes = (p: PlistDict): [string, string][] =>
  validateProfile(p)
    .filter((i) => i.severity === 'error')
    .map((i) => [i.path, i.code]);

describe('validateProfile (structure)', () => {
  test.each<[string, PlistDict]>([
    ['ok/passcode', profile([passcode({ minLength: 6, forcePIN: true })])],
    [
      'ok/scep with subject pairs',
      profile([
        scep({ URL: 'https://ca.example.com/scep', Subject: [[['CN', 'device']]], Keysize: 2048 }),
      ]),
    ],
    ['ok/mdm with https ServerURL', profile([mdm({})])],
    ['ok/real key given a PlistReal', profile([], { DurationUntilRemoval: new PlistReal(3600) })],
    [
      'ok/real key given a whole number (decoders may not keep reals apart)',
      profile([], { DurationUntilRemoval: 3600 }),
    ],
    [
      'ok/encrypted profile without PayloadContent',
      {
        ...profile([]),
        PayloadContent: undefined,
        EncryptedPayloadContent: new Uint8Array([1]),
      } as unknown as PlistDict,
    ],
  ])('%s', (_name, p) => {
    const clean = JSON.parse(JSON.stringify(p)) as unknown;
    expect(codes(p)).toEqual([]);
    expect(clean).toBeDefined();
  });

  test.each<[string, PlistDict, [string, string][]]>([
    [
      'fail/unknown key',
      profile([passcode({ minLenght: 6 })]),
      [['PayloadContent[0].minLenght', 'unknown-key']],
    ],
    [
      'fail/string where an integer is expected',
      profile([passcode({ minLength: '6' })]),
      [['PayloadContent[0].minLength', 'wrong-type']],
    ],
    [
      'fail/real where an integer is expected',
      profile([passcode({ minLength: 6.5 })]),
      [['PayloadContent[0].minLength', 'wrong-type']],
    ],
    [
      'fail/PlistReal where an integer is expected',
      profile([passcode({ minLength: new PlistReal(6) })]),
      [['PayloadContent[0].minLength', 'wrong-type']],
    ],
    [
      'fail/string where a real is expected',
      profile([], { DurationUntilRemoval: '3600' }),
      [['DurationUntilRemoval', 'wrong-type']],
    ],
    [
      'fail/integer where a boolean is expected',
      profile([passcode({ forcePIN: 1 })]),
      [['PayloadContent[0].forcePIN', 'wrong-type']],
    ],
    [
      'fail/missing required top-level key',
      { ...profile([]), PayloadUUID: undefined } as unknown as PlistDict,
      [['PayloadUUID', 'missing-key']],
    ],
    [
      'fail/missing required nested key',
      profile([scep({ Keysize: 2048 })]),
      [['PayloadContent[0].PayloadContent.URL', 'missing-key']],
    ],
    [
      'fail/rangelist',
      profile([scep({ URL: 'https://ca', Keysize: 1000 })]),
      [['PayloadContent[0].PayloadContent.Keysize', 'not-in-rangelist']],
    ],
    [
      'fail/rangelist top level',
      profile([], { PayloadType: 'Config' }),
      [['PayloadType', 'not-in-rangelist']],
    ],
    [
      'fail/range',
      profile([passcode({ minLength: 17 })]),
      [['PayloadContent[0].minLength', 'out-of-range']],
    ],
    [
      'fail/format',
      profile([mdm({ ServerURL: 'http://mdm.example.com' })]),
      [['PayloadContent[0].ServerURL', 'format-mismatch']],
    ],
    [
      'fail/repetition in a nested array',
      profile([scep({ URL: 'https://ca', Subject: [[['CN', 'device', 'extra']]] })]),
      [['PayloadContent[0].PayloadContent.Subject[0][0]', 'repetition']],
    ],
    [
      'fail/wrong type deep inside nested arrays',
      profile([scep({ URL: 'https://ca', Subject: [[['CN', 7]]] })]),
      [['PayloadContent[0].PayloadContent.Subject[0][0][1]', 'wrong-type']],
    ],
    [
      'fail/multiple=false payload twice',
      profile([
        payload('com.apple.profileRemovalPassword', { RemovalPassword: 'a' }),
        payload('com.apple.profileRemovalPassword', { RemovalPassword: 'b' }),
      ]),
      [['PayloadContent[1]', 'multiple-payloads']],
    ],
    [
      'fail/unknown payload type',
      profile([payload('com.example.nope', { Foo: 1 })]),
      [['PayloadContent[0].PayloadType', 'unknown-payload-type']],
    ],
    [
      'fail/payload that is not a dictionary',
      { ...profile([]), PayloadContent: ['x'] },
      [['PayloadContent[0]', 'wrong-type']],
    ],
    ['fail/profile that is not a dictionary', ['x'] as unknown as PlistDict, [['', 'wrong-type']]],
    [
      'fail/duplicate payload UUID',
      { ...profile([]), PayloadContent: [passcode({}), passcode({})] },
      [
        ['PayloadContent[1].PayloadUUID', 'duplicate-uuid'],
        ['PayloadContent[1].PayloadIdentifier', 'duplicate-identifier'],
      ],
    ],
  ])('%s', (_name, p, expected) => {
    expect(codes(p)).toEqual(expected);
  });

  test('ok/every issue has a sentence', () => {
    const issues = validateProfile(profile([passcode({ minLength: 'x', nope: true })]));
    expect(issues.length).toBe(2);
    for (const i of issues) expect(i.message).toMatch(/^\S.+\S$/);
  });

  test('fail/too deep a value in a recursive structure stops with too-deep, not a stack overflow', () => {
    let folder: PlistDict = { Type: 'Application', BundleID: 'com.example.app' };
    for (let i = 0; i < 200; i++)
      folder = { Type: 'Folder', DisplayName: `f${i}`, Pages: [[folder]] };
    const p = profile([payload('com.apple.homescreenlayout', { Dock: [folder], Pages: [] })]);
    const found = validateProfile(p).map((i) => i.code);
    expect(found).toEqual(['too-deep']);
  });

  test('ok/a recursive structure of legal depth is walked to the bottom', () => {
    let folder: PlistDict = { Type: 'Application', BundleID: 'com.example.app', Bogus: true };
    for (let i = 0; i < 10; i++)
      folder = { Type: 'Folder', DisplayName: `f${i}`, Pages: [[folder]] };
    const p = profile([payload('com.apple.homescreenlayout', { Dock: [folder], Pages: [] })]);
    const paths = validateProfile(p).map((i) => i.path);
    expect(paths).toEqual([`PayloadContent[0].Dock[0]${'.Pages[0][0]'.repeat(10)}.Bogus`]);
  });
});

describe('checkProfile (compatibility summary)', () => {
  test('ok/no target gives one row per platform', () => {
    const report = checkProfile(profile([passcode({ minLength: 6 })]));
    expect(report.compatibility?.map((r) => r.platform)).toEqual([
      'iOS',
      'macOS',
      'tvOS',
      'visionOS',
      'watchOS',
    ]);
    const ios = report.compatibility?.find((r) => r.platform === 'iOS');
    expect(ios?.available).toBe(true);
    expect(ios?.modes.find((m) => m.mode === 'user-enrollment')?.ok).toBe(true);
  });

  test('ok/with a target there is no summary', () => {
    expect(checkProfile(profile([]), { platform: 'iOS' }).compatibility).toBeUndefined();
  });
});

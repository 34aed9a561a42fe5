import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../src/errors.js';
import { buildProfile, buildProfileFile, uuidV5 } from '../../src/profile/build.js';
import { parseProfileSpec, payloadSpec } from '../../src/profile/spec.js';
import { decodePlist, PlistReal } from '../../src/protocol/plist.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import { validateProfile } from '../../src/profile/validate.js';

const read = (file: string): string => readFileSync(`fixtures/profiles/${file}`, 'utf8');
const issuesOf = (fn: () => unknown): [string, string][] => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('ERR_VALIDATION');
    return (error as ValidationError).issues.map((i) => [i.path, i.code]);
  }
  throw new Error('did not throw');
};

describe('uuidV5', () => {
  test('ok/RFC 9562 test vector (DNS namespace, www.example.com)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ED6657D-E927-568B-95E1-2665A8AEA6A2',
    );
  });
  test('fail/namespace that is not a UUID is API misuse', () => {
    expect(() => uuidV5('x', 'nope')).toThrow(TypeError);
  });
});

describe('buildProfile', () => {
  test.each(['wifi.yaml', 'passcode.json', 'restrictions.yaml'])(
    'ok/%s builds a schema-clean profile',
    (file) => {
      const profile = buildProfile(
        parseProfileSpec(read(file), file.endsWith('.json') ? 'json' : 'yaml'),
      );
      expect(validateProfile(profile).filter((i) => i.severity === 'error')).toEqual([]);
      expect(profile.PayloadType).toBe('Configuration');
      expect(profile.PayloadVersion).toBe(1);
      const [payload] = profile.PayloadContent as PlistDict[];
      expect(payload?.PayloadUUID).toMatch(
        /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/,
      );
    },
  );

  test('ok/same spec, same bytes; different identifiers, different UUIDs', () => {
    const spec = parseProfileSpec(read('wifi.yaml'));
    expect(buildProfileFile(spec).equals(buildProfileFile(spec))).toBe(true);
    const other = buildProfile({ ...spec, PayloadIdentifier: 'com.example.other' });
    expect(other.PayloadUUID).not.toBe(buildProfile(spec).PayloadUUID);
  });

  test('ok/repeated payload types get distinct identifiers and UUIDs', () => {
    const profile = buildProfile({
      PayloadIdentifier: 'com.example.two',
      payloads: [
        { type: 'com.apple.wifi.managed', SSID_STR: 'a' },
        { type: 'com.apple.wifi.managed', SSID_STR: 'b' },
      ],
    });
    const [a, b] = profile.PayloadContent as PlistDict[];
    expect([a?.PayloadIdentifier, b?.PayloadIdentifier]).toEqual([
      'com.example.two.com.apple.wifi.managed',
      'com.example.two.com.apple.wifi.managed.2',
    ]);
    expect(a?.PayloadUUID).not.toBe(b?.PayloadUUID);
  });

  test('ok/given identifiers and UUIDs are kept', () => {
    const profile = buildProfile({
      PayloadIdentifier: 'com.example.given',
      PayloadUUID: 'TOP-UUID',
      payloads: [
        payloadSpec({
          type: 'com.apple.wifi.managed',
          SSID_STR: 'a',
          PayloadIdentifier: 'p.id',
          PayloadUUID: 'P-UUID',
        }),
      ],
    });
    const [p] = profile.PayloadContent as PlistDict[];
    expect([profile.PayloadUUID, p?.PayloadIdentifier, p?.PayloadUUID]).toEqual([
      'TOP-UUID',
      'p.id',
      'P-UUID',
    ]);
  });

  test('ok/values take the plist types the schema asks for (real, data, date)', () => {
    const profile = buildProfile({
      PayloadIdentifier: 'com.example.types',
      DurationUntilRemoval: 3600,
      RemovalDate: '2030-01-01T00:00:00Z',
      payloads: [{ type: 'com.apple.security.root', PayloadContent: 'AQID' }],
    });
    expect(profile.DurationUntilRemoval).toBeInstanceOf(PlistReal);
    expect(profile.RemovalDate).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect((profile.PayloadContent as PlistDict[])[0]?.PayloadContent).toEqual(
      Buffer.from([1, 2, 3]),
    );
    const xml = buildProfileFile({
      PayloadIdentifier: 'x',
      DurationUntilRemoval: 3600,
      payloads: [],
    }).toString('utf8');
    expect(xml).toContain('<real>3600</real>');
  });

  test('ok/binary output decodes to the same profile', () => {
    const spec = parseProfileSpec(read('passcode.json'), 'json');
    const file = buildProfileFile(spec, { format: 'binary' });
    expect(file.subarray(0, 8).toString('latin1')).toBe('bplist00');
    expect(decodePlist(file)).toEqual(buildProfile(spec));
  });

  test.each<[string, string, [string, string][]]>([
    [
      'fail/wifi-broken.yaml lists every problem with its path',
      'wifi-broken.yaml',
      [
        ['PayloadContent[0].EncryptionType', 'not-in-rangelist'],
        ['PayloadContent[0].AutoJoin', 'wrong-type'],
        ['PayloadContent[0].SSID', 'unknown-key'],
      ],
    ],
    [
      'fail/passcode-broken.json lists every problem with its path',
      'passcode-broken.json',
      [
        ['PayloadContent[0].minLength', 'out-of-range'],
        ['PayloadContent[0].maxInactivity', 'wrong-type'],
      ],
    ],
    [
      'fail/not-a-spec.yaml is refused before building',
      'not-a-spec.yaml',
      [
        ['PayloadIdentifier', 'missing-key'],
        ['payloads', 'missing-key'],
      ],
    ],
  ])('%s', (_name, file, expected) => {
    expect(
      issuesOf(() =>
        buildProfile(parseProfileSpec(read(file), file.endsWith('.json') ? 'json' : 'yaml')),
      ),
    ).toEqual(expected);
  });

  test.each<[string, string, 'json' | 'yaml', [string, string][]]>([
    ['fail/JSON syntax', '{"PayloadIdentifier": ', 'json', [['', 'spec-syntax']]],
    ['fail/YAML syntax', 'a: [1, 2', 'yaml', [['', 'spec-syntax']]],
    ['fail/not a dictionary', '[1, 2]', 'yaml', [['', 'spec-shape']]],
    [
      'fail/payload without type',
      'PayloadIdentifier: x\npayloads:\n  - SSID_STR: a\n',
      'yaml',
      [['payloads[0].type', 'missing-key']],
    ],
    [
      'fail/PayloadContent instead of payloads',
      'PayloadIdentifier: x\npayloads: []\nPayloadContent: []\n',
      'yaml',
      [['PayloadContent', 'spec-shape']],
    ],
  ])('%s', (_name, text, format, expected) => {
    expect(issuesOf(() => parseProfileSpec(text, format))).toEqual(expected);
  });

  test('fail/null values have no plist form', () => {
    const spec = parseProfileSpec(
      'PayloadIdentifier: x\npayloads:\n  - type: com.apple.wifi.managed\n    SSID_STR: ~\n',
    );
    expect(issuesOf(() => buildProfile(spec))).toEqual([['payloads[0].SSID_STR', 'spec-null']]);
  });
});

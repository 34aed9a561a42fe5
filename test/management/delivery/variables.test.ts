/**
 * S3: profile variables are found only as exact tokens in string values, resolved per device
 * (sources named, values never shown) and substituted into a copy.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  resolveVariables,
  substituteVariables,
  variablesIn,
} from '../../../src/management/delivery/variables.js';
import { PROFILE_VARIABLES, type ProfileVariable } from '../../../src/management/delivery/types.js';
import type { PlistDict } from '../../../src/protocol/plist.js';
import { context, enrollment, fixtureProfile, IPHONE_FACTS, USER } from './support.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 100);

const wifiWith = (ssid: string, extra: PlistDict = {}): PlistDict => {
  const wifi = fixtureProfile('wifi');
  const [payload] = wifi.PayloadContent as PlistDict[];
  return { ...wifi, PayloadContent: [{ ...payload, SSID_STR: ssid, ...extra }] };
};

describe('S3 variablesIn', () => {
  test('S3 finds every known token in string values, unique, in the list order', () => {
    const content = wifiWith('$OG-$SERIAL', {
      Username: '$USERNAME',
      Extra: ['$SERIAL', { a: '$EMAIL.' }],
    });
    expect(variablesIn(content)).toEqual(['$SERIAL', '$USERNAME', '$EMAIL', '$OG']);
  });

  test('S3 only exact tokens: $FOO, $SERIALX, $CUSTOM_10 and $OG_1 are not variables', () => {
    expect(variablesIn(wifiWith('$FOO $SERIALX $CUSTOM_10 $OG_1 $udid'))).toEqual([]);
    expect(variablesIn(wifiWith('$CUSTOM_1/$CUSTOM_3'))).toEqual(['$CUSTOM_1', '$CUSTOM_3']);
  });

  test('S3 keys and data are not searched', () => {
    const content: PlistDict = { $SERIAL: 'plain', Blob: Buffer.from('$UDID'), When: new Date(0) };
    expect(variablesIn(content)).toEqual([]);
  });
});

describe('S3 resolveVariables', () => {
  const all = [...PROFILE_VARIABLES];

  test('S3 every variable resolves on an owned device enrollment; sources never hold values', () => {
    const r = resolveVariables(all, context());
    // custom2/3 are not set on ann: unresolved, not resolved as empty.
    expect(r.unresolved).toEqual(['$CUSTOM_2', '$CUSTOM_3']);
    expect(Object.fromEntries(r.values)).toEqual({
      $SERIAL: IPHONE_FACTS.SerialNumber,
      $UDID: 'UDID-0001',
      $USERNAME: 'ann',
      $EMAIL: 'ann@example.com',
      $OG: 'Sales',
      $CUSTOM_1: 'cost-center-7',
    } satisfies Partial<Record<ProfileVariable, string>>);
    const json = JSON.stringify(
      resolveVariables(['$SERIAL', '$UDID', '$EMAIL', '$OG'], context()).resolutions,
    );
    for (const secret of [IPHONE_FACTS.SerialNumber, 'UDID-0001', 'ann@example.com', 'Sales'])
      expect(json).not.toContain(secret);
  });

  test('S3 unset custom fields are unresolved and say why', () => {
    const r = resolveVariables(['$CUSTOM_2'], context());
    expect(r.unresolved).toEqual(['$CUSTOM_2']);
    expect(r.resolutions).toEqual([
      { name: '$CUSTOM_2', resolved: false, source: 'user ann: custom2 is empty' },
    ]);
  });

  test('S3 $UDID is unresolved under User Enrollment, $SERIAL when the fact is missing', () => {
    const { SerialNumber: _, ...facts } = IPHONE_FACTS;
    const ue = context(enrollment(facts, 'user-enrollment-device', 'ENROLLMENT-ID-1'));
    const r = resolveVariables(['$SERIAL', '$UDID', '$USERNAME'], ue);
    expect(r.unresolved).toEqual(['$SERIAL', '$UDID']);
    expect(r.resolutions).toEqual([
      { name: '$SERIAL', resolved: false, source: 'enrollment fact SerialNumber: not reported' },
      {
        name: '$UDID',
        resolved: false,
        source: 'User Enrollment keeps the device identifier private',
      },
      { name: '$USERNAME', resolved: true, source: 'user ann: username' },
    ]);
  });

  test('S3 a device nobody owns resolves no user variable', () => {
    const r = resolveVariables(['$USERNAME', '$OG', '$SERIAL'], context(enrollment(), false));
    expect(r.unresolved).toEqual(['$USERNAME', '$OG']);
  });

  test('S3 an empty email is unresolved', () => {
    const device = { ...context(), user: { ...USER, email: '' } };
    expect(resolveVariables(['$EMAIL'], device).unresolved).toEqual(['$EMAIL']);
  });
});

describe('S3 substituteVariables', () => {
  test('S3 replaces tokens in strings only, leaves unknown and unresolved tokens, does not mutate', () => {
    const content = wifiWith('$OG-$SERIAL $FOO $EMAIL', { Blob: Buffer.from('$OG') });
    const before = JSON.stringify(content);
    const values = new Map<ProfileVariable, string>([
      ['$OG', 'Sales'],
      ['$SERIAL', 'F2L'],
    ]);
    const out = substituteVariables(content, values);
    const payload = (out.PayloadContent as PlistDict[])[0]!;
    expect(payload.SSID_STR).toBe('Sales-F2L $FOO $EMAIL');
    expect(Buffer.from(payload.Blob as Uint8Array).toString()).toBe('$OG');
    expect(JSON.stringify(content)).toBe(before);
    expect(out).not.toBe(content);
  });

  test('S3 a value holding a token is not substituted again', () => {
    const out = substituteVariables(wifiWith('$USERNAME'), new Map([['$USERNAME', '$EMAIL']]));
    expect((out.PayloadContent as PlistDict[])[0]!.SSID_STR).toBe('$EMAIL');
  });

  test('S3 property: after substituting every variable found, none is left', () => {
    const piece = fc.oneof(fc.constantFrom(...PROFILE_VARIABLES), fc.string({ maxLength: 4 }));
    // Lower-case values: a `$` before them can never start a new token.
    const value = fc.stringMatching(/^[a-z.@-]{0,8}$/);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), value, (pieces, v) => {
        const content = wifiWith(pieces.join(''));
        const found = variablesIn(content);
        const out = substituteVariables(content, new Map(found.map((name) => [name, v])));
        expect(variablesIn(out)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});

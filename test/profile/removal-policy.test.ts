import { describe, expect, test } from '@jest/globals';
import { ValidationError } from '../../src/errors.js';
import { PlistReal, type PlistDict } from '../../src/protocol/plist-types.js';
import { canRemove } from '../../src/profile/removal.js';
import {
  REMOVAL_PASSWORD_PAYLOAD_TYPE,
  clearRemovalPassword,
  readRemovalSettings,
  removalProfileOf,
  scheduledRemoval,
  setDurationUntilRemoval,
  setRemovalDate,
  setRemovalDisallowed,
  setRemovalPassword,
} from '../../src/profile/removal-policy.js';

function profile(extra: PlistDict = {}): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.wifi',
    PayloadUUID: '9C3E2A4B-1111-4222-8333-444455556666',
    PayloadContent: [
      {
        PayloadType: 'com.apple.wifi.managed',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.wifi.1',
        PayloadUUID: 'A0000000-0000-4000-8000-000000000001',
        SSID_STR: 'corp',
      },
    ],
    ...extra,
  };
}

function passwordPayloads(p: PlistDict): PlistDict[] {
  return (p.PayloadContent as PlistDict[]).filter(
    (x) => x.PayloadType === REMOVAL_PASSWORD_PAYLOAD_TYPE,
  );
}

describe('removal password', () => {
  test('ok/adding a password payload sets HasRemovalPasscode, keeps other payloads', () => {
    const before = profile();
    const after = setRemovalPassword(before, 's3cret', {
      uuid: 'B0000000-0000-4000-8000-000000000002',
    });
    expect(after.HasRemovalPasscode).toBe(true);
    expect(passwordPayloads(after)).toEqual([
      {
        PayloadType: REMOVAL_PASSWORD_PAYLOAD_TYPE,
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.wifi.removal-password',
        PayloadUUID: 'B0000000-0000-4000-8000-000000000002',
        RemovalPassword: 's3cret',
      },
    ]);
    expect((after.PayloadContent as PlistDict[])[0]?.SSID_STR).toBe('corp');
    expect(before.HasRemovalPasscode).toBeUndefined();
    expect(passwordPayloads(before)).toHaveLength(0);
  });

  test('ok/replacing a password keeps one payload and its UUID', () => {
    const once = setRemovalPassword(profile(), 'one', {
      uuid: 'B0000000-0000-4000-8000-000000000002',
    });
    const twice = setRemovalPassword(once, 'two', { uuid: 'C0000000-0000-4000-8000-000000000003' });
    const [only, ...more] = passwordPayloads(twice);
    expect(more).toHaveLength(0);
    expect(only?.RemovalPassword).toBe('two');
    expect(only?.PayloadUUID).toBe('B0000000-0000-4000-8000-000000000002');
  });

  test('ok/a profile without PayloadContent gets one', () => {
    const bare: PlistDict = { PayloadType: 'Configuration', PayloadIdentifier: 'x' };
    const after = setRemovalPassword(bare, 'pw');
    expect(passwordPayloads(after)).toHaveLength(1);
    expect(passwordPayloads(after)[0]?.PayloadUUID).toMatch(/^[0-9A-F-]{36}$/);
  });

  test('ok/clearing removes the payload and HasRemovalPasscode', () => {
    const after = clearRemovalPassword(setRemovalPassword(profile(), 'pw'));
    expect(after.HasRemovalPasscode).toBeUndefined();
    expect(passwordPayloads(after)).toHaveLength(0);
    expect(after.PayloadContent).toHaveLength(1);
  });

  test.each([
    ['fail/empty password', ''],
    ['fail/non-string password', 42 as unknown as string],
  ])('%s throws TypeError', (_n, pw) => {
    expect(() => setRemovalPassword(profile(), pw)).toThrow(TypeError);
  });

  test.each([
    ['fail/IsEncrypted profile', { IsEncrypted: true }],
    ['fail/EncryptedPayloadContent present', { EncryptedPayloadContent: new Uint8Array([1]) }],
    ['fail/PayloadContent not an array', { PayloadContent: 'nope' }],
  ])('%s is a ValidationError', (_n, extra) => {
    const p = profile(extra);
    for (const op of [() => setRemovalPassword(p, 'pw'), () => clearRemovalPassword(p)]) {
      let caught: unknown;
      try {
        op();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).code).toBe('ERR_VALIDATION');
    }
  });
});

describe('removal keys', () => {
  test('ok/PayloadRemovalDisallowed on and off', () => {
    const on = setRemovalDisallowed(profile(), true);
    expect(on.PayloadRemovalDisallowed).toBe(true);
    expect('PayloadRemovalDisallowed' in setRemovalDisallowed(on, false)).toBe(false);
  });

  test('ok/RemovalDate set (copied) and cleared', () => {
    const date = new Date('2030-01-02T03:04:05Z');
    const on = setRemovalDate(profile(), date);
    expect(on.RemovalDate).toEqual(date);
    expect(on.RemovalDate).not.toBe(date);
    expect('RemovalDate' in setRemovalDate(on, undefined)).toBe(false);
  });

  test('ok/DurationUntilRemoval is a real, set and cleared', () => {
    const on = setDurationUntilRemoval(profile(), 3600);
    expect(on.DurationUntilRemoval).toBeInstanceOf(PlistReal);
    expect(Number(on.DurationUntilRemoval)).toBe(3600);
    expect('DurationUntilRemoval' in setDurationUntilRemoval(on, undefined)).toBe(false);
  });

  test.each([
    ['fail/invalid date', () => setRemovalDate(profile(), new Date('nope'))],
    ['fail/zero duration', () => setDurationUntilRemoval(profile(), 0)],
    ['fail/negative duration', () => setDurationUntilRemoval(profile(), -5)],
    ['fail/infinite duration', () => setDurationUntilRemoval(profile(), Infinity)],
  ])('%s throws TypeError', (_n, op) => {
    expect(op).toThrow(TypeError);
  });
});

describe('readRemovalSettings and scheduledRemoval', () => {
  const installed = new Date('2030-01-01T00:00:00Z');

  test('ok/plain profile has no controls', () => {
    expect(readRemovalSettings(profile())).toEqual({
      removalDisallowed: false,
      hasRemovalPassword: false,
    });
    expect(scheduledRemoval(profile(), installed)).toBeUndefined();
  });

  test('ok/an encrypted profile reports its password through HasRemovalPasscode', () => {
    const p: PlistDict = {
      PayloadType: 'Configuration',
      IsEncrypted: true,
      HasRemovalPasscode: true,
    };
    expect(readRemovalSettings(p).hasRemovalPassword).toBe(true);
  });

  test('ok/a password payload counts even without HasRemovalPasscode', () => {
    const p = setRemovalPassword(profile(), 'pw');
    delete p.HasRemovalPasscode;
    expect(readRemovalSettings(p).hasRemovalPassword).toBe(true);
  });

  test.each([
    ['ok/duration only', undefined, 60, '2030-01-01T00:01:00.000Z'],
    ['ok/date only', '2030-06-01T00:00:00Z', undefined, '2030-06-01T00:00:00.000Z'],
    ['ok/date earlier than duration wins', '2030-01-01T00:00:30Z', 60, '2030-01-01T00:00:30.000Z'],
    [
      'ok/duration earlier than date wins',
      '2030-06-01T00:00:00Z',
      86400,
      '2030-01-02T00:00:00.000Z',
    ],
  ])('%s', (_n, date, seconds, expected) => {
    let p = setRemovalDate(profile(), date === undefined ? undefined : new Date(date));
    p = setDurationUntilRemoval(p, seconds);
    expect(scheduledRemoval(p, installed)?.toISOString()).toBe(expected);
  });

  test('ok/a decoded plain-number duration is read too', () => {
    expect(readRemovalSettings(profile({ DurationUntilRemoval: 2.5 })).durationUntilRemoval).toBe(
      2.5,
    );
  });
});

describe('removalProfileOf feeds canRemove', () => {
  test('ok/a locked manual profile on supervised iOS needs its password', () => {
    const p = setRemovalDisallowed(setRemovalPassword(profile(), 'pw'), true);
    const facts = removalProfileOf(p, 'manual');
    expect(facts).toEqual({
      kind: 'configuration',
      installedBy: 'manual',
      removalDisallowed: true,
      hasRemovalPassword: true,
    });
    const device = { platform: 'iOS', supervised: true, enrollment: 'device' } as const;
    expect(canRemove({ profile: facts, device, requester: 'user' }).outcome).toBe('needs-password');
  });

  test('ok/a com.apple.mdm payload makes it the enrollment profile, with its scope', () => {
    const p = profile({
      PayloadScope: 'User',
      PayloadContent: [{ PayloadType: 'com.apple.mdm', PayloadIdentifier: 'm', PayloadUUID: 'u' }],
    });
    expect(removalProfileOf(p, 'this-mdm')).toMatchObject({ kind: 'enrollment', scope: 'User' });
  });
});

/**
 * S8: removal controls override what an upload said about removal: Always sends no lock, With
 * Authorization adds a deterministic removal password payload the schema accepts, Never sets
 * PayloadRemovalDisallowed only for supervised targets and never for User Enrollment (M7).
 */
import { describe, expect, test } from '@jest/globals';
import {
  applyRemovalControl,
  generateRemovalPassword,
  REMOVAL_PASSWORD_ALPHABET,
  removalControlPossible,
} from '../../../src/management/delivery/removal-control.js';
import { deviceTargetOf } from '../../../src/management/delivery/target.js';
import type { DeviceTarget } from '../../../src/management/delivery/types.js';
import { profileCompatibility, validateProfile } from '../../../src/profile/validate.js';
import { setRemovalPassword } from '../../../src/profile/removal-policy.js';
import type { PlistDict } from '../../../src/protocol/plist.js';
import { enrollment, fixtureProfile, IPHONE_FACTS } from './support.js';

const PASSWORD = 'Secret-Removal-Password-1';
const supervised = deviceTargetOf(enrollment({ ...IPHONE_FACTS, IsSupervised: true }));
const unsupervised = deviceTargetOf(enrollment(IPHONE_FACTS));
const userEnrollment = deviceTargetOf(enrollment(IPHONE_FACTS, 'user-enrollment-device'));
const mac = deviceTargetOf(
  enrollment({ ProductName: 'Mac14,2', OSVersion: '14.0', IsSupervised: false }),
);

/** The restrictions fixture: uploaded with PayloadRemovalDisallowed and a password of its own. */
const uploaded = setRemovalPassword(fixtureProfile('restrictions'), 'uploader-password', {
  uuid: '11111111-2222-4333-8444-555555555555',
});
const wifi = fixtureProfile('wifi');

const passwords = (p: PlistDict) =>
  (p.PayloadContent as PlistDict[]).filter(
    (x) => x.PayloadType === 'com.apple.profileRemovalPassword',
  );
const errors = (p: PlistDict, t: DeviceTarget) =>
  validateProfile(p, {
    platform: t.platform ?? 'iOS',
    supervised: t.supervised === true,
    enrollment: t.enrollment,
  }).filter((i) => i.severity === 'error');

describe('S8 always', () => {
  test('S8 always takes out PayloadRemovalDisallowed and any removal password', () => {
    const before = JSON.stringify(uploaded);
    const { content, effect } = applyRemovalControl(uploaded, { removal: 'always' }, supervised);
    expect(content.PayloadRemovalDisallowed).toBeUndefined();
    expect(content.HasRemovalPasscode).toBeUndefined();
    expect(passwords(content)).toEqual([]);
    expect(effect).toBe('sent without PayloadRemovalDisallowed or a removal password');
    expect(JSON.stringify(uploaded)).toBe(before);
  });
});

describe('S8 with-authorization', () => {
  const control = { removal: 'with-authorization', removalPassword: PASSWORD } as const;

  test('S8 adds a removal password payload the schema accepts, the same body every time', () => {
    const a = applyRemovalControl(wifi, control, supervised);
    const b = applyRemovalControl(wifi, control, supervised);
    expect(JSON.stringify(a.content)).toBe(JSON.stringify(b.content));
    expect(a.effect).toBe('a removal password payload is added');
    expect(passwords(a.content)).toEqual([
      {
        PayloadType: 'com.apple.profileRemovalPassword',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.orchard.wifi.removal-password',
        PayloadUUID: expect.stringMatching(
          /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/,
        ),
        RemovalPassword: PASSWORD,
      },
    ]);
    expect(a.content.PayloadRemovalDisallowed).toBeUndefined();
    expect(a.content.HasRemovalPasscode).toBe(true);
    expect(errors(a.content, supervised)).toEqual([]);
    expect(errors(a.content, mac)).toEqual([]);
    // Another profile (another PayloadUUID) gets another payload UUID.
    const other = applyRemovalControl(
      { ...wifi, PayloadUUID: 'AAAAAAAA-0000-4000-8000-000000000000' },
      control,
      supervised,
    );
    expect(passwords(other.content)[0]!.PayloadUUID).not.toBe(passwords(a.content)[0]!.PayloadUUID);
  });

  test('S8 replaces an uploaded password with Orchard’s own without mutating the input', () => {
    const before = JSON.stringify(uploaded);
    const { content } = applyRemovalControl(uploaded, control, supervised);
    expect(passwords(content)).toHaveLength(1);
    expect(passwords(content)[0]).toMatchObject({
      RemovalPassword: PASSWORD,
      PayloadIdentifier: 'com.example.orchard.restrictions.removal-password',
    });
    expect(passwords(content)[0]!.PayloadUUID).not.toBe('11111111-2222-4333-8444-555555555555');
    expect(content.PayloadRemovalDisallowed).toBeUndefined();
    expect(JSON.stringify(uploaded)).toBe(before);
  });

  test('S8 on an unsupervised iPhone it is added but noted as not honoured', () => {
    const { content, effect } = applyRemovalControl(wifi, control, unsupervised);
    expect(passwords(content)).toHaveLength(1);
    expect(effect).toBe(
      'a removal password payload is added (not honoured: the device is not supervised)',
    );
    expect(errors(content, unsupervised)).toEqual([]);
  });

  test('S8 not added under User Enrollment, noted', () => {
    const { content, effect } = applyRemovalControl(uploaded, control, userEnrollment);
    expect(passwords(content)).toEqual([]);
    expect(content.PayloadRemovalDisallowed).toBeUndefined();
    expect(effect).toBe('not honoured: User Enrollment does not allow a removal password');
  });

  test('fail/with-authorization without the password is API misuse', () => {
    expect(() => applyRemovalControl(wifi, { removal: 'with-authorization' }, supervised)).toThrow(
      TypeError,
    );
  });
});

describe('S8 never', () => {
  test('S8 sets PayloadRemovalDisallowed on a supervised device', () => {
    const { content, effect } = applyRemovalControl(uploaded, { removal: 'never' }, supervised);
    expect(content.PayloadRemovalDisallowed).toBe(true);
    expect(passwords(content)).toEqual([]);
    expect(effect).toBe('PayloadRemovalDisallowed is set');
  });

  test('S8 an unsupervised (or not yet reported) device gets no lock, and the trace says so', () => {
    const plain = applyRemovalControl(uploaded, { removal: 'never' }, unsupervised);
    expect(plain.content.PayloadRemovalDisallowed).toBeUndefined();
    expect(plain.effect).toBe('not honoured: the device is not supervised');
    const { IsSupervised: _, ...facts } = IPHONE_FACTS;
    const unknown = applyRemovalControl(
      uploaded,
      { removal: 'never' },
      deviceTargetOf(enrollment(facts)),
    );
    expect(unknown.content.PayloadRemovalDisallowed).toBeUndefined();
    expect(unknown.effect).toMatch(/^not honoured: the device has not reported supervision yet/);
  });

  test('S8 an ADE enrollment is supervised, whatever IsSupervised says', () => {
    const ade: DeviceTarget = { ...unsupervised, enrollment: 'ade' };
    const { content, effect } = applyRemovalControl(wifi, { removal: 'never' }, ade);
    expect(content.PayloadRemovalDisallowed).toBe(true);
    expect(effect).toBe('PayloadRemovalDisallowed is set');
  });

  test('M7 PayloadRemovalDisallowed is never sent to a User Enrollment', () => {
    const ueSupervised: DeviceTarget = { ...userEnrollment, supervised: true };
    for (const removal of ['always', 'with-authorization', 'never'] as const) {
      const { content } = applyRemovalControl(
        uploaded,
        { removal, removalPassword: PASSWORD },
        ueSupervised,
      );
      expect(content.PayloadRemovalDisallowed).toBeUndefined();
      expect(passwords(content)).toEqual([]);
    }
  });
});

describe('generateRemovalPassword', () => {
  test('ok/24 characters from the unambiguous alphabet, different every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = generateRemovalPassword();
      expect(p).toHaveLength(24);
      for (const c of p) expect(REMOVAL_PASSWORD_ALPHABET).toContain(c);
      seen.add(p);
    }
    expect(seen.size).toBe(50);
    expect(REMOVAL_PASSWORD_ALPHABET).not.toMatch(/[0O1lI]/);
  });
});

describe('removalControlPossible', () => {
  test('S8 a profile some supervised device accepts can be made non-removable', () => {
    expect(removalControlPossible(profileCompatibility(fixtureProfile('restrictions')))).toBe(true);
    expect(removalControlPossible(profileCompatibility(wifi))).toBe(true);
  });

  test('S8 a profile only platforms without the lock accept cannot', () => {
    const only = profileCompatibility(wifi).map((c) =>
      c.platform === 'watchOS' ? c : { ...c, available: false, modes: [] },
    );
    expect(removalControlPossible(only)).toBe(false);
    expect(removalControlPossible([])).toBe(false);
  });
});

/**
 * M7: the compatibility filter judges a profile version against a device with the pinned Apple
 * schema, check by check in words; unknown facts are judged on the safe side; verdicts are
 * cached by (profile, version, target key) in a bounded LRU.
 */
import { describe, expect, test } from '@jest/globals';
import {
  createCompatibilityJudge,
  judgeCompatibility,
} from '../../../src/management/delivery/compatibility.js';
import { deviceTargetOf } from '../../../src/management/delivery/target.js';
import type { CompatibilityVerdict } from '../../../src/management/delivery/types.js';
import { enrollment, fixtureProfile, IPHONE_FACTS, libraryProfile } from './support.js';

const restrictions = fixtureProfile('restrictions');
const wifi = fixtureProfile('wifi');
const iphone = (
  facts: Record<string, unknown> = IPHONE_FACTS,
  type: Parameters<typeof enrollment>[1] = 'device',
) => deviceTargetOf(enrollment(facts, type));

const check = (v: CompatibilityVerdict, name: string) => v.checks.find((c) => c.check === name);

describe('M7 compatibility', () => {
  test('M7 a supervised-only restriction on an unsupervised iPhone is incompatible, in words', () => {
    const v = judgeCompatibility(restrictions, iphone());
    expect(v.ok).toBe(false);
    expect(v.reason).toMatch(/^allowAppClips needs a supervised device; /);
    expect(check(v, 'supervision')).toMatchObject({ ok: false });
    expect(check(v, 'platform')).toEqual({
      check: 'platform',
      ok: true,
      detail: 'available on iOS',
    });
    expect(check(v, 'os-version')).toEqual({
      check: 'os-version',
      ok: true,
      detail: 'available on iOS 17.4',
    });
    expect(v.checks.map((c) => c.check)).toEqual([
      'platform',
      'os-version',
      'supervision',
      'enrollment-type',
      'channel',
      'payload',
    ]);
  });

  test('ok/the same restriction on a supervised iPhone is compatible', () => {
    const v = judgeCompatibility(restrictions, iphone({ ...IPHONE_FACTS, IsSupervised: true }));
    expect(v).toMatchObject({ ok: true });
    expect(v.reason).toBeUndefined();
    expect(check(v, 'supervision')?.detail).toBe('the device is supervised');
  });

  test('M7 unknown supervision is judged as unsupervised (the safe side)', () => {
    const { IsSupervised: _, ...facts } = IPHONE_FACTS;
    expect(judgeCompatibility(restrictions, iphone(facts)).ok).toBe(false);
    const v = judgeCompatibility(wifi, iphone(facts));
    expect(v.ok).toBe(true);
    expect(check(v, 'supervision')?.detail).toMatch(/not reported yet: judged as unsupervised/);
  });

  test('M7 an unknown platform is skipped: platform not reported yet', () => {
    const v = judgeCompatibility(wifi, iphone({ SerialNumber: 'X' }));
    expect(v).toEqual({
      ok: false,
      checks: [{ check: 'platform', ok: false, detail: 'platform not reported yet' }],
      reason: 'platform not reported yet',
    });
  });

  test('M7 an unknown OS version is not checked; a known older one fails os-version', () => {
    const { OSVersion: _, ...facts } = IPHONE_FACTS;
    const unknown = judgeCompatibility(restrictions, iphone({ ...facts, IsSupervised: true }));
    expect(unknown.ok).toBe(true);
    expect(check(unknown, 'os-version')?.detail).toBe(
      'OS version not reported yet: versions not checked',
    );
    const old = judgeCompatibility(
      restrictions,
      iphone({ ...IPHONE_FACTS, OSVersion: '16.0', IsSupervised: true }),
    );
    expect(old.ok).toBe(false);
    expect(old.reason).toBe('allowiPhoneWidgetsOnMac needs iOS 17.0 or later');
    expect(check(old, 'os-version')?.ok).toBe(false);
  });

  test('M7 platform: iPhone restrictions on a Mac are unavailable', () => {
    const mac = deviceTargetOf(
      enrollment({ ProductName: 'Mac14,2', OSVersion: '14.0', IsSupervised: false }),
    );
    const v = judgeCompatibility(restrictions, mac);
    expect(check(v, 'platform')).toMatchObject({ ok: false });
    expect(v.reason).toMatch(/is not available on macOS/);
    expect(v.reason).toMatch(/; and \d+ more$/);
  });

  test('M7 enrollment type: User Enrollment forbids the restriction keys', () => {
    const v = judgeCompatibility(restrictions, iphone(IPHONE_FACTS, 'user-enrollment-device'));
    expect(check(v, 'enrollment-type')).toMatchObject({ ok: false });
    expect(check(v, 'enrollment-type')?.detail).toMatch(/is not allowed in User Enrollment/);
  });

  test('ok/PayloadRemovalDisallowed the device would not honour is no reason to skip', () => {
    // The restrictions fixture carries PayloadRemovalDisallowed; wifi with it on an unsupervised iPhone.
    const v = judgeCompatibility({ ...wifi, PayloadRemovalDisallowed: true }, iphone());
    expect(v.ok).toBe(true);
  });

  test('fail/payload findings outside the target checks land in payload', () => {
    const broken = { ...wifi, PayloadContent: [{ PayloadType: 'com.apple.wifi.managed' }] };
    const v = judgeCompatibility(broken, iphone());
    expect(check(v, 'payload')).toMatchObject({ ok: false });
    expect(v.reason).toMatch(/^PayloadContent\[0\]/);
  });
});

describe('createCompatibilityJudge', () => {
  const profile = libraryProfile('restrictions');

  test('ok/a hit answers from the cache: same verdict, content not looked at again', () => {
    const judge = createCompatibilityJudge();
    const first = judge.judge(profile, 1, restrictions, iphone());
    const again = judge.judge(
      profile,
      1,
      wifi,
      deviceTargetOf(enrollment(IPHONE_FACTS, 'device', 'UDID-2')),
    );
    expect(again).toBe(first);
    expect(again.ok).toBe(false);
    // Another version, or another kind of device, is judged afresh.
    expect(judge.judge(profile, 2, wifi, iphone()).ok).toBe(true);
    expect(judge.judge(profile, 1, wifi, iphone({ ...IPHONE_FACTS, OSVersion: '17.5' })).ok).toBe(
      true,
    );
  });

  test('ok/the cache is bounded and evicts the least recently used verdict', () => {
    const judge = createCompatibilityJudge({ maxEntries: 2 });
    const a = iphone({ ...IPHONE_FACTS, OSVersion: '17.1' });
    const b = iphone({ ...IPHONE_FACTS, OSVersion: '17.2' });
    const c = iphone({ ...IPHONE_FACTS, OSVersion: '17.3' });
    judge.judge(profile, 1, restrictions, a);
    judge.judge(profile, 1, restrictions, b);
    judge.judge(profile, 1, restrictions, a); // a is now the most recent
    judge.judge(profile, 1, restrictions, c); // evicts b
    expect(judge.judge(profile, 1, wifi, a).ok).toBe(false); // still cached
    expect(judge.judge(profile, 1, wifi, b).ok).toBe(true); // judged again
  });

  test('ok/cached verdicts are frozen so no caller can change another caller’s answer', () => {
    const v = createCompatibilityJudge().judge(profile, 1, restrictions, iphone());
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.checks[0])).toBe(true);
  });

  test('fail/maxEntries must be a positive integer', () => {
    expect(() => createCompatibilityJudge({ maxEntries: 0 })).toThrow(TypeError);
  });

  test('ok/100,000 judgements of 4 kinds of device read the content only on the 4 misses', () => {
    const judge = createCompatibilityJudge();
    const targets = ['17.1', '17.2', '17.3', '17.4'].map((v) =>
      iphone({ ...IPHONE_FACTS, OSVersion: v }),
    );
    let validated = 0;
    const counting = new Proxy(restrictions, {
      ownKeys(t) {
        validated++;
        return Reflect.ownKeys(t);
      },
    });
    for (const t of targets) judge.judge(profile, 1, counting, t);
    const afterMisses = validated;
    expect(afterMisses).toBeGreaterThan(0);
    for (let i = 0; i < 100_000; i++) judge.judge(profile, 1, counting, targets[i % 4]!);
    expect(validated).toBe(afterMisses);
  });
});

import { describe, expect, test } from '@jest/globals';
import { findSkipKey, SKIP_KEYS } from '../../src/schema/skip-keys.js';
import type { Target } from '../../src/schema/target.js';
import { findingsFor } from '../../src/schema/target.js';

describe('Setup Assistant skip keys (26.4)', () => {
  test.each([
    'Tips',
    'Multitasking',
    'OSShowcase',
    'SafetyAndHandling',
    'UnlockWithWatch',
    'WebContentFiltering',
  ])('ok/%s, new since 18.1, is listed', (key) => {
    expect(SKIP_KEYS).toContain(key);
    expect(findSkipKey(key)).toBeDefined();
  });

  test('fail/an unknown skip key has no facts', () => {
    expect(findSkipKey('NoSuchPane')).toBeUndefined();
  });

  test.each<[string, string, Target, string[]]>([
    ['ok/Wallpaper on macOS 15', 'Wallpaper', { platform: 'macOS', osVersion: '15.0' }, []],
    [
      'fail/Wallpaper on macOS 26.0 was removed',
      'Wallpaper',
      { platform: 'macOS', osVersion: '26.0' },
      ['removed'],
    ],
    [
      'fail/Wallpaper on iOS is unavailable',
      'Wallpaper',
      { platform: 'iOS', osVersion: '26.0' },
      ['unavailable'],
    ],
    [
      'ok/Tips inherits visionOS 26.0 from the list',
      'Tips',
      { platform: 'visionOS', osVersion: '26.0' },
      [],
    ],
  ])('%s', (_name, key, target, codes) => {
    expect(findingsFor(findSkipKey(key), target).map((f) => f.code)).toEqual(codes);
  });
});

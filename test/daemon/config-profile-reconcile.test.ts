/**
 * `--profile-reconcile-interval` and `ORCHARD_PROFILE_RECONCILE_INTERVAL`: how often each
 * enrolled device's profiles are compared with a ProfileList (default 24h, at least 5m), refusals
 * naming the flag, and the flag in `orchard serve --help`.
 */
import { describe, expect, test } from '@jest/globals';
import { FLAGS, resolveConfig } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/index.js';
import { orchard } from '../support/cli.js';

const HOUR = 3_600_000;

describe('--profile-reconcile-interval', () => {
  test.each([
    ['ok/absent: a day', {}, {}, 24 * HOUR],
    ['ok/6h', { profileReconcileInterval: '6h' }, {}, 6 * HOUR],
    ['ok/30m', { profileReconcileInterval: '30m' }, {}, 30 * 60_000],
    ['ok/86400s', { profileReconcileInterval: '86400s' }, {}, 24 * HOUR],
    ['ok/exactly 5m', { profileReconcileInterval: '5m' }, {}, 5 * 60_000],
    ['ok/the variable', {}, { ORCHARD_PROFILE_RECONCILE_INTERVAL: '2d' }, 48 * HOUR],
    [
      'ok/the flag wins over the variable',
      { profileReconcileInterval: '12h' },
      { ORCHARD_PROFILE_RECONCILE_INTERVAL: '2d' },
      12 * HOUR,
    ],
  ])('%s', (_name, flags, env, ms) => {
    expect(resolveConfig(flags, env).profileReconcileIntervalMs).toBe(ms);
  });

  test.each([
    ['fail/under five minutes', '4m', /at least 5m/],
    ['fail/299 seconds', '299s', /at least 5m/],
    ['fail/no unit', '3600', /expected a duration/],
    ['fail/zero', '0h', /expected a duration/],
    ['fail/words', 'daily', /expected a duration/],
  ])('%s (%s) names the flag', (_name, value, message) => {
    let error: unknown;
    try {
      resolveConfig({ profileReconcileInterval: value }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'ERR_CONFIG', flag: '--profile-reconcile-interval' });
    expect((error as Error).message).toMatch(message);
  });

  test('ok/listed in orchard serve --help with its variable', async () => {
    expect(FLAGS.map((f) => f.name)).toContain('profile-reconcile-interval');
    const run = await orchard('serve', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--profile-reconcile-interval <duration>');
    expect(run.stdout).toContain('ORCHARD_PROFILE_RECONCILE_INTERVAL');
  }, 60_000);
});

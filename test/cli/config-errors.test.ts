/** A ConfigError names the `ORCHARD_*` variable when the bad value came from the environment. */
import { describe, expect, test } from '@jest/globals';
import { attributeConfigError } from '../../src/cli/config-errors.js';
import type { RawValues } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/index.js';

describe('attributeConfigError', () => {
  const error = new ConfigError('--data-dir', 'no database at /x');
  test.each([
    [
      'ok/from the environment: names the variable',
      {},
      { ORCHARD_DATA_DIR: '/x' },
      'ORCHARD_DATA_DIR: no database at /x',
    ],
    [
      'ok/from the command line (camelCase key)',
      { dataDir: '/x' },
      { ORCHARD_DATA_DIR: '/y' },
      '--data-dir: no database at /x',
    ],
    [
      'ok/from the command line (flag name key)',
      { 'data-dir': '/x' },
      { ORCHARD_DATA_DIR: '/y' },
      '--data-dir: no database at /x',
    ],
    ['ok/from neither (a default): names the flag', {}, {}, '--data-dir: no database at /x'],
  ] as [string, RawValues, Record<string, string>, string][])(
    '%s',
    (_name, values, env, message) => {
      const named = attributeConfigError(error, values, env);
      expect(named).toBeInstanceOf(ConfigError);
      expect(named.message).toBe(message);
      expect(named.code).toBe('ERR_CONFIG');
    },
  );

  test('ok/the variable-named error keeps the original as its cause', () => {
    const named = attributeConfigError(error, {}, { ORCHARD_DATA_DIR: '/x' });
    expect([named.flag, named.cause]).toEqual(['ORCHARD_DATA_DIR', error]);
  });
});

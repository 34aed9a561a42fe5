/** `--push-p12-password-file` (and `ORCHARD_PUSH_P12_PASSWORD_FILE`): the password kept out of `ps`. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAGS, resolveConfig, type RawValues } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/index.js';

// Made now, not in beforeAll: the tables below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'orchard-p12-password-'));
beforeAll(() => {
  writeFileSync(join(dir, 'pw'), 'sesame\n');
  writeFileSync(join(dir, 'crlf'), 'sesame\r\n');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the PKCS#12 password from a file', () => {
  test('ok/is a flag of orchard serve', () => {
    expect(FLAGS.map((f) => f.name)).toContain('push-p12-password-file');
  });

  test.each([
    ['ok/flag', { pushP12: '/p.p12', pushP12PasswordFile: join(dir, 'pw') }, {}],
    ['ok/CRLF line end', { pushP12: '/p.p12', pushP12PasswordFile: join(dir, 'crlf') }, {}],
    [
      'ok/variables',
      {},
      { ORCHARD_PUSH_P12: '/p.p12', ORCHARD_PUSH_P12_PASSWORD_FILE: join(dir, 'pw') },
    ],
  ] as [string, RawValues, Record<string, string>][])(
    '%s: one trailing newline dropped',
    (_name, flags, env) => {
      expect(resolveConfig(flags, env).push).toEqual({
        kind: 'p12',
        file: '/p.p12',
        password: 'sesame',
      });
    },
  );

  test.each([
    [
      'fail/a missing file',
      { pushP12: '/p.p12', pushP12PasswordFile: '/no/such/pw' },
      '--push-p12-password-file',
      /cannot read \/no\/such\/pw \(ENOENT\)/,
    ],
    [
      'fail/with --push-p12-password too',
      { pushP12: '/p.p12', pushP12Password: 'x', pushP12PasswordFile: '/pw' },
      '--push-p12-password-file',
      /either/,
    ],
    [
      'fail/without --push-p12',
      { pushP12PasswordFile: '/pw' },
      '--push-p12-password-file',
      /needs --push-p12/,
    ],
  ] as [string, RawValues, string, RegExp][])('%s', (_name, flags, flag, message) => {
    let error: unknown;
    try {
      resolveConfig(flags, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).flag).toBe(flag);
    expect((error as ConfigError).message).toMatch(message);
  });
});

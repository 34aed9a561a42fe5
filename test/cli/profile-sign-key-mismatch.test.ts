/**
 * Issue 12 #10: `orchard profile sign` with a `--key` that is not the key of `--cert` prints
 * `orchard profile sign: ... [ERR_SIGNER_KEY_MISMATCH]` naming both files and the certificate's
 * subject, exits 1, and writes no output (no file, nothing on standard output).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePlist } from '../../src/protocol/plist.js';
import { createTestPki, sampleProfile, type TestPki } from '../profile/sign-fixtures.js';
import { orchard } from '../support/cli.js';

// Each case starts `node` with tsx; on two busy cores that takes a while.
jest.setTimeout(120_000);

let pki: TestPki;
let plain: string;
beforeAll(async () => {
  pki = await createTestPki();
  plain = join(pki.dir, 'plain.mobileconfig');
  await writeFile(plain, encodePlist(sampleProfile()));
});
afterAll(async () => {
  await pki.cleanup();
});

describe('issue 12 #10: orchard profile sign with a key that does not match the certificate', () => {
  test.each([
    ['RSA certificate, another RSA key', 'rsaSigner', 'device', 'rsa-signer'],
    ['RSA certificate, an EC key', 'rsaSigner', 'ecSigner', 'rsa-signer'],
    ['EC certificate, an RSA key', 'ecSigner', 'rsaSigner', 'ec-signer'],
  ] as const)(
    'fail/%s exits 1 with ERR_SIGNER_KEY_MISMATCH and writes no file',
    async (_name, certOf, keyOf, cn) => {
      const out = join(pki.dir, `${certOf}-${keyOf}.signed`);
      const cert = pki[certOf].certPath;
      const key = pki[keyOf].keyPath;
      const r = await orchard(
        'profile',
        'sign',
        '--in',
        plain,
        '--cert',
        cert,
        '--key',
        key,
        '--out',
        out,
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^orchard profile sign: .*\[ERR_SIGNER_KEY_MISMATCH\]\n$/);
      expect(r.stderr).toContain(cert);
      expect(r.stderr).toContain(key);
      expect(r.stderr).toContain(`CN=Orchard Test ${cn}`);
      expect(existsSync(out)).toBe(false);
    },
  );

  test('fail/with --out - nothing reaches standard output', async () => {
    const r = await orchard(
      'profile',
      'sign',
      '--in',
      plain,
      '--cert',
      pki.ecSigner.certPath,
      '--key',
      pki.device.keyPath,
      '--out',
      '-',
    );
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/\[ERR_SIGNER_KEY_MISMATCH\]/);
  });
});

import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePlist } from '../../src/protocol/plist.js';
import { signProfile } from '../../src/profile/sign.js';
import { createTestPki, openssl, sampleProfile, type TestPki } from '../profile/sign-fixtures.js';
import { orchard } from '../support/cli.js';

// Each case starts `node` with tsx several times; on two busy cores that takes a while.
jest.setTimeout(120_000);

let pki: TestPki;
let plain: string;
beforeAll(async () => {
  pki = await createTestPki();
  plain = join(pki.dir, 'plain.mobileconfig');
  await writeFile(plain, encodePlist(sampleProfile()));
  // A bundle file: the signer's certificate followed by its intermediate.
  await writeFile(join(pki.dir, 'ec-bundle.pem'), pki.ecSigner.cert + pki.intermediate.cert);
});
afterAll(async () => {
  await pki.cleanup();
});

function path(name: string): string {
  return join(pki.dir, name);
}

describe('orchard profile sign / verify', () => {
  test('ok/sign with RSA and ECDSA (chain by --chain and by bundle); openssl and verify accept both', async () => {
    const [rsa, ec] = await Promise.all([
      orchard(
        'profile',
        'sign',
        '--in',
        plain,
        '--cert',
        pki.rsaSigner.certPath,
        '--key',
        pki.rsaSigner.keyPath,
        '--chain',
        pki.intermediate.certPath,
        '--out',
        path('rsa.signed'),
      ),
      orchard(
        'profile',
        'sign',
        '--in',
        plain,
        '--cert',
        path('ec-bundle.pem'),
        '--key',
        pki.ecSigner.keyPath,
        '--out',
        path('ec.signed'),
      ),
    ]);
    expect([rsa.code, rsa.stderr, ec.code, ec.stderr]).toEqual([0, '', 0, '']);
    for (const name of ['rsa.signed', 'ec.signed']) {
      const { stdout } = await openssl(pki.dir, [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        path(name),
        '-CAfile',
        pki.root.certPath,
        '-purpose',
        'any',
      ]);
      expect(stdout.equals(await readFile(plain))).toBe(true);
    }
    const [vr, ve] = await Promise.all([
      orchard('profile', 'verify', '--in', path('rsa.signed'), '--ca', pki.root.certPath),
      orchard(
        'profile',
        'verify',
        '--in',
        path('ec.signed'),
        '--ca',
        pki.foreignRoot.certPath,
        '--ca',
        pki.root.certPath,
      ),
    ]);
    expect(vr.code).toBe(0);
    const report = JSON.parse(vr.stdout);
    expect(report.signer.subject).toBe('CN=Orchard Test rsa-signer');
    expect(report.trusted).toBe(true);
    expect(report.chain).toHaveLength(3);
    expect(report.profile.PayloadIdentifier).toBe('com.example.orchard.test');
    expect(ve.code).toBe(0);
    expect(JSON.parse(ve.stdout).signer.subject).toBe('CN=Orchard Test ec-signer');
  });

  test('ok/sign writes to standard output with --out -', async () => {
    const r = await orchard(
      'profile',
      'sign',
      '--in',
      plain,
      '--cert',
      pki.rsaSigner.certPath,
      '--key',
      pki.rsaSigner.keyPath,
      '--out',
      '-',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(1000);
  });

  test('fail/verify: unsigned, tampered, foreign CA, unreadable file all exit 1', async () => {
    const signed = signProfile(sampleProfile(), {
      certificate: pki.rsaSigner.cert,
      privateKey: pki.rsaSigner.key,
    });
    await writeFile(path('lib.signed'), signed);
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf('Orchard Corp');
    tampered[at] = 'Q'.charCodeAt(0);
    await writeFile(path('tampered.signed'), tampered);
    const runs = await Promise.all([
      orchard('profile', 'verify', '--in', plain),
      orchard('profile', 'verify', '--in', path('tampered.signed')),
      orchard('profile', 'verify', '--in', path('lib.signed'), '--ca', pki.foreignRoot.certPath),
      orchard('profile', 'verify', '--in', path('missing.signed')),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 1, 1]);
    expect(runs[0].stderr).toMatch(/ERR_PROFILE_NOT_SIGNED/);
    expect(runs[1].stderr).toMatch(/ERR_CMS_SIGNATURE/);
    expect(runs[2].stderr).toMatch(/ERR_CERT_UNTRUSTED/);
    expect(runs[3].stderr).toMatch(/cannot read .*missing\.signed \(ENOENT\)/);
    expect(runs.every((r) => r.stdout === '')).toBe(true);
  });

  test('fail/sign: wrong key file, not a profile exit 1; missing options exit 2', async () => {
    const runs = await Promise.all([
      orchard(
        'profile',
        'sign',
        '--in',
        plain,
        '--cert',
        pki.rsaSigner.certPath,
        '--key',
        pki.rsaSigner.certPath,
        '--out',
        path('x.signed'),
      ),
      orchard(
        'profile',
        'sign',
        '--in',
        pki.root.certPath,
        '--cert',
        pki.rsaSigner.certPath,
        '--key',
        pki.rsaSigner.keyPath,
        '--out',
        path('y.signed'),
      ),
      orchard(
        'profile',
        'sign',
        '--in',
        plain,
        '--key',
        pki.rsaSigner.keyPath,
        '--out',
        path('z.signed'),
      ),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 2]);
    expect(runs[0].stderr).toMatch(/ERR_KEY_FORMAT/);
    expect(runs[1].stderr).toMatch(/ERR_PLIST_SYNTAX|ERR_PROFILE_FORMAT/);
    expect(runs[2].stderr).toMatch(/--cert/);
  });
});

import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePlist, encodePlist, PlistReal } from '../../src/protocol/plist.js';
import { signProfile } from '../../src/profile/sign.js';
import { createTestPki, openssl, sampleProfile, type TestPki } from '../profile/sign-fixtures.js';
import { orchard } from '../support/cli.js';

// Each case starts `node` with tsx several times; on two busy cores that takes a while.
jest.setTimeout(120_000);

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
  const profile = {
    ...sampleProfile(),
    RemovalDate: new Date('2031-01-01T00:00:00Z'),
    DurationUntilRemoval: new PlistReal(60),
  };
  await writeFile(path('plain.plist'), encodePlist(profile, { format: 'binary' }));
  await writeFile(path('plain.xml'), encodePlist(profile));
});
afterAll(async () => {
  await pki.cleanup();
});

function path(name: string): string {
  return join(pki.dir, name);
}

describe('orchard profile encrypt / inspect', () => {
  test('ok/encrypt: openssl decrypts EncryptedPayloadContent to the payload array', async () => {
    const r = await orchard(
      'profile',
      'encrypt',
      '--in',
      path('plain.xml'),
      '--recipient',
      pki.device.certPath,
      '--out',
      path('enc.mobileconfig'),
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    const encrypted = decodePlist(await readFile(path('enc.mobileconfig'))) as Record<
      string,
      unknown
    >;
    expect(encrypted.IsEncrypted).toBe(true);
    expect(encrypted.PayloadContent).toBeUndefined();
    await writeFile(path('enc.p7m'), encrypted.EncryptedPayloadContent as Uint8Array);
    const { stdout } = await openssl(pki.dir, [
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      path('enc.p7m'),
      '-recip',
      pki.device.certPath,
      '-inkey',
      pki.device.keyPath,
    ]);
    expect(decodePlist(stdout)).toEqual(sampleProfile().PayloadContent);
  });

  test('ok/inspect: binary plain, signed+encrypted with key, encrypted without key', async () => {
    const encrypted = await orchard(
      'profile',
      'encrypt',
      '--in',
      path('plain.plist'),
      '--recipient',
      pki.device.certPath,
      '--out',
      path('enc2.mobileconfig'),
    );
    expect(encrypted.code).toBe(0);
    const signed = await orchard(
      'profile',
      'sign',
      '--in',
      path('enc2.mobileconfig'),
      '--cert',
      pki.rsaSigner.certPath,
      '--key',
      pki.rsaSigner.keyPath,
      '--chain',
      pki.intermediate.certPath,
      '--out',
      path('enc2.signed'),
    );
    expect(signed.code).toBe(0);
    const [plain, opened, closed] = await Promise.all([
      orchard('profile', 'inspect', '--in', path('plain.plist')),
      orchard(
        'profile',
        'inspect',
        '--in',
        path('enc2.signed'),
        '--key',
        pki.device.keyPath,
        '--cert',
        pki.device.certPath,
        '--ca',
        pki.root.certPath,
      ),
      orchard('profile', 'inspect', '--in', path('enc2.mobileconfig')),
    ]);
    expect([plain.code, opened.code, closed.code]).toEqual([0, 0, 0]);
    const p = JSON.parse(plain.stdout);
    expect(p).toMatchObject({ encoding: 'binary', encrypted: false });
    expect(p.profile.RemovalDate).toBe('2031-01-01T00:00:00.000Z');
    expect(p.profile.DurationUntilRemoval).toBe(60);
    const o = JSON.parse(opened.stdout);
    expect(o).toMatchObject({
      encrypted: true,
      decrypted: true,
      signature: { valid: true, trusted: true },
    });
    expect(o.profile.PayloadContent[0].SSID_STR).toBe('Orchard Corp');
    const c = JSON.parse(closed.stdout);
    expect(c).toMatchObject({ encrypted: true, decrypted: false });
    expect(Buffer.from(c.profile.EncryptedPayloadContent, 'base64')[0]).toBe(0x30);
  });

  test('fail/inspect a tampered signature: JSON printed, exit 1', async () => {
    const signed = signProfile(sampleProfile(), {
      certificate: pki.ecSigner.cert,
      privateKey: pki.ecSigner.key,
    });
    signed[signed.indexOf('Orchard Corp')] = 'W'.charCodeAt(0);
    await writeFile(path('bad.signed'), signed);
    const r = await orchard('profile', 'inspect', '--in', path('bad.signed'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).signature).toMatchObject({
      valid: false,
      error: 'ERR_CMS_SIGNATURE',
    });
    expect(r.stderr).toMatch(/ERR_CMS_SIGNATURE/);
  });

  test('fail/encrypt: a signed input, a non-certificate recipient exit 1; missing --recipient exits 2', async () => {
    await writeFile(
      path('s.signed'),
      signProfile(sampleProfile(), {
        certificate: pki.rsaSigner.cert,
        privateKey: pki.rsaSigner.key,
      }),
    );
    const runs = await Promise.all([
      orchard(
        'profile',
        'encrypt',
        '--in',
        path('s.signed'),
        '--recipient',
        pki.device.certPath,
        '--out',
        path('o1'),
      ),
      orchard(
        'profile',
        'encrypt',
        '--in',
        path('plain.xml'),
        '--recipient',
        pki.device.keyPath,
        '--out',
        path('o2'),
      ),
      orchard('profile', 'encrypt', '--in', path('plain.xml'), '--out', path('o3')),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 2]);
    expect(runs[0].stderr).toMatch(/ERR_PROFILE_FORMAT/);
    expect(runs[1].stderr).toMatch(/ERR_CERT_FORMAT/);
  });
});

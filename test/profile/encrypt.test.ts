import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePlist, encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { decryptProfile, encryptProfile } from '../../src/profile/encrypt.js';
import { setRemovalPassword } from '../../src/profile/removal-policy.js';
import { signProfile } from '../../src/profile/sign.js';
import { verifyProfile } from '../../src/profile/verify.js';
import { codeOf } from '../support/errors.js';
import {
  createTestPki,
  openssl,
  opensslVerify,
  sampleProfile,
  type TestPki,
} from './sign-fixtures.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki.cleanup();
});

async function opensslDecrypt(envelope: Uint8Array, name: string): Promise<Buffer> {
  const file = join(pki.dir, `${name}.p7m`);
  await writeFile(file, envelope);
  const { stdout } = await openssl(pki.dir, [
    'cms',
    '-decrypt',
    '-inform',
    'DER',
    '-in',
    file,
    '-recip',
    pki.device.certPath,
    '-inkey',
    pki.device.keyPath,
  ]);
  return stdout;
}

describe('encryptProfile', () => {
  test.each([
    ['ok/default (PKCS#1 v1.5, AES-256)', {}],
    ['ok/RSA-OAEP, AES-128', { keyTransport: 'rsa-oaep', cipher: 'aes-128-cbc' }],
  ] as const)('%s: openssl cms -decrypt yields the payload array plist', async (name, extra) => {
    const encrypted = encryptProfile(sampleProfile(), { recipient: pki.device.cert, ...extra });
    expect(encrypted.IsEncrypted).toBe(true);
    expect(encrypted.PayloadContent).toBeUndefined();
    expect(encrypted.PayloadIdentifier).toBe('com.example.orchard.test');
    const plain = await opensslDecrypt(
      encrypted.EncryptedPayloadContent as Uint8Array,
      name.slice(3, 10),
    );
    expect(plain.equals(encodePlist(sampleProfile().PayloadContent!))).toBe(true);
    expect(decodePlist(plain)).toEqual(sampleProfile().PayloadContent);
  });

  test('ok/decryptProfile restores the profile', () => {
    const encrypted = encryptProfile(sampleProfile(), { recipient: pki.device.cert });
    const back = decryptProfile(encrypted, {
      privateKey: pki.device.key,
      certificate: pki.device.cert,
    });
    expect(back).toEqual(sampleProfile());
    expect('IsEncrypted' in back || 'EncryptedPayloadContent' in back).toBe(false);
  });

  test('ok/accepts plist bytes, binary included', () => {
    const bytes = encodePlist(sampleProfile(), { format: 'binary' });
    const back = decryptProfile(encryptProfile(bytes, { recipient: pki.device.cert }), {
      privateKey: pki.device.key,
    });
    expect(back).toEqual(sampleProfile());
  });

  test('ok/the removal password travels inside the envelope, HasRemovalPasscode outside', () => {
    const locked = setRemovalPassword(sampleProfile(), 'hunter2-secret');
    const encrypted = encryptProfile(locked, { recipient: pki.device.cert });
    expect(encrypted.HasRemovalPasscode).toBe(true);
    expect(encodePlist(encrypted).includes('hunter2-secret')).toBe(false);
    const back = decryptProfile(encrypted, { privateKey: pki.device.key });
    expect(JSON.stringify(back.PayloadContent)).toContain('hunter2-secret');
  });

  test('ok/decrypts what openssl cms -encrypt made', async () => {
    const arrayFile = join(pki.dir, 'payloads.plist');
    await writeFile(arrayFile, encodePlist(sampleProfile().PayloadContent!));
    const { stdout } = await openssl(pki.dir, [
      'cms',
      '-encrypt',
      '-binary',
      '-aes256',
      '-outform',
      'DER',
      '-in',
      arrayFile,
      pki.device.certPath,
    ]);
    const { PayloadContent: _drop, ...top } = sampleProfile();
    const profile: PlistDict = {
      ...top,
      IsEncrypted: true,
      EncryptedPayloadContent: new Uint8Array(stdout),
    };
    expect(decryptProfile(profile, { privateKey: pki.device.key })).toEqual(sampleProfile());
  });

  test('ok/encrypt, then sign: openssl verifies, then verify and decrypt round trip', async () => {
    const encrypted = encryptProfile(sampleProfile(), { recipient: pki.device.cert });
    const signed = signProfile(encrypted, {
      certificate: pki.rsaSigner.cert,
      privateKey: pki.rsaSigner.key,
      chain: [pki.intermediate.cert],
    });
    await opensslVerify(pki, 'encrypted-signed.mobileconfig', signed);
    const verified = verifyProfile(signed, { roots: [pki.root.cert] });
    expect(decryptProfile(verified.profile, { privateKey: pki.device.key })).toEqual(
      sampleProfile(),
    );
  });

  test.each([
    [
      'fail/already encrypted',
      () =>
        encryptProfile(encryptProfile(sampleProfile(), { recipient: pki.device.cert }), {
          recipient: pki.device.cert,
        }),
      'ERR_PROFILE_ALREADY_ENCRYPTED',
    ],
    [
      'fail/no PayloadContent',
      () => encryptProfile({ PayloadType: 'Configuration' }, { recipient: pki.device.cert }),
      'ERR_PROFILE_FORMAT',
    ],
    [
      'fail/plist root is not a dictionary',
      () => encryptProfile(encodePlist(['x']), { recipient: pki.device.cert }),
      'ERR_PROFILE_FORMAT',
    ],
    [
      'fail/an ECDSA recipient cannot take RSA key transport',
      () => encryptProfile(sampleProfile(), { recipient: pki.ecSigner.cert }),
      'ERR_CMS_UNSUPPORTED',
    ],
    [
      'fail/a recipient that is not a certificate',
      () => encryptProfile(sampleProfile(), { recipient: 'nope' }),
      'ERR_CERT_FORMAT',
    ],
  ])('%s', (_n, op, code) => {
    expect(codeOf(op)).toBe(code);
  });
});

describe('decryptProfile', () => {
  test.each([
    [
      'fail/a plain profile',
      () => decryptProfile(sampleProfile(), { privateKey: pki.device.key }),
      ['ERR_PROFILE_NOT_ENCRYPTED'],
    ],
    [
      'fail/another device key',
      () =>
        decryptProfile(encryptProfile(sampleProfile(), { recipient: pki.device.cert }), {
          privateKey: pki.otherDevice.key,
        }),
      ['ERR_CMS_DECRYPT', 'ERR_CMS_NO_RECIPIENT'],
    ],
    [
      'fail/another device key and certificate',
      () =>
        decryptProfile(encryptProfile(sampleProfile(), { recipient: pki.device.cert }), {
          privateKey: pki.otherDevice.key,
          certificate: pki.otherDevice.cert,
        }),
      ['ERR_CMS_NO_RECIPIENT'],
    ],
    [
      'fail/garbage envelope',
      () =>
        decryptProfile(
          { IsEncrypted: true, EncryptedPayloadContent: new Uint8Array([0x30, 0x03, 1, 2, 3]) },
          { privateKey: pki.device.key },
        ),
      ['ERR_DER', 'ERR_CMS_FORMAT'],
    ],
  ])('%s', (_n, op, codes) => {
    expect(codes).toContain(codeOf(op));
  });
});

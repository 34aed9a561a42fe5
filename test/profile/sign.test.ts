import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signCms } from '../../src/crypto/cms-sign.js';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { signProfile } from '../../src/profile/sign.js';
import { verifyProfile } from '../../src/profile/verify.js';
import { codeOf } from '../support/errors.js';
import {
  createTestPki,
  openssl,
  opensslVerify,
  sampleProfile,
  type Identity,
  type TestPki,
} from './sign-fixtures.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki.cleanup();
});

function signer(kind: 'rsa' | 'ec'): Identity {
  return kind === 'rsa' ? pki.rsaSigner : pki.ecSigner;
}

function sign(kind: 'rsa' | 'ec', profile: PlistDict | Uint8Array = sampleProfile()): Buffer {
  const s = signer(kind);
  return signProfile(profile, {
    certificate: s.cert,
    privateKey: s.key,
    chain: [pki.intermediate.cert],
  });
}

describe('signProfile is accepted by openssl', () => {
  test.each(['rsa', 'ec'] as const)(
    'ok/%s signer: openssl cms -verify with only the root',
    async (kind) => {
      const { stdout, stderr } = await opensslVerify(
        pki,
        `signed-${kind}.mobileconfig`,
        sign(kind),
      );
      expect(stderr).toMatch(/Verification successful/);
      expect(stdout.equals(encodePlist(sampleProfile()))).toBe(true);
    },
  );

  test.each(['rsa', 'ec'] as const)(
    'ok/%s signer: openssl smime -verify -inform DER',
    async (kind) => {
      const { stdout } = await opensslVerify(pki, `smime-${kind}.mobileconfig`, sign(kind), {
        tool: 'smime',
      });
      expect(stdout.toString()).toContain('<string>Orchard Corp</string>');
    },
  );

  test('fail/openssl refuses the same signature under a foreign root', async () => {
    await expect(
      opensslVerify(pki, 'foreign.mobileconfig', sign('rsa'), {
        caPath: pki.foreignRoot.certPath,
      }),
    ).rejects.toThrow(/certificate verify error|unable to get/);
  });

  test('ok/raw binary plist bytes are signed exactly as given', async () => {
    const binary = encodePlist(sampleProfile(), { format: 'binary' });
    const { stdout } = await opensslVerify(pki, 'binary.mobileconfig', sign('rsa', binary));
    expect(stdout.equals(binary)).toBe(true);
  });
});

describe('verifyProfile', () => {
  test.each(['rsa', 'ec'] as const)(
    'ok/%s: profile, signer, chain to the root, signing time',
    (kind) => {
      const at = new Date('2025-03-04T05:06:07Z');
      const s = signer(kind);
      const signed = signProfile(sampleProfile(), {
        certificate: s.cert,
        privateKey: s.key,
        chain: [pki.intermediate.cert],
        signingTime: at,
      });
      const result = verifyProfile(signed, { roots: [pki.root.cert] });
      expect(result.profile).toEqual(sampleProfile());
      expect(result.signer.subject).toBe(`CN=Orchard Test ${kind}-signer`);
      expect(result.chain?.map((c) => c.subject)).toEqual([
        `CN=Orchard Test ${kind}-signer`,
        'CN=Orchard Test intermediate',
        'CN=Orchard Test root',
      ]);
      expect(result.signingTime?.toISOString()).toBe(at.toISOString());
      expect(result.digestAlgorithm).toBe('sha256');
    },
  );

  test('ok/without roots: signature checked, no chain', () => {
    const result = verifyProfile(sign('rsa'));
    expect(result.chain).toBeUndefined();
    expect(result.certificates).toHaveLength(2);
  });

  test.each(['rsa', 'ec'] as const)(
    'ok/verifies a profile signed by openssl cms -sign (%s)',
    async (kind) => {
      const s = signer(kind);
      const plain = join(pki.dir, `plain-${kind}.mobileconfig`);
      await writeFile(plain, encodePlist(sampleProfile()));
      const { stdout } = await openssl(pki.dir, [
        'cms',
        '-sign',
        '-binary',
        '-nodetach',
        '-outform',
        'DER',
        '-in',
        plain,
        '-signer',
        s.certPath,
        '-inkey',
        s.keyPath,
        '-certfile',
        pki.intermediate.certPath,
      ]);
      const result = verifyProfile(stdout, { roots: [pki.root.cert] });
      expect(result.profile.PayloadIdentifier).toBe('com.example.orchard.test');
      expect(result.chain).toHaveLength(3);
    },
  );

  test('fail/unsigned XML profile', () => {
    expect(codeOf(() => verifyProfile(encodePlist(sampleProfile())))).toBe(
      'ERR_PROFILE_NOT_SIGNED',
    );
  });

  test('fail/unsigned binary profile', () => {
    const binary = encodePlist(sampleProfile(), { format: 'binary' });
    expect(codeOf(() => verifyProfile(binary))).toBe('ERR_PROFILE_NOT_SIGNED');
  });

  test('fail/one byte of the profile changed', () => {
    const signed = sign('rsa');
    const at = signed.indexOf('Orchard Corp');
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(signed);
    tampered[at] = 'X'.charCodeAt(0);
    expect(codeOf(() => verifyProfile(tampered))).toBe('ERR_CMS_SIGNATURE');
  });

  test('fail/one byte of the signature changed', () => {
    const tampered = Buffer.from(sign('ec'));
    const last = tampered.length - 3;
    tampered[last] = (tampered[last] ?? 0) ^ 0x01;
    expect(['ERR_CMS_SIGNATURE', 'ERR_DER']).toContain(codeOf(() => verifyProfile(tampered)));
  });

  test('fail/signer does not chain to a foreign CA', () => {
    expect(codeOf(() => verifyProfile(sign('rsa'), { roots: [pki.foreignRoot.cert] }))).toBe(
      'ERR_CERT_UNTRUSTED',
    );
  });

  test('fail/chain checked at a time the signer was not valid', () => {
    const at = new Date('2000-01-01T00:00:00Z');
    expect(codeOf(() => verifyProfile(sign('rsa'), { roots: [pki.root.cert], at }))).toBe(
      'ERR_CERT_NOT_YET_VALID',
    );
  });

  test.each([
    ['fail/garbage bytes', () => Buffer.from('not a signature at all')],
    ['fail/truncated signature', () => sign('rsa').subarray(0, 200)],
  ])('%s', (_n, bytes) => {
    expect(['ERR_DER', 'ERR_CMS_FORMAT']).toContain(codeOf(() => verifyProfile(bytes())));
  });

  test('fail/signed content that is not a profile', () => {
    const s = pki.rsaSigner;
    const signed = signCms(Buffer.from('hello'), { certificate: s.cert, privateKey: s.key });
    expect(['ERR_PLIST_SYNTAX', 'ERR_PROFILE_FORMAT']).toContain(
      codeOf(() => verifyProfile(signed)),
    );
  });
});

describe('signProfile input', () => {
  test.each([
    ['fail/a plist whose root is an array', encodePlist([1, 2])],
    ['fail/bytes that are not a plist', Buffer.from('hello world')],
  ])('%s', (_n, bytes) => {
    const s = pki.rsaSigner;
    expect(['ERR_PROFILE_FORMAT', 'ERR_PLIST_SYNTAX']).toContain(
      codeOf(() => signProfile(bytes, { certificate: s.cert, privateKey: s.key })),
    );
  });

  test('fail/a key that is not a key', () => {
    const s = pki.rsaSigner;
    expect(
      codeOf(() => signProfile(sampleProfile(), { certificate: s.cert, privateKey: 'nope' })),
    ).toBe('ERR_KEY_FORMAT');
  });
});

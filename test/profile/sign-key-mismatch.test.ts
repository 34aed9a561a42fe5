/**
 * Issue 12 #10: `signProfile` refuses a private key that is not the one its certificate holds
 * (RSA and EC, either way round), with `CryptoError` `ERR_SIGNER_KEY_MISMATCH` naming the
 * certificate's subject and both keys' types and SPKI fingerprints, instead of writing a
 * signature nobody can verify.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { CryptoError, OrchardError } from '../../src/errors.js';
import { signProfile } from '../../src/profile/sign.js';
import { verifyProfile } from '../../src/profile/verify.js';
import { codeOf } from '../support/errors.js';
import { createTestPki, opensslVerify, sampleProfile, type TestPki } from './sign-fixtures.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki.cleanup();
});

const otherEcKey = (): string =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

/** SHA-256 of the public half's SPKI DER, as the message prints it. */
const fingerprint = (keyPem: string): string =>
  createHash('sha256')
    .update(createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }))
    .digest('hex');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected signProfile to throw');
}

describe('issue 12 #10: signProfile with a key that does not match the certificate', () => {
  const cases: [string, () => { cert: string; key: string; subject: string; keyType: RegExp }][] = [
    [
      'fail/RSA certificate, another RSA key',
      () => ({
        cert: pki.rsaSigner.cert,
        key: pki.device.key,
        subject: 'CN=Orchard Test rsa-signer',
        keyType: /RSA-2048/,
      }),
    ],
    [
      'fail/RSA certificate, an EC key',
      () => ({
        cert: pki.rsaSigner.cert,
        key: pki.ecSigner.key,
        subject: 'CN=Orchard Test rsa-signer',
        keyType: /EC prime256v1/,
      }),
    ],
    [
      'fail/EC certificate, an RSA key',
      () => ({
        cert: pki.ecSigner.cert,
        key: pki.rsaSigner.key,
        subject: 'CN=Orchard Test ec-signer',
        keyType: /RSA-2048/,
      }),
    ],
    [
      'fail/EC certificate, another EC key on the same curve',
      () => ({
        cert: pki.ecSigner.cert,
        key: otherEcKey(),
        subject: 'CN=Orchard Test ec-signer',
        keyType: /EC prime256v1/,
      }),
    ],
  ];

  test.each(cases)(
    '%s is ERR_SIGNER_KEY_MISMATCH naming the subject and the key',
    (_name, make) => {
      const c = make();
      const error = thrown(() =>
        signProfile(sampleProfile(), { certificate: c.cert, privateKey: c.key }),
      );
      expect(error).toBeInstanceOf(CryptoError);
      expect(error).toBeInstanceOf(OrchardError);
      const e = error as CryptoError;
      expect([e.code, e.status, e.expose]).toEqual(['ERR_SIGNER_KEY_MISMATCH', 400, true]);
      expect(e.message).toContain(c.subject);
      expect(e.message).toMatch(c.keyType);
      expect(e.message).toContain(fingerprint(c.key));
    },
  );

  test('fail/a KeyObject of another key is refused the same way', () => {
    const s = pki.rsaSigner;
    expect(
      codeOf(() =>
        signProfile(sampleProfile(), {
          certificate: s.cert,
          privateKey: createPrivateKey(pki.otherDevice.key),
        }),
      ),
    ).toBe('ERR_SIGNER_KEY_MISMATCH');
  });

  test.each(['rsa', 'ec'] as const)(
    'ok/the %s certificate with its own key (PEM or KeyObject) signs and verifies',
    async (kind) => {
      const s = kind === 'rsa' ? pki.rsaSigner : pki.ecSigner;
      for (const privateKey of [s.key, createPrivateKey(s.key)]) {
        const signed = signProfile(sampleProfile(), {
          certificate: s.cert,
          privateKey,
          chain: [pki.intermediate.cert],
        });
        expect(verifyProfile(signed, { roots: [pki.root.cert] }).profile.PayloadIdentifier).toBe(
          'com.example.orchard.test',
        );
        const { stdout } = await opensslVerify(pki, `match-${kind}.signed`, signed);
        expect(stdout.length).toBeGreaterThan(0);
      }
    },
  );
});

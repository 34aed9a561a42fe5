/** Regression over the committed test PKI in fixtures/pki (made by fixtures/pki/make.sh). */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CryptoError } from '../../src/errors.js';
import {
  findSubjectUid,
  toCertificate,
  toPrivateKey,
  verifyCertificateChain,
} from '../../src/crypto/index.js';
import { verifyMdmSignature } from '../../src/identity/mdm-signature.js';

const dir = new URL('../../fixtures/pki/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');

describe('fixtures/pki', () => {
  const ca = toCertificate(read('ca-rsa.pem'));
  test('ok/device certificates chain to the fixture CA and keys load', () => {
    for (const name of ['device-rsa', 'device-ec']) {
      expect(verifyCertificateChain(read(`${name}.pem`), { roots: [ca] })).toHaveLength(2);
      expect(toPrivateKey(read(`${name}.key`)).type).toBe('private');
    }
    expect(findSubjectUid(read('device-rsa.pem'))).toBe(
      'com.apple.mgmt.External.00000000-0000-0000-0000-000000000000',
    );
  });

  test('ok/openssl-made BER SHA-1 Mdm-Signature verifies over the body', async () => {
    const signer = await verifyMdmSignature(
      read('mdm-signature-ber.b64'),
      readFileSync(new URL('mdm-body.plist', dir)),
      { roots: [ca] },
    );
    expect(signer.subject).toContain('Orchard Fixture Device');
  });

  test('fail/the same signature over a body with one byte changed', async () => {
    const body = readFileSync(new URL('mdm-body.plist', dir));
    body[body.length - 2] = 0x20;
    await expect(
      verifyMdmSignature(read('mdm-signature-ber.b64'), body, { roots: [ca] }),
    ).rejects.toBeInstanceOf(CryptoError);
  });
});

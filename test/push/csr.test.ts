import { describe, expect, test } from '@jest/globals';
import { createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { createCsr, csrToPem, verifyCsr } from '../../src/crypto/csr.js';
import { decodePlist } from '../../src/protocol/plist.js';
import { createPushCsr, signPushCsr } from '../../src/push/apns/csr.js';
import { makeCa, makeLeaf } from '../support/pki.js';

const vendorCa = await makeCa({ subject: 'CN=Vendor Test CA' });
const vendor = await makeLeaf(vendorCa, { subject: 'CN=MDM Vendor' });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('createPushCsr', () => {
  test('ok/an RSA 2048 request with the subject in order, read back by the one CSR reader', () => {
    const made = createPushCsr({
      commonName: 'Acme MDM',
      organization: 'Acme',
      country: 'fr',
      email: 'mdm@acme.example',
    });
    const csr = verifyCsr(made.csrPem);
    expect(csr).toMatchObject({ keyType: 'rsa', keySize: 2048, signatureValid: true });
    expect(csr.subject).toBe('CN=Acme MDM,O=Acme,C=FR,E=mdm@acme.example');
    expect(csr.publicKey.equals(createPublicKey(made.privateKeyPem))).toBe(true);
    expect(made.csrPem).toBe(csrToPem(csr.der));
  });

  test.each([
    ['fail/empty common name', { commonName: ' ' }],
    ['fail/country of three letters', { commonName: 'x', country: 'FRA' }],
  ])('%s', (_name, subject) => {
    expect(() => createPushCsr(subject)).toThrow(TypeError);
  });
});

describe('signPushCsr', () => {
  const input = { vendorCertPem: vendor.certPem, vendorKeyPem: vendor.keyPem };

  test('ok/signs the CSR bytes as given and names the vendor chain', () => {
    const { csrPem } = createPushCsr({ commonName: 'Acme' });
    const signed = signPushCsr({ ...input, csrPem, chainPem: vendorCa.certPem });
    const plist = decodePlist(Buffer.from(signed.request, 'base64')) as Record<string, string>;
    const der = Buffer.from(plist.PushCertRequestCSR!, 'base64');
    expect(csrToPem(der)).toBe(csrPem);
    const signature = Buffer.from(plist.PushCertSignature!, 'base64');
    expect(verify('sha256', der, new X509Certificate(vendor.certPem).publicKey, signature)).toBe(
      true,
    );
    expect(plist.PushCertCertificateChain).toBe(vendor.certPem + vendorCa.certPem);
  });

  test.each([
    [
      'fail/an EC request',
      () =>
        csrToPem(
          createCsr({
            subject: 'CN=ec',
            privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
          }),
        ),
    ],
    [
      'fail/a tampered request',
      () => {
        const der = verifyCsr(createPushCsr({ commonName: 'Acme' }).csrPem).der;
        der[der.length - 4] = (der[der.length - 4] as number) ^ 1;
        return csrToPem(der);
      },
    ],
    ['fail/not a request', () => vendor.certPem],
  ])('%s', (_name, make) => {
    expect(codeOf(() => signPushCsr({ ...input, csrPem: make() }))).toBe('ERR_PUSH_CSR');
  });
});

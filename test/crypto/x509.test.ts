import { afterAll, describe, expect, test } from '@jest/globals';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { CryptoError } from '../../src/errors.js';
import {
  createCertificateAuthority,
  createCsr,
  findSubjectUid,
  importPkcs12,
  issueCertificate,
  parseCsr,
  verifyCertificateChain,
  verifyCsr,
  type KeyType,
} from '../../src/crypto/index.js';
import { Oid } from '../../src/crypto/oids.js';
import { makeTmpDir, openssl } from '../support/openssl.js';
import { makeLeaf, testPki } from '../support/pki.js';

const pki = await testPki();
const tmp = makeTmpDir();
afterAll(() => {
  tmp.remove();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('createCertificateAuthority', () => {
  test.each(['rsa-2048', 'ec-p256', 'ec-p384'] as KeyType[])(
    'ok/%s CA is a self-signed CA openssl accepts',
    async (keyType) => {
      const now = new Date('2030-01-01T00:00:00Z');
      const ca = await createCertificateAuthority({
        subject: 'CN=Orchard CA,O=Example',
        keyType,
        now,
        validityDays: 30,
      });
      expect(ca.certificate.ca).toBe(true);
      expect(ca.certificate.subject).toBe('CN=Orchard CA\nO=Example');
      expect(ca.certificate.verify(ca.certificate.publicKey)).toBe(true);
      expect(new Date(ca.certificate.validTo).getTime()).toBe(now.getTime() + 30 * 86_400_000);
      const text = openssl(['x509', '-noout', '-text'], {
        input: ca.certificate.toString(),
      }).toString();
      expect(text).toMatch(/CA:TRUE/);
      expect(text).toMatch(/Certificate Sign, CRL Sign/);
      expect(text).toMatch(/Subject Key Identifier/);
    },
  );
});

describe('issueCertificate', () => {
  test('ok/MDM identity extensions, random serial ≥ 64 bits, UID read back', async () => {
    const leaf = await makeLeaf(pki.rsaCa, {
      subject: 'CN=device,UID=com.apple.mgmt.External.1234',
    });
    const c = leaf.certificate;
    expect(c.keyUsage).toEqual([Oid.clientAuth]);
    expect(c.serialNumber.length).toBeGreaterThanOrEqual(16);
    expect(findSubjectUid(c)).toBe('com.apple.mgmt.External.1234');
    expect(findSubjectUid(leaf.certPem)).toBe('com.apple.mgmt.External.1234');
    expect(findSubjectUid(pki.rsaCa.certificate)).toBeUndefined();
    const text = openssl(['x509', '-noout', '-text'], { input: leaf.certPem }).toString();
    expect(text).toMatch(/Digital Signature, Key Encipherment/);
    expect(text).toMatch(/TLS Web Client Authentication/);
    expect(text).toMatch(/Authority Key Identifier/);
    openssl([
      'verify',
      '-CAfile',
      tmp.write('ca.pem', pki.rsaCa.certPem),
      tmp.write('leaf.pem', leaf.certPem),
    ]);
  });

  test('ok/given serial, dates, SANs and extra extension', async () => {
    const notBefore = new Date('2031-01-01T00:00:00Z');
    const notAfter = new Date('2032-01-01T00:00:00Z');
    const c = await issueCertificate({
      publicKey: createPublicKey(pki.ecLeaf.privateKey),
      subject: [{ type: 'CN', value: 'server' }],
      issuer: pki.ecCa,
      serialNumber: 0x1234567890abcdefn,
      notBefore,
      notAfter,
      extendedKeyUsage: [Oid.serverAuth],
      subjectAltNames: [
        { type: 'dns', value: 'mdm.example.com' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ],
    });
    expect(c.serialNumber).toBe('1234567890ABCDEF');
    expect(c.subjectAltName).toBe(
      'DNS:mdm.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(new Date(c.validFrom).getTime()).toBe(notBefore.getTime());
    expect(c.checkIssued(pki.ecCa.certificate)).toBe(true);
  });

  test('fail/notAfter before notBefore is API misuse', async () => {
    await expect(
      issueCertificate({
        publicKey: createPublicKey(pki.rsaLeaf.privateKey),
        subject: 'CN=x',
        issuer: pki.rsaCa,
        notBefore: new Date(2),
        notAfter: new Date(1),
      }),
    ).rejects.toThrow(TypeError);
  });
});

describe('verifyCertificateChain', () => {
  test('ok/leaf → intermediate → root', () => {
    const chain = verifyCertificateChain(pki.chainedLeaf.certPem, {
      roots: [pki.rsaCa.certificate],
      intermediates: [pki.intermediate.certificate],
    });
    expect(chain).toHaveLength(3);
  });
  test('ok/a root itself', () => {
    expect(
      verifyCertificateChain(pki.rsaCa.certificate, { roots: [pki.rsaCa.certPem] }),
    ).toHaveLength(1);
  });
  test.each([
    [
      'fail/foreign root',
      () => verifyCertificateChain(pki.rsaLeaf.certificate, { roots: [pki.ecCa.certificate] }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/self-signed stranger',
      () => verifyCertificateChain(pki.stranger.certificate, { roots: [pki.rsaCa.certificate] }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/missing intermediate',
      () => verifyCertificateChain(pki.chainedLeaf.certificate, { roots: [pki.rsaCa.certificate] }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/non-CA leaf as intermediate',
      () =>
        verifyCertificateChain(pki.chainedLeaf.certificate, {
          roots: [pki.ecCa.certificate],
          intermediates: [pki.rsaLeaf.certificate],
        }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/expired',
      () =>
        verifyCertificateChain(pki.rsaLeaf.certificate, {
          roots: [pki.rsaCa.certificate],
          at: new Date(Date.now() + 800 * 86_400_000),
        }),
      'ERR_CERT_EXPIRED',
    ],
    [
      'fail/not yet valid',
      () =>
        verifyCertificateChain(pki.rsaLeaf.certificate, {
          roots: [pki.rsaCa.certificate],
          at: new Date('2000-01-01'),
        }),
      'ERR_CERT_NOT_YET_VALID',
    ],
    [
      'fail/garbage certificate',
      () => verifyCertificateChain(Buffer.from('nope'), { roots: [pki.rsaCa.certificate] }),
      'ERR_CERT_FORMAT',
    ],
  ])('%s', (_n, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

describe('CSR', () => {
  test.each([
    { name: 'openssl RSA, PrintableString challenge', key: 'rsa', utf8: false },
    { name: 'openssl EC, UTF8String challenge', key: 'ec', utf8: true },
  ])('ok/$name', ({ key, utf8 }) => {
    const keyPem = key === 'rsa' ? pki.rsaLeaf.keyPem : pki.ecLeaf.keyPem;
    tmp.write(
      'csr.cnf',
      `[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n${utf8 ? 'string_mask=utf8only\n' : 'string_mask=default\n'}[dn]\nCN=device-1\nO=Orchard\n[attrs]\nchallengePassword=s3cret-Challenge\n`,
    );
    const pem = openssl([
      'req',
      '-new',
      '-key',
      tmp.write('k.pem', keyPem),
      '-config',
      tmp.path('csr.cnf'),
      '-addext',
      'keyUsage=digitalSignature',
    ]).toString();
    const csr = verifyCsr(pem);
    expect(csr.subject).toBe('CN=device-1,O=Orchard');
    expect(csr.challengePassword).toBe('s3cret-Challenge');
    expect(csr.keyType).toBe(key);
    expect(csr.keySize).toBe(key === 'rsa' ? 2048 : 256);
    expect(csr.extensions.map((e) => e.oid)).toContain(Oid.keyUsage);
    const raw = openssl(['asn1parse'], { input: pem }).toString();
    expect(raw).toContain(
      utf8 ? 'UTF8STRING        :s3cret-Challenge' : 'PRINTABLESTRING   :s3cret-Challenge',
    );
  });

  test('ok/createCsr round trips and openssl verifies it', () => {
    const der = createCsr({
      subject: 'CN=dev,O=X',
      privateKey: pki.ecLeaf.privateKey,
      challengePassword: 'pw',
      challengeEncoding: 'printable',
    });
    const csr = parseCsr(der);
    expect(csr).toMatchObject({
      subject: 'CN=dev,O=X',
      challengePassword: 'pw',
      signatureValid: true,
      curve: 'prime256v1',
    });
    expect(openssl(['req', '-inform', 'DER', '-verify', '-noout'], { input: der }).length).toBe(0);
  });

  test('fail/tampered CSR signature', () => {
    const der = createCsr({ subject: 'CN=dev', privateKey: pki.rsaLeaf.privateKey });
    der[der.length - 5] = (der[der.length - 5] as number) ^ 1;
    expect(parseCsr(der).signatureValid).toBe(false);
    expect(codeOf(() => verifyCsr(der))).toBe('ERR_CSR_SIGNATURE');
  });

  test.each([
    ['fail/garbage', Buffer.from('garbage')],
    ['fail/PEM without request', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'],
    ['fail/a certificate', pki.rsaLeaf.certificate.raw],
  ])('%s', (_n, input) => {
    expect(codeOf(() => parseCsr(input))).toBe('ERR_CSR_FORMAT');
  });
});

describe('importPkcs12', () => {
  test('ok/openssl pkcs12 -export (RSA, AES-256/PBKDF2 default) with chain', () => {
    const p12 = openssl([
      'pkcs12',
      '-export',
      '-inkey',
      tmp.write('p.key', pki.chainedLeaf.keyPem),
      '-in',
      tmp.write('p.crt', pki.chainedLeaf.certPem),
      '-certfile',
      tmp.write('p.chain', pki.intermediate.certPem),
      '-passout',
      'pass:secret',
    ]);
    const out = importPkcs12(p12, 'secret');
    expect(out.certificate).toBeInstanceOf(X509Certificate);
    expect(out.certificate.raw.equals(pki.chainedLeaf.certificate.raw)).toBe(true);
    expect(out.chain.map((c) => c.subject)).toEqual([pki.intermediate.certificate.subject]);
    expect(out.privateKey.asymmetricKeyType).toBe('rsa');
  });

  test('ok/classic 3DES/SHA-1 PKCS#12', () => {
    const p12 = openssl([
      'pkcs12',
      '-export',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-keypbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
      '-inkey',
      tmp.write('d.key', pki.rsaLeaf.keyPem),
      '-in',
      tmp.write('d.crt', pki.rsaLeaf.certPem),
      '-passout',
      'pass:old',
    ]);
    expect(importPkcs12(p12, 'old').certificate.raw.equals(pki.rsaLeaf.certificate.raw)).toBe(true);
  });

  test('ok/EC key and certificate pass through', () => {
    const p12 = openssl([
      'pkcs12',
      '-export',
      '-inkey',
      tmp.write('e.key', pki.ecLeaf.keyPem),
      '-in',
      tmp.write('e.crt', pki.ecLeaf.certPem),
      '-passout',
      'pass:pw',
    ]);
    const out = importPkcs12(p12, 'pw');
    expect(out.privateKey.asymmetricKeyType).toBe('ec');
    expect(out.certificate.raw.equals(pki.ecLeaf.certificate.raw)).toBe(true);
  });

  test.each([
    ['fail/wrong password', 'nope'],
    ['fail/garbage', undefined],
  ])('%s', (_n, password) => {
    const p12 =
      password === undefined
        ? Buffer.from('not a pfx')
        : openssl([
            'pkcs12',
            '-export',
            '-inkey',
            tmp.path('p.key'),
            '-in',
            tmp.path('p.crt'),
            '-passout',
            'pass:secret',
          ]);
    expect(codeOf(() => importPkcs12(p12, password ?? 'x'))).toBe('ERR_PKCS12');
  });
});

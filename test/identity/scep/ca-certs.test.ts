/**
 * Reading GetCACert as Apple's SCEP client does (SecSCEP.c, `SecSCEPValidateCACertMessage`): the
 * CAFingerprint is an MD5 or SHA-1 of the top of the chain the certificates form (any other length
 * fails), every chain must end at that one root, and the RA (digitalSignature and
 * keyEncipherment, or one certificate of each) is recipient and signer.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { createCertsOnlyCms } from '../../../src/crypto/cms-sign.js';
import { generateKeyPairOf } from '../../../src/crypto/keys.js';
import { createCertificateAuthority, issueCertificate } from '../../../src/crypto/x509.js';
import { ScepError } from '../../../src/errors.js';
import { readScepCaCertificates } from '../../../src/identity/scep/ca-certs.js';
import { ScepContentType } from '../../../src/identity/scep/constants.js';

type Identity = { certificate: X509Certificate; privateKey: KeyObject };
type Usage = NonNullable<Parameters<typeof issueCertificate>[0]['keyUsage']>;

let root: Identity;
let issuing: Identity;
let ra: X509Certificate;
let raSign: X509Certificate;
let raEncrypt: X509Certificate;
let otherRa: X509Certificate;
let otherRoot: X509Certificate;

async function leaf(issuer: Identity, subject: string, keyUsage: Usage): Promise<X509Certificate> {
  const { publicKey } = await generateKeyPairOf('rsa-2048');
  return issueCertificate({ publicKey, subject, issuer, keyUsage, extendedKeyUsage: [] });
}

beforeAll(async () => {
  const caUsage: Usage = ['keyCertSign', 'cRLSign'];
  root = await createCertificateAuthority({ subject: 'CN=Test Root', keyUsage: caUsage });
  issuing = await createCertificateAuthority({
    subject: 'CN=Test Issuing CA',
    keyUsage: caUsage,
    issuer: root,
  });
  ra = await leaf(root, 'CN=Test RA', ['digitalSignature', 'keyEncipherment']);
  raSign = await leaf(root, 'CN=Test RA signing', ['digitalSignature']);
  raEncrypt = await leaf(root, 'CN=Test RA encryption', ['keyEncipherment']);
  const other = await createCertificateAuthority({ subject: 'CN=Other Root', keyUsage: caUsage });
  otherRa = await leaf(other, 'CN=Other RA', ['digitalSignature', 'keyEncipherment']);
  otherRoot = other.certificate;
}, 60_000);

const hash = (algorithm: string, cert: X509Certificate): Buffer =>
  createHash(algorithm).update(cert.raw).digest();
const raAnswer = (certs: X509Certificate[]): Buffer => createCertsOnlyCms(certs);

describe('readScepCaCertificates', () => {
  test.each([
    ['SHA-1', 'sha1'],
    ['MD5', 'md5'],
  ])('ok/RA, issuing CA and root; a %s fingerprint of the root matches', (_, algorithm) => {
    const read = readScepCaCertificates(
      raAnswer([ra, issuing.certificate, root.certificate]),
      ScepContentType.caRaCert,
      { caFingerprint: hash(algorithm, root.certificate) },
    );
    expect(read.certificates).toHaveLength(3);
    expect(read.root.raw.equals(root.certificate.raw)).toBe(true);
    expect(read.recipient.raw.equals(ra.raw)).toBe(true);
    expect(read.signer.raw.equals(ra.raw)).toBe(true);
  });

  test('ok/the order of the certificates does not matter', () => {
    const read = readScepCaCertificates(
      raAnswer([root.certificate, issuing.certificate, ra]),
      `${ScepContentType.caRaCert}; charset=binary`,
      { caFingerprint: hash('sha1', root.certificate) },
    );
    expect(read.recipient.raw.equals(ra.raw)).toBe(true);
  });

  test('ok/separate RA certificates for encryption and signing', () => {
    const read = readScepCaCertificates(
      raAnswer([raSign, raEncrypt, root.certificate]),
      ScepContentType.caRaCert,
    );
    expect(read.recipient.raw.equals(raEncrypt.raw)).toBe(true);
    expect(read.signer.raw.equals(raSign.raw)).toBe(true);
  });

  test('ok/a lone CA certificate is root, recipient and signer', () => {
    const read = readScepCaCertificates(root.certificate.raw, ScepContentType.caCert, {
      caFingerprint: hash('sha1', root.certificate),
    });
    expect(read.root.raw.equals(root.certificate.raw)).toBe(true);
    expect(read.recipient.raw.equals(root.certificate.raw)).toBe(true);
  });

  test.each([
    [
      'a SHA-256 fingerprint (no length Apple knows)',
      () => hash('sha256', root.certificate),
      /neither MD5 nor SHA-1/,
    ],
    ['the SHA-1 of the RA instead of the root', () => hash('sha1', ra), /does not match the root/],
    ['the SHA-1 of the issuing CA', () => hash('sha1', issuing.certificate), /does not match/],
  ])('fail/%s', (_, fingerprint, message) => {
    const read = () =>
      readScepCaCertificates(
        raAnswer([ra, issuing.certificate, root.certificate]),
        ScepContentType.caRaCert,
        { caFingerprint: fingerprint() },
      );
    expect(read).toThrow(ScepError);
    expect(read).toThrow(message);
  });

  test.each([
    ['chains to two roots', () => [ra, root.certificate, otherRa, otherRoot], /one root/],
    ['no RA, only the issuing CA', () => [issuing.certificate, root.certificate], /no RA/],
    ['no chain at all', () => [root.certificate], /no chain/],
  ])('fail/certificates with %s', (_, certs, message) => {
    const read = () => readScepCaCertificates(raAnswer(certs()), ScepContentType.caRaCert);
    expect(read).toThrow(message);
    try {
      read();
    } catch (error) {
      expect((error as ScepError).code).toBe('ERR_SCEP_MESSAGE');
    }
  });

  test('fail/an unknown content type', () => {
    expect(() => readScepCaCertificates(root.certificate.raw, 'text/html')).toThrow(
      /unexpected GetCACert type/,
    );
  });
});

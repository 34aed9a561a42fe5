/**
 * Loading and checking the MDM push certificate: a PEM pair or a PKCS#12 file. The topic is
 * the certificate's subject UID (`com.apple.mgmt.External.<uuid>`); a certificate without one,
 * one whose key does not match, or one that is expired or not yet valid is refused.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { CryptoError, PushError } from '../../errors.js';

/** Where a push certificate comes from. */
export type PushCertificateSource =
  | { certPem: string | Uint8Array; keyPem: string | Uint8Array; keyPassphrase?: string }
  | { pkcs12: Uint8Array; password: string };

/** A loaded, checked push certificate. */
export interface PushCertificate {
  topic: string;
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** PEM of the certificate followed by any chain certificates. */
  certPem: string;
  /** PKCS#8 PEM of the private key (unencrypted, in memory only). */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** Options of {@link loadPushCertificate}. */
export interface LoadPushCertificateOptions {
  now?: () => number;
  /** Accept an expired certificate (for inspection only). */
  allowExpired?: boolean;
}

const DAY = 86_400_000;
const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const PKCS8_SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';

/** The subject UID of `cert` (the APNs topic), or `undefined` when it has none. */
export function findPushTopic(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('UID=')) return line.slice(4);
  }
  return undefined;
}

/** Whole days from `now` until `notAfter`; negative once expired. */
export function daysLeft(notAfter: Date, now: number): number {
  return Math.floor((notAfter.getTime() - now) / DAY);
}

function fromPkcs12(data: Uint8Array, password: string): { certPem: string; keyPem: string } {
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(data).toString('binary')));
    const p12 = forge.pkcs12.pkcs12FromAsn1(asn1, password);
    const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
    const keyBags = [...bags(PKCS8_SHROUDED_KEY_BAG), ...bags(KEY_BAG)];
    const certBags = bags(CERT_BAG);
    const key = keyBags.find((b) => b.key !== undefined)?.key;
    // forge parses only RSA-signed certificates; keep the raw ASN.1 of the others.
    const certs = certBags.flatMap((b) => {
      const asn1 = b.cert
        ? forge.pki.certificateToAsn1(b.cert)
        : (b as { asn1?: forge.asn1.Asn1 }).asn1;
      return asn1
        ? [new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')).toString()]
        : [];
    });
    if (key === undefined || certs.length === 0)
      throw new Error('no key or certificate in the PKCS#12 file');
    const keyDer = forge.asn1.toDer(forge.pki.privateKeyToAsn1(key)).getBytes();
    const keyPem = createPrivateKey({
      key: Buffer.from(keyDer, 'binary'),
      format: 'der',
      type: 'pkcs1',
    })
      .export({ format: 'pem', type: 'pkcs8' })
      .toString();
    return { certPem: certs.join(''), keyPem };
  } catch (error) {
    throw new CryptoError(
      'ERR_PKCS12',
      'cannot read the PKCS#12 file (wrong password or unsupported format)',
      {
        cause: error,
      },
    );
  }
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

function parseCertificate(
  certPem: string,
  key: KeyObject,
): { certificate: X509Certificate; certPem: string } {
  let parsed: X509Certificate[];
  try {
    parsed = splitPem(certPem).map((block) => new X509Certificate(block));
  } catch (error) {
    throw new CryptoError('ERR_CERT_FORMAT', 'cannot read the push certificate (expected PEM)', {
      cause: error,
    });
  }
  const certificate = parsed.find((c) => matches(c, key)) ?? parsed[0];
  if (certificate === undefined)
    throw new CryptoError('ERR_CERT_FORMAT', 'no certificate found (expected PEM)');
  const ordered = [certificate, ...parsed.filter((c) => c !== certificate)];
  return { certificate, certPem: ordered.map((c) => c.toString()).join('') };
}

function readKey(source: { keyPem: string | Uint8Array; keyPassphrase?: string }): KeyObject {
  try {
    return createPrivateKey({
      key: Buffer.from(source.keyPem),
      format: 'pem',
      ...(source.keyPassphrase === undefined ? {} : { passphrase: source.keyPassphrase }),
    });
  } catch (error) {
    throw new CryptoError('ERR_KEY_FORMAT', 'cannot read the push certificate private key', {
      cause: error,
    });
  }
}

/**
 * Loads a push certificate and checks it: topic present, key matches, valid now (unless
 * `allowExpired`). Throws `CryptoError` (`ERR_PKCS12`, `ERR_CERT_FORMAT`, `ERR_KEY_FORMAT`,
 * `ERR_CERT_EXPIRED`, `ERR_CERT_NOT_YET_VALID`) or `PushError` (`ERR_PUSH_NO_TOPIC`, `ERR_PUSH_KEY_MISMATCH`).
 */
export function loadPushCertificate(
  source: PushCertificateSource,
  options: LoadPushCertificateOptions = {},
): PushCertificate {
  const pem = 'pkcs12' in source ? fromPkcs12(source.pkcs12, source.password) : undefined;
  const privateKey = readKey(
    pem ? { keyPem: pem.keyPem } : (source as { keyPem: string | Uint8Array }),
  );
  const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const certText = pem
    ? pem.certPem
    : Buffer.from((source as { certPem: string | Uint8Array }).certPem).toString();
  const { certificate, certPem } = parseCertificate(certText, privateKey);
  if (!matches(certificate, privateKey))
    throw new PushError(
      'ERR_PUSH_KEY_MISMATCH',
      'the private key does not belong to the push certificate',
    );
  const topic = findPushTopic(certificate);
  if (topic === undefined || topic === '')
    throw new PushError(
      'ERR_PUSH_NO_TOPIC',
      'the certificate has no subject UID, so it is not an MDM push certificate',
    );
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  const now = (options.now ?? Date.now)();
  if (options.allowExpired !== true) {
    if (now > notAfter.getTime())
      throw new CryptoError(
        'ERR_CERT_EXPIRED',
        `the push certificate expired on ${notAfter.toISOString()}`,
      );
    if (now < notBefore.getTime())
      throw new CryptoError(
        'ERR_CERT_NOT_YET_VALID',
        `the push certificate is valid from ${notBefore.toISOString()}`,
      );
  }
  return { topic, certificate, privateKey, certPem, keyPem, notBefore, notAfter };
}

/** What `orchard push inspect` shows about a push certificate. */
export interface PushCertificateSummary {
  topic: string | undefined;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  expired: boolean;
  fingerprint256: string;
}

/**
 * Summarises the first certificate of a PEM text without needing its key. Throws `CryptoError`
 * `ERR_CERT_FORMAT` when no certificate can be read.
 */
export function summarizePushCertificate(
  certPem: string | Uint8Array,
  now: number = Date.now(),
): PushCertificateSummary {
  const block = splitPem(Buffer.from(certPem).toString())[0];
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block ?? '');
  } catch (error) {
    throw new CryptoError(
      'ERR_CERT_FORMAT',
      'cannot read the certificate (expected PEM or PKCS#12)',
      { cause: error },
    );
  }
  const notAfter = new Date(cert.validTo);
  return {
    topic: findPushTopic(cert),
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: daysLeft(notAfter, now),
    expired: now > notAfter.getTime(),
    fingerprint256: cert.fingerprint256,
  };
}

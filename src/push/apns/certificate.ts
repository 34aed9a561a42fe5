/**
 * Loading and checking the MDM push certificate: a PEM pair or a PKCS#12 file. The topic is
 * the certificate's subject UID (`com.apple.mgmt.External.<uuid>`); a certificate without one,
 * one whose key does not match, or one that is expired or not yet valid is refused.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readPkcs12 } from '../../crypto/pkcs12.js';
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
  const { privateKey, certificates } = readPkcs12(data, password);
  if (certificates.length === 0)
    throw new CryptoError('ERR_PKCS12', 'no certificate in the PKCS#12 file');
  return {
    certPem: certificates.map((c) => c.toString()).join(''),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
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

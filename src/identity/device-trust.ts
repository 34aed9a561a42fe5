/**
 * The trust check of a device identity certificate that needs no storage: a path to one of the
 * configured roots, valid at the given time. The MDM handler runs it on the raw request, before a
 * body is decoded, so an unauthenticated sender costs a signature check, never a plist parse;
 * binding and revocation stay in `withCertAuth`.
 */
import type { X509Certificate } from 'node:crypto';
import { verifyCertificateChain } from '../crypto/chain.js';
import type { CertificateInput } from '../crypto/keys.js';
import { CryptoError, DeviceAuthError } from '../errors.js';

/** The CA device identities must chain to; the same values `withCertAuth` gets. */
export interface DeviceTrust {
  /** Trust anchors (our SCEP/ACME CA). */
  roots: CertificateInput[];
  /** Untrusted certificates that may complete a path (an issuing CA). */
  intermediates?: readonly CertificateInput[];
  /** Time for validity checks; default the identity clock, else now. */
  clock?: () => Date;
}

/** Throws `TypeError` unless `trust` has a non-empty `roots` array (checked at start-up). */
export function checkDeviceTrustOptions(trust: DeviceTrust): void {
  if (typeof trust !== 'object' || !Array.isArray(trust.roots) || trust.roots.length === 0)
    throw new TypeError('trust.roots must be a non-empty array of certificates');
  if (trust.intermediates !== undefined && !Array.isArray(trust.intermediates))
    throw new TypeError('trust.intermediates must be an array of certificates');
}

/**
 * Verifies that `certificate` chains to `trust.roots` (through `trust.intermediates`) at `at`.
 * Throws {@link DeviceAuthError} `ERR_CERT_CHAIN` (400, never 401), as `withCertAuth` does.
 */
export function verifyDeviceTrust(
  certificate: X509Certificate,
  trust: DeviceTrust,
  at: Date,
): void {
  try {
    verifyCertificateChain(certificate, {
      roots: trust.roots,
      intermediates: trust.intermediates ?? [],
      at,
    });
  } catch (cause) {
    if (!(cause instanceof CryptoError)) throw cause;
    throw new DeviceAuthError('ERR_CERT_CHAIN', 'device certificate is not trusted', { cause });
  }
}

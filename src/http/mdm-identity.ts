/**
 * Who sent a raw MDM request: the certificate from `Mdm-Signature` (verified over the exact body),
 * the TLS connection or the configured header, and with `trust` its chain to the roots (for a
 * signature, before the body is hashed). Runs before the body is decoded; throws 400 errors only.
 */
import { CryptoError, DeviceAuthError } from '../errors.js';
import type { DeviceCertificate } from '../identity/device-certificate.js';
import {
  extractDeviceCertificate,
  type DeviceIdentityOptions,
  type IdentitySource,
} from '../identity/device-identity.js';
import {
  checkDeviceTrustOptions,
  verifyDeviceTrust,
  type DeviceTrust,
} from '../identity/device-trust.js';
import { checkMdmSignature, type MdmSignatureOptions } from '../identity/mdm-signature.js';

/** No extra certificates. */
const NONE: readonly never[] = Object.freeze([]);

/** Authenticates one request; `undefined` when it carries no identity and no `trust` is set. */
export type DeviceAuthenticator = (req: IdentitySource) => DeviceCertificate | undefined;

/** The signer of a present `Mdm-Signature`, its chain checked before the body is hashed. */
function trustedSigner(
  header: string,
  body: Uint8Array,
  trust: DeviceTrust,
  at: Date,
): DeviceCertificate {
  let x509;
  try {
    // One shape for every request (a spread of `trust` gave V8 a new map to migrate each time).
    const options: MdmSignatureOptions = {
      roots: trust.roots,
      intermediates: trust.intermediates ?? NONE,
      at,
    };
    x509 = checkMdmSignature(header, body, options);
  } catch (cause) {
    if (!(cause instanceof CryptoError) || cause.code !== 'ERR_CERT_UNTRUSTED') throw cause;
    throw new DeviceAuthError('ERR_CERT_CHAIN', 'device certificate is not trusted', { cause });
  }
  return { der: x509.raw, x509, source: 'signature' };
}

/**
 * The authenticator for `trust` and `identity`. Without `trust` it only extracts the certificate
 * (binding happens in `withCertAuth`); with it, a request without an identity that chains to the
 * roots is refused with {@link DeviceAuthError} (400). Throws `TypeError` on invalid `trust`.
 */
export function deviceAuthenticator(
  trust: DeviceTrust | undefined,
  identity: DeviceIdentityOptions | undefined,
): DeviceAuthenticator {
  if (trust === undefined) return (req) => extractDeviceCertificate(req, identity);
  checkDeviceTrustOptions(trust);
  const clock = trust.clock ?? identity?.clock ?? (() => new Date());
  const withClock: DeviceIdentityOptions = { ...identity, clock };
  const signatures = identity?.mdmSignature !== false;
  return (req) => {
    const at = clock();
    const signature = signatures ? req.header('mdm-signature') : undefined;
    if (signature !== undefined && signature !== '')
      return trustedSigner(signature, req.body, trust, at);
    const certificate = extractDeviceCertificate(req, withClock);
    if (certificate === undefined)
      throw new DeviceAuthError('ERR_IDENTITY_MISSING', 'request carries no device certificate');
    verifyDeviceTrust(certificate.x509, trust, at);
    return certificate;
  };
}

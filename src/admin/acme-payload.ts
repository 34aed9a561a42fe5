/**
 * The `com.apple.security.acme` identity payload an enrollment profile can carry instead of SCEP
 * (iOS/tvOS 16+, macOS 13.1+; hardware-bound keys on macOS 14+ with Apple silicon or T2): the
 * device generates the key (in the Secure Enclave when `HardwareBound`), orders a certificate
 * with the one-time `ClientIdentifier` as its `permanent-identifier`, and, with `Attest`, proves
 * through device-attest-01 which device it is. See
 * https://developer.apple.com/documentation/devicemanagement/acmecertificate
 */
import type { PlistDict } from '../protocol/plist.js';

/** The ACME choices of one enrollment profile. */
export interface AcmePayloadOptions {
  /** Orchard's ACME directory URL (`<publicUrl>/acme/directory`). */
  directoryUrl: string;
  /** The one-time value of this download (`AcmeClientIdentifiers.issue`). */
  clientIdentifier: string;
  /** Default 256 (P-256); 384 for P-384. Hardware-bound keys are EC 256 or 384. */
  keySize?: 256 | 384;
  /** Default true: the key lives in the Secure Enclave and never leaves it. */
  hardwareBound?: boolean;
  /** Default true: the device attests the key and itself (requires `hardwareBound`). */
  attest?: boolean;
  /** The certificate subject, as the payload's RDN array. */
  subject: [string, string][][];
}

/**
 * The payload's `PayloadContent`-level keys (Apple puts them at the payload's top level), for
 * `payload('com.apple.security.acme', …)`. Throws `TypeError` when `attest` is asked without
 * a hardware-bound key, which Apple's schema forbids.
 */
export function acmePayloadKeys(options: AcmePayloadOptions): PlistDict {
  const hardwareBound = options.hardwareBound ?? true;
  const attest = options.attest ?? true;
  if (attest && !hardwareBound) throw new TypeError('ACME Attest requires HardwareBound');
  return {
    DirectoryURL: options.directoryUrl,
    ClientIdentifier: options.clientIdentifier,
    KeyType: 'ECSECPrimeRandom',
    KeySize: options.keySize ?? 256,
    HardwareBound: hardwareBound,
    Attest: attest,
    Subject: options.subject,
    // Digital signature: the identity signs TLS and Mdm-Signature, it never decrypts.
    UsageFlags: 1,
  };
}

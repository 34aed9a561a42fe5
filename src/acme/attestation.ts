/**
 * Apple's `device-attest-01` verification: the contract the ACME core calls. The verifier decodes
 * the attestation object (CBOR, format `apple`), verifies its `x5c` chain to the trust anchors,
 * checks the freshness code against the challenge token and the serial/UDID against the order's
 * identifier, and hands back the attested public key. This file holds the contract and a stub
 * that refuses every attestation; the real verifier replaces {@link verifyDeviceAttestation}.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { AcmeError } from '../errors.js';

/** What a device-attest-01 response carries and what it must be checked against. */
export interface DeviceAttestationInput {
  /** The attestation object (CBOR), base64url-decoded from the challenge response's `attObj`. */
  attObj: Uint8Array;
  /** The challenge token the freshness code must echo (as Apple defines it). */
  token: string;
  /** The order's `permanent-identifier` value. */
  identifier: string;
  /** Anchors the `x5c` chain must end at (Apple's Enterprise Attestation Root by default). */
  trustAnchors: readonly X509Certificate[];
  now: Date;
}

/** What a verified attestation proves: the hardware-bound key and the device it lives in. */
export interface DeviceAttestationResult {
  /** The attested key: the CSR at finalize must carry exactly this key. */
  publicKey: KeyObject;
  /** The device serial number the attestation names, when it names one. */
  serial?: string;
  /** The device UDID the attestation names, when it names one. */
  udid?: string;
}

/**
 * Verifies a device attestation. Resolves what it proves, or rejects with {@link AcmeError}
 * `ERR_ACME_BAD_ATTESTATION` (a problem of type `badAttestationStatement`) for any attestation
 * that does not verify; any other rejection is a server fault (500).
 */
export type DeviceAttestationVerifier = (
  input: DeviceAttestationInput,
) => Promise<DeviceAttestationResult>;

/**
 * The placeholder verifier: refuses every attestation with `ERR_ACME_BAD_ATTESTATION` until the
 * `apple` format verifier lands here.
 */
export function verifyDeviceAttestation(
  _input: DeviceAttestationInput,
): Promise<DeviceAttestationResult> {
  return Promise.reject(
    new AcmeError('ERR_ACME_BAD_ATTESTATION', 'device attestation is not supported yet'),
  );
}

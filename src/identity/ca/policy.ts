/**
 * The issuance policy: which keys and subjects the CA accepts and how long certificates live.
 * Pure checks; a refusal throws `ERR_CA_POLICY` with a `reason` the SCEP layer maps to failInfo.
 */
import type { ParsedCsr } from '../../crypto/csr.js';
import type { NameAttribute } from '../../crypto/name.js';
import { CertificateAuthorityError } from '../../errors.js';

/** Options of the issuance policy; every field has a safe default. */
export interface IssuancePolicyOptions {
  /** Certificate lifetime; default 365 days. */
  validityDays?: number;
  /** How far notBefore is set back for clock skew; default 300 s. */
  backdateSeconds?: number;
  /** Subject attribute types a CSR may carry; default CN, O, OU, C, L, ST, UID, serialNumber, DC, E. */
  allowedSubjectAttributes?: readonly string[];
  /** Smallest RSA modulus accepted; default 2048 (never lower). */
  minRsaBits?: number;
  /** Accepted EC curves; default P-256 and P-384. */
  allowedCurves?: readonly ('prime256v1' | 'secp384r1')[];
  /** Extended key usages of issued certificates; default clientAuth. */
  extendedKeyUsage?: readonly string[];
}

/** Why a request was refused: `key` maps to SCEP badAlg, `subject` to badRequest. */
export type PolicyRefusal = 'key' | 'subject';

/** The resolved policy. */
export interface IssuancePolicy {
  validityDays: number;
  backdateSeconds: number;
  allowedSubjectAttributes: ReadonlySet<string>;
  minRsaBits: number;
  allowedCurves: ReadonlySet<string>;
  extendedKeyUsage: readonly string[];
}

const DEFAULT_SUBJECT = ['CN', 'O', 'OU', 'C', 'L', 'ST', 'UID', 'serialNumber', 'DC', 'E'];
const MAX_RSA_BITS = 8192;
const MAX_VALUE_LENGTH = 256;

/** Resolves options to a policy. Throws `TypeError` on values that would weaken it. */
export function resolvePolicy(options: IssuancePolicyOptions = {}): IssuancePolicy {
  const validityDays = options.validityDays ?? 365;
  if (!(validityDays > 0 && validityDays <= 3650))
    throw new TypeError('issuance policy: validityDays must be in (0, 3650]');
  const minRsaBits = options.minRsaBits ?? 2048;
  if (!(minRsaBits >= 2048)) throw new TypeError('issuance policy: minRsaBits must be >= 2048');
  return {
    validityDays,
    backdateSeconds: options.backdateSeconds ?? 300,
    allowedSubjectAttributes: new Set(options.allowedSubjectAttributes ?? DEFAULT_SUBJECT),
    minRsaBits,
    allowedCurves: new Set(options.allowedCurves ?? ['prime256v1', 'secp384r1']),
    extendedKeyUsage: options.extendedKeyUsage ?? ['1.3.6.1.5.5.7.3.2'],
  };
}

function refuse(reason: PolicyRefusal, message: string): CertificateAuthorityError {
  return new CertificateAuthorityError('ERR_CA_POLICY', message, { detail: { reason } });
}

/** The refusal kind of an `ERR_CA_POLICY` error, or `undefined` for other errors. */
export function policyRefusalOf(error: unknown): PolicyRefusal | undefined {
  if (!(error instanceof CertificateAuthorityError) || error.code !== 'ERR_CA_POLICY') return;
  const reason = (error.detail as { reason?: PolicyRefusal } | undefined)?.reason;
  return reason ?? 'subject';
}

/**
 * Checks a CSR's key and subject against the policy and returns the subject to issue.
 * Throws `ERR_CA_POLICY` (detail.reason `key` or `subject`) on refusal.
 */
export function checkRequest(policy: IssuancePolicy, csr: ParsedCsr): NameAttribute[] {
  if (csr.keyType === 'rsa') {
    if (csr.keySize < policy.minRsaBits || csr.keySize > MAX_RSA_BITS)
      throw refuse('key', `RSA keys must have ${String(policy.minRsaBits)} to 8192 bits`);
  } else if (csr.curve === undefined || !policy.allowedCurves.has(csr.curve)) {
    throw refuse('key', `EC curve ${csr.curve ?? 'unknown'} is not accepted`);
  }
  if (csr.subjectRdns.length === 0) throw refuse('subject', 'the request has an empty subject');
  for (const a of csr.subjectRdns) {
    if (!policy.allowedSubjectAttributes.has(a.type))
      throw refuse('subject', `subject attribute ${a.type} is not allowed`);
    if (a.value.length === 0 || a.value.length > MAX_VALUE_LENGTH)
      throw refuse('subject', `subject attribute ${a.type} has a bad length`);
  }
  return csr.subjectRdns;
}

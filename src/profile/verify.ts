/**
 * Verifying signed configuration profiles: the CMS signature over the attached profile, the
 * signer's chain to given roots, and the inner profile decoded.
 */
import type { X509Certificate } from 'node:crypto';
import { verifyCms } from '../crypto/cms-verify.js';
import { readDer, timeValue } from '../crypto/der.js';
import type { CertificateInput } from '../crypto/keys.js';
import { Oid } from '../crypto/oids.js';
import { ProfileError } from '../errors.js';
import type { PlistDict } from '../protocol/plist.js';
import { decodeProfile, looksLikePlist } from './sign.js';

/** Options of {@link verifyProfile}. */
export interface VerifyProfileOptions {
  /** Trust anchors; when given, the signer must chain to one of them. */
  roots?: CertificateInput[];
  /** Extra untrusted certificates for path building (the embedded ones are always used). */
  intermediates?: CertificateInput[];
  /** Time for validity checks; default now. */
  at?: Date;
}

/** A verified profile. */
export interface VerifiedProfile {
  /** The inner profile, decoded. */
  profile: PlistDict;
  /** The inner profile's bytes exactly as signed. */
  content: Buffer;
  signer: X509Certificate;
  /** Every certificate embedded in the signature. */
  certificates: X509Certificate[];
  /** The verified chain, leaf first and root last; present when `roots` were given. */
  chain?: X509Certificate[];
  /** The signingTime attribute, when the signer included one. */
  signingTime?: Date;
  /** Digest name, e.g. `sha256`. */
  digestAlgorithm: string;
}

function signingTimeOf(attrs: readonly { oid: string; values: Uint8Array[] }[]): Date | undefined {
  const value = attrs.find((a) => a.oid === Oid.signingTime)?.values[0];
  if (value === undefined) return undefined;
  try {
    return timeValue(readDer(value));
  } catch {
    // A malformed signingTime is informational only; the signature already verified.
    return undefined;
  }
}

/**
 * Verifies a signed profile (DER CMS SignedData with the profile attached) and returns the inner
 * profile and the signer. Throws `ProfileError` `ERR_PROFILE_NOT_SIGNED` for a plain plist,
 * `CryptoError` (`ERR_CMS_FORMAT`, `ERR_DER`, `ERR_CMS_SIGNATURE`, `ERR_CERT_UNTRUSTED`,
 * `ERR_CERT_EXPIRED`...) when the signature or chain fails, and `PlistError`/`ProfileError`
 * when the signed content is not a profile.
 */
export function verifyProfile(
  signed: Uint8Array,
  options: VerifyProfileOptions = {},
): VerifiedProfile {
  if (!(signed instanceof Uint8Array)) throw new TypeError('verifyProfile: signed must be bytes');
  if (looksLikePlist(signed)) {
    throw new ProfileError(
      'ERR_PROFILE_NOT_SIGNED',
      'the profile is not signed (a plain property list)',
    );
  }
  const result = verifyCms(signed, {
    ...(options.roots === undefined ? {} : { roots: options.roots }),
    ...(options.intermediates === undefined ? {} : { intermediates: options.intermediates }),
    ...(options.at === undefined ? {} : { at: options.at }),
  });
  const signingTime = signingTimeOf(result.signedAttributes);
  return {
    profile: decodeProfile(result.content),
    content: result.content,
    signer: result.signer,
    certificates: result.certificates,
    ...(result.chain === undefined ? {} : { chain: result.chain }),
    ...(signingTime === undefined ? {} : { signingTime }),
    digestAlgorithm: result.digestAlgorithm,
  };
}

/**
 * Errors about data handed to the library: property lists, DER and CMS, certificates and keys,
 * schema validation and configuration profiles. All are 4xx except a validation failure (422).
 */
import { OrchardError, type OrchardErrorOptions } from './base.js';

/** Codes of {@link PlistError}. */
export type PlistErrorCode =
  | 'ERR_PLIST_TOO_LARGE'
  | 'ERR_PLIST_DEPTH'
  | 'ERR_PLIST_SYNTAX'
  | 'ERR_PLIST_ENCODING'
  | 'ERR_PLIST_BINARY'
  | 'ERR_PLIST_TYPE'
  | 'ERR_PLIST_JSON';

/** A property list could not be decoded or encoded (malformed, hostile or unsupported input). */
export class PlistError extends OrchardError {
  declare readonly name: 'PlistError' | 'PlistJsonError';
  readonly status = 400;
  constructor(
    readonly code: PlistErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A value in the typed JSON form of property lists (docs/plist.md) was not one a plist can hold:
 * `null`, an unknown or malformed `$` form, an ambiguous number. `path` names where, in the
 * notation of validation issues (`Payload`, `Settings[0].DeviceName`; empty for the root).
 */
export class PlistJsonError extends PlistError {
  declare readonly name: 'PlistJsonError';
  declare readonly code: 'ERR_PLIST_JSON';
  constructor(
    readonly path: string,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super('ERR_PLIST_JSON', message, options);
  }
}

/** Codes of {@link CryptoError}. */
export type CryptoErrorCode =
  | 'ERR_DER'
  | 'ERR_CMS_FORMAT'
  | 'ERR_CMS_UNSUPPORTED'
  | 'ERR_CMS_SIGNATURE'
  | 'ERR_CMS_DECRYPT'
  | 'ERR_CMS_NO_RECIPIENT'
  | 'ERR_CERT_FORMAT'
  | 'ERR_CERT_UNTRUSTED'
  | 'ERR_CERT_EXPIRED'
  | 'ERR_CERT_NOT_YET_VALID'
  | 'ERR_CSR_FORMAT'
  | 'ERR_CSR_SIGNATURE'
  | 'ERR_KEY_FORMAT'
  | 'ERR_SIGNER_KEY_MISMATCH'
  | 'ERR_PKCS12';

/**
 * A signature, envelope, certificate, CSR or key was malformed, untrusted or did not verify, or a
 * signer's private key is not the one its certificate holds (`ERR_SIGNER_KEY_MISMATCH`).
 */
export class CryptoError extends OrchardError {
  declare readonly name: 'CryptoError';
  readonly status = 400;
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/** One problem found while validating a value against Apple's schema. */
export interface ValidationIssue {
  /** Where, e.g. `PayloadContent[2].AllowCamera`; empty for the root. */
  path: string;
  /** Stable machine-readable code, e.g. `unknown-key`. */
  code: string;
  /** One sentence for humans. */
  message: string;
  /** `error` makes the value invalid; `warning` does not. */
  severity: 'error' | 'warning';
}

/** A value failed validation against Apple's schema or our own rules; `issues` lists every problem. */
export class ValidationError extends OrchardError {
  declare readonly name: 'ValidationError';
  readonly code = 'ERR_VALIDATION';
  readonly status = 422;
  constructor(
    message: string,
    readonly issues: readonly ValidationIssue[],
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/** Codes of {@link ProfileError}. */
export type ProfileErrorCode =
  | 'ERR_PROFILE_FORMAT'
  | 'ERR_PROFILE_NOT_SIGNED'
  | 'ERR_PROFILE_NOT_ENCRYPTED'
  | 'ERR_PROFILE_ALREADY_ENCRYPTED';

/**
 * A configuration profile was not what the operation needs: not a profile dictionary, not
 * signed when a signature is required, not encrypted when decrypting, or already encrypted.
 */
export class ProfileError extends OrchardError {
  declare readonly name: 'ProfileError';
  readonly status = 400;
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

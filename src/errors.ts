/**
 * Errors thrown by Orchard on bad input. Every error a client can cause is an
 * {@link OrchardError}: it carries a stable `code`, a deliberate HTTP `status`
 * and `expose` (whether its message may be shown to the client).
 *
 * The status is protocol, not decoration: an Apple device that receives 401
 * removes its MDM profile, so nothing here maps to 401 unless unenrolling is
 * the intent.
 */

/** Options accepted by every {@link OrchardError} constructor. */
export interface OrchardErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Raw input or context for logs; never sent to a client. */
  detail?: unknown;
}

/**
 * Base class of every error Orchard throws on bad input or a failed check.
 * Adapters answer with `status` and, when `expose` is true, with `code` and `message`.
 */
export abstract class OrchardError extends Error {
  /** Stable machine-readable code, e.g. `ERR_PLIST_DEPTH`. */
  abstract readonly code: string;
  /** HTTP status an adapter should answer with. */
  abstract readonly status: number;
  /** Raw input or context for logs; never echoed to clients. */
  readonly detail: unknown;

  constructor(message: string, options: OrchardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options.detail;
  }

  /** Whether the message may be shown to a client: true for 4xx, false for 5xx. */
  get expose(): boolean {
    return this.status < 500;
  }
}

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

/** A storage backend failed; always a 5xx so a device never reads it as an unenrollment. */
export class StorageError extends OrchardError {
  readonly code = 'ERR_STORAGE';
  readonly status = 503;
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
  readonly status = 400;
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/** Codes of {@link ProtocolError}. */
export type ProtocolErrorCode =
  | 'ERR_CHECKIN_FORMAT'
  | 'ERR_REPORT_FORMAT'
  | 'ERR_ENROLLMENT_ID'
  | 'ERR_CONTENT_TYPE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_METHOD'
  | 'ERR_ROUTE'
  | 'ERR_ENDPOINT'
  | 'ERR_NOT_FOUND'
  | 'ERR_NOT_CONFIGURED';

const protocolStatus: Record<ProtocolErrorCode, number> = {
  ERR_CHECKIN_FORMAT: 400,
  ERR_REPORT_FORMAT: 400,
  ERR_ENROLLMENT_ID: 400,
  ERR_CONTENT_TYPE: 415,
  ERR_BODY_TOO_LARGE: 413,
  ERR_METHOD: 405,
  ERR_ROUTE: 404,
  ERR_ENDPOINT: 400,
  ERR_NOT_FOUND: 404,
  ERR_NOT_CONFIGURED: 501,
};

/** An MDM request was malformed or asked for something that does not exist; the status follows the code. */
export class ProtocolError extends OrchardError {
  readonly status: number;
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
    this.status = protocolStatus[code];
  }
}

/** Codes of {@link DeviceAuthError}. */
export type DeviceAuthErrorCode =
  | 'ERR_IDENTITY_MISSING'
  | 'ERR_IDENTITY_HEADER'
  | 'ERR_CERT_CHAIN'
  | 'ERR_CERT_BINDING'
  | 'ERR_TOPIC'
  | 'ERR_ENROLLMENT_UNKNOWN'
  | 'ERR_DEVICE_CERT_REVOKED';

/**
 * A device could not be authenticated (no certificate, untrusted, revoked, bound to another
 * enrollment). Always 400: a 401 would make the device remove its MDM profile.
 */
export class DeviceAuthError extends OrchardError {
  readonly status = 400;
  constructor(
    readonly code: DeviceAuthErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The server deliberately no longer knows this enrollment: answered 403 with Apple's
 * `com.apple.unrecognized.device` body, which makes the device unenroll.
 */
export class UnrecognizedDeviceError extends OrchardError {
  readonly code = 'ERR_UNRECOGNIZED_DEVICE';
  readonly status = 403;
}

/** Codes of {@link PushError}. */
export type PushErrorCode =
  'ERR_PUSH_NO_TOPIC' | 'ERR_PUSH_KEY_MISMATCH' | 'ERR_PUSH_TOPIC_CHANGED' | 'ERR_PUSH_CSR';

/**
 * A push certificate, key or request was unusable, or a certificate replacement was refused.
 * `ERR_PUSH_TOPIC_CHANGED` is a 409 (the replacement would orphan enrolled devices); the rest are 400.
 */
export class PushError extends OrchardError {
  readonly status: number;
  constructor(
    readonly code: PushErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
    this.status = code === 'ERR_PUSH_TOPIC_CHANGED' ? 409 : 400;
  }
}

/** Codes of {@link ScepError}. */
export type ScepErrorCode =
  'ERR_SCEP_OPERATION' | 'ERR_SCEP_MESSAGE' | 'ERR_SCEP_BODY_TOO_LARGE' | 'ERR_SCEP_VALIDATOR';

const scepStatus: Record<ScepErrorCode, number> = {
  ERR_SCEP_OPERATION: 400,
  ERR_SCEP_MESSAGE: 400,
  ERR_SCEP_BODY_TOO_LARGE: 413,
  ERR_SCEP_VALIDATOR: 503,
};

/**
 * A SCEP request could not be answered with a CertRep: unknown operation, a message that is not
 * a readable pkiMessage, a body past the limit (413), or an unreachable challenge validator (503).
 */
export class ScepError extends OrchardError {
  readonly status: number;
  constructor(
    readonly code: ScepErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
    this.status = scepStatus[code];
  }
}

/** Codes of {@link CertificateAuthorityError}. */
export type CertificateAuthorityErrorCode =
  | 'ERR_CA_KEY'
  | 'ERR_CA_FILE'
  | 'ERR_CA_PASSPHRASE'
  | 'ERR_CA_POLICY'
  | 'ERR_CA_SERIAL_CONFLICT'
  | 'ERR_CA_NOT_FOUND';

const caStatus: Record<CertificateAuthorityErrorCode, number> = {
  ERR_CA_KEY: 400,
  ERR_CA_FILE: 500,
  ERR_CA_PASSPHRASE: 400,
  ERR_CA_POLICY: 400,
  ERR_CA_SERIAL_CONFLICT: 409,
  ERR_CA_NOT_FOUND: 404,
};

/**
 * The certificate authority refused or could not do something: a key that does not match its
 * certificate, an unreadable certificate file, a wrong passphrase, a request outside the issuance policy, a serial already
 * recorded, or an unknown serial.
 */
export class CertificateAuthorityError extends OrchardError {
  readonly status: number;
  constructor(
    readonly code: CertificateAuthorityErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
    this.status = caStatus[code];
  }
}

/** Codes of {@link SecretsError}. */
export type SecretsErrorCode =
  'ERR_SECRETS_KEY' | 'ERR_SECRETS_KEY_MISMATCH' | 'ERR_SECRET_UNKNOWN_KEY' | 'ERR_SECRET_OPEN';

/**
 * A device secret sealed at rest, or the key that seals them, was unusable: a malformed key file
 * (`ERR_SECRETS_KEY`), a key that is not the one the database was sealed with
 * (`ERR_SECRETS_KEY_MISMATCH`), a value sealed with a key the keyring lacks
 * (`ERR_SECRET_UNKNOWN_KEY`), or a value altered or moved to another row (`ERR_SECRET_OPEN`).
 * Always 500: the server's state is at fault, never the client.
 */
export class SecretsError extends OrchardError {
  readonly status = 500;
  constructor(
    readonly code: SecretsErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/** Codes of {@link IdentityError}. */
export type IdentityErrorCode = 'ERR_NO_BINDING' | 'ERR_NOT_ENROLLED';

/**
 * An administrative identity action (renewal, re-enrollment window) cannot apply to the
 * enrollment as it is: no live certificate binding (`ERR_NO_BINDING`) or not enrolled
 * (`ERR_NOT_ENROLLED`). Answered 409.
 */
export class IdentityError extends OrchardError {
  readonly status = 409;
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The `message` a client sees for a failure whose own message stays in the log (a 5xx, not
 * written for clients): a plain sentence for its status, never the error's text.
 */
export function hiddenMessage(status: number): string {
  return status === 503
    ? 'the service is unavailable right now; try again later'
    : 'internal error; the server log has the details (look up this x-request-id)';
}

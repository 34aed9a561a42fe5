/**
 * Errors about the server's own parts: storage, push certificates, the certificate authority,
 * sealed secrets and administrative identity actions. Each status is chosen so that a device
 * never reads a server fault as an unenrollment.
 */
import { OrchardError, type OrchardErrorOptions } from './base.js';

/** A storage backend failed; always a 5xx so a device never reads it as an unenrollment. */
export class StorageError extends OrchardError {
  declare readonly name: 'StorageError';
  readonly code = 'ERR_STORAGE';
  readonly status = 503;
}

/** Codes of {@link PushError}. */
export type PushErrorCode =
  'ERR_PUSH_NO_TOPIC' | 'ERR_PUSH_KEY_MISMATCH' | 'ERR_PUSH_TOPIC_CHANGED' | 'ERR_PUSH_CSR';

/**
 * A push certificate, key or request was unusable, or a certificate replacement was refused.
 * `ERR_PUSH_TOPIC_CHANGED` is a 409 (the replacement would orphan enrolled devices); the rest are 400.
 */
export class PushError extends OrchardError {
  declare readonly name: 'PushError';
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
 * certificate, an unreadable certificate file, a wrong passphrase, a request outside the
 * issuance policy, a serial already recorded, or an unknown serial.
 */
export class CertificateAuthorityError extends OrchardError {
  declare readonly name: 'CertificateAuthorityError';
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
  declare readonly name: 'SecretsError';
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
  declare readonly name: 'IdentityError';
  readonly status = 409;
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
  }
}

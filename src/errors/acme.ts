/**
 * Errors of the ACME server (RFC 8555 with Apple's `device-attest-01`): each code names one ACME
 * error type (`urn:ietf:params:acme:error:<type>`) and the status RFC 8555 gives it, so the
 * edge renders every refusal as an RFC 7807 problem document without a table of its own.
 */
import { OrchardError, type OrchardErrorOptions } from './base.js';

/** Codes of {@link AcmeError}. */
export type AcmeErrorCode =
  | 'ERR_ACME_MALFORMED'
  | 'ERR_ACME_BAD_NONCE'
  | 'ERR_ACME_BAD_SIGNATURE_ALGORITHM'
  | 'ERR_ACME_BAD_PUBLIC_KEY'
  | 'ERR_ACME_UNAUTHORIZED'
  | 'ERR_ACME_ACCOUNT_DOES_NOT_EXIST'
  | 'ERR_ACME_UNSUPPORTED_IDENTIFIER'
  | 'ERR_ACME_REJECTED_IDENTIFIER'
  | 'ERR_ACME_ORDER_NOT_READY'
  | 'ERR_ACME_BAD_CSR'
  | 'ERR_ACME_INCORRECT_RESPONSE'
  | 'ERR_ACME_BAD_ATTESTATION'
  | 'ERR_ACME_NOT_FOUND'
  | 'ERR_ACME_CONFLICT'
  | 'ERR_ACME_METHOD'
  | 'ERR_ACME_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_ACME_SERVER_INTERNAL';

/** The ACME error type (after `urn:ietf:params:acme:error:`) and the HTTP status of each code. */
export const ACME_ERROR_TYPES: Readonly<Record<AcmeErrorCode, { type: string; status: number }>> = {
  ERR_ACME_MALFORMED: { type: 'malformed', status: 400 },
  ERR_ACME_BAD_NONCE: { type: 'badNonce', status: 400 },
  ERR_ACME_BAD_SIGNATURE_ALGORITHM: { type: 'badSignatureAlgorithm', status: 400 },
  ERR_ACME_BAD_PUBLIC_KEY: { type: 'badPublicKey', status: 400 },
  ERR_ACME_UNAUTHORIZED: { type: 'unauthorized', status: 403 },
  ERR_ACME_ACCOUNT_DOES_NOT_EXIST: { type: 'accountDoesNotExist', status: 400 },
  ERR_ACME_UNSUPPORTED_IDENTIFIER: { type: 'unsupportedIdentifier', status: 400 },
  ERR_ACME_REJECTED_IDENTIFIER: { type: 'rejectedIdentifier', status: 400 },
  ERR_ACME_ORDER_NOT_READY: { type: 'orderNotReady', status: 403 },
  ERR_ACME_BAD_CSR: { type: 'badCSR', status: 400 },
  ERR_ACME_INCORRECT_RESPONSE: { type: 'incorrectResponse', status: 400 },
  // draft-acme-device-attest: the attestation statement did not verify.
  ERR_ACME_BAD_ATTESTATION: { type: 'badAttestationStatement', status: 400 },
  ERR_ACME_NOT_FOUND: { type: 'malformed', status: 404 },
  ERR_ACME_CONFLICT: { type: 'malformed', status: 409 },
  ERR_ACME_METHOD: { type: 'malformed', status: 405 },
  ERR_ACME_UNSUPPORTED_MEDIA_TYPE: { type: 'malformed', status: 415 },
  ERR_ACME_SERVER_INTERNAL: { type: 'serverInternal', status: 500 },
};

/** The URN prefix of every ACME error type (RFC 8555 section 6.7). */
export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/**
 * An ACME request was refused: its `code` names the ACME error type (`acmeType`, the full URN)
 * and the status. Never 401: ACME has no use for it and a device must never read one.
 */
export class AcmeError extends OrchardError {
  declare readonly name: 'AcmeError';
  readonly status: number;
  /** The full error type URN, e.g. `urn:ietf:params:acme:error:badNonce`. */
  readonly acmeType: string;
  constructor(
    readonly code: AcmeErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
    const { type, status } = ACME_ERROR_TYPES[code];
    this.status = status;
    this.acmeType = `${ACME_ERROR_PREFIX}${type}`;
  }
}

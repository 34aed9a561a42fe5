/**
 * Errors that refuse a request: at the edge whatever the surface ({@link RequestError}), on the
 * MDM and SCEP device routes, and on the admin API. None is 401: a device that reads 401 removes
 * its MDM profile, so only {@link UnrecognizedDeviceError} (403) is meant to unenroll.
 */
import { OrchardError, type OrchardErrorOptions } from './base.js';

/** Codes of {@link RequestError}. */
export type RequestErrorCode = 'ERR_BODY_TOO_LARGE' | 'ERR_METHOD' | 'ERR_NOT_FOUND';

const requestStatus: Record<RequestErrorCode, number> = {
  ERR_BODY_TOO_LARGE: 413,
  ERR_METHOD: 405,
  ERR_NOT_FOUND: 404,
};

/**
 * An HTTP request refused the same way on every surface (device routes, SCEP, admin API): a body
 * past the limit (413), a method the route does not take (405), or nothing at that path (404).
 */
export class RequestError extends OrchardError {
  declare readonly name: 'RequestError';
  readonly status: number;
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(message, options);
    this.status = requestStatus[code];
  }
}

/** Codes of {@link ProtocolError}. */
export type ProtocolErrorCode =
  | 'ERR_CHECKIN_FORMAT'
  | 'ERR_REPORT_FORMAT'
  | 'ERR_ENROLLMENT_ID'
  | 'ERR_CONTENT_TYPE'
  | 'ERR_ROUTE'
  | 'ERR_ENDPOINT'
  | 'ERR_NOT_CONFIGURED';

const protocolStatus: Record<ProtocolErrorCode, number> = {
  ERR_CHECKIN_FORMAT: 400,
  ERR_REPORT_FORMAT: 400,
  ERR_ENROLLMENT_ID: 400,
  ERR_CONTENT_TYPE: 415,
  ERR_ROUTE: 404,
  ERR_ENDPOINT: 400,
  ERR_NOT_CONFIGURED: 501,
};

/** An MDM request was malformed or asked for something that does not exist; the status follows the code. */
export class ProtocolError extends OrchardError {
  declare readonly name: 'ProtocolError';
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
  declare readonly name: 'DeviceAuthError';
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
  declare readonly name: 'UnrecognizedDeviceError';
  readonly code = 'ERR_UNRECOGNIZED_DEVICE';
  readonly status = 403;
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
  declare readonly name: 'ScepError';
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

/** Codes of {@link AdminError}. */
export type AdminErrorCode =
  | 'ERR_API_KEY_MISSING'
  | 'ERR_API_KEY_INVALID'
  | 'ERR_API_SCOPE'
  | 'ERR_BAD_REQUEST'
  | 'ERR_BAD_JSON'
  | 'ERR_UNSUPPORTED_MEDIA'
  | 'ERR_CONFLICT'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_ROTATED'
  | 'ERR_PUSH_DISABLED'
  | 'ERR_MAIL_DISABLED'
  | 'ERR_MAIL';

const adminStatus: Record<AdminErrorCode, number> = {
  ERR_API_KEY_MISSING: 403,
  ERR_API_KEY_INVALID: 403,
  ERR_API_SCOPE: 403,
  ERR_BAD_REQUEST: 400,
  ERR_BAD_JSON: 400,
  ERR_UNSUPPORTED_MEDIA: 415,
  ERR_CONFLICT: 409,
  ERR_TOKEN_INVALID: 404,
  // A rotated personal link is gone for good and says so, unlike an unknown one.
  ERR_TOKEN_ROTATED: 410,
  ERR_PUSH_DISABLED: 503,
  ERR_MAIL_DISABLED: 503,
  ERR_MAIL: 503,
};

/** Options of {@link AdminError}: `field` names the request part at fault (`cursor`, `body`, ...). */
export interface AdminErrorOptions extends OrchardErrorOptions {
  field?: string;
}

/**
 * An admin API or enrollment request was refused. Missing or wrong credentials are 403 (never
 * 401, by house rule); the status follows the code. `field`, when set, names the query
 * parameter, path parameter or body field at fault and is part of the JSON answer.
 */
export class AdminError extends OrchardError {
  declare readonly name: 'AdminError';
  readonly status: number;
  readonly field: string | undefined;
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    options?: AdminErrorOptions,
  ) {
    super(message, options);
    this.status = adminStatus[code];
    this.field = options?.field;
  }
}

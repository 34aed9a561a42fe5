/**
 * Errors of the daemon: configuration refused at start-up (naming the flag) and admin API
 * refusals. Both are {@link OrchardError}s with a stable `code`; none maps to 401.
 */
import { OrchardError, type OrchardErrorOptions } from '../index.js';

/** A flag or `ORCHARD_*` variable was invalid; `flag` names it (e.g. `--listen`). */
export class ConfigError extends OrchardError {
  readonly code = 'ERR_CONFIG';
  readonly status = 400;
  constructor(
    readonly flag: string,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(`${flag}: ${message}`, options);
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
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD'
  | 'ERR_CONFLICT'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_PUSH_DISABLED';

const adminStatus: Record<AdminErrorCode, number> = {
  ERR_API_KEY_MISSING: 403,
  ERR_API_KEY_INVALID: 403,
  ERR_API_SCOPE: 403,
  ERR_BAD_REQUEST: 400,
  ERR_BAD_JSON: 400,
  ERR_UNSUPPORTED_MEDIA: 415,
  ERR_BODY_TOO_LARGE: 413,
  ERR_NOT_FOUND: 404,
  ERR_METHOD: 405,
  ERR_CONFLICT: 409,
  ERR_TOKEN_INVALID: 404,
  ERR_PUSH_DISABLED: 503,
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

  /** Always true: admin messages are written for the client (503 ERR_PUSH_DISABLED's how-to too). */
  override get expose(): boolean {
    return true;
  }
}

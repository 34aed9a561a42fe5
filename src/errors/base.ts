/**
 * The two roots of Orchard's errors: {@link OrchardError}, raised while answering a request and
 * carrying a deliberate HTTP status, and {@link OrchardStartupError}, raised while starting up
 * and carrying the flag to fix instead of a status.
 */
import type { OrchardHttpErrorCode, OrchardStartupErrorCode } from '../errors.js';

/** Options accepted by every {@link OrchardError} and {@link OrchardStartupError} constructor. */
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
  /** Stable machine-readable code, e.g. `ERR_PLIST_DEPTH`; unique to one subclass. */
  abstract readonly code: OrchardHttpErrorCode;
  /** HTTP status an adapter should answer with; never 401 (a device would unenroll). */
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

/**
 * Base class of errors that stop Orchard from starting (a bad flag, an unusable file). They
 * never reach a client, so they have no HTTP status; `flag` names what the operator must fix.
 */
export abstract class OrchardStartupError extends Error {
  /** Stable machine-readable code, e.g. `ERR_CONFIG`; unique to one subclass. */
  abstract readonly code: OrchardStartupErrorCode;
  /** The flag (`--listen`) or environment variable (`ORCHARD_LISTEN`) at fault. */
  abstract readonly flag: string;
  /** Raw input or context for logs. */
  readonly detail: unknown;

  constructor(message: string, options: OrchardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options.detail;
  }
}

/**
 * A flag or `ORCHARD_*` variable was invalid, or a file it names was unusable; `flag` names it
 * (e.g. `--listen`) and the message starts with it.
 */
export class ConfigError extends OrchardStartupError {
  declare readonly name: 'ConfigError';
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly flag: string,
    message: string,
    options?: OrchardErrorOptions,
  ) {
    super(`${flag}: ${message}`, options);
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

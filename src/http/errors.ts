/**
 * The edge's one error renderer: the only place an error becomes an HTTP status and body, so
 * "never 401 to a device" and "no stack trace to a client" are enforced once. JSON
 * `{code, message}` for MDM and the admin API, `CODE: message` text for SCEP.
 */
import {
  AdminError,
  ManagementError,
  hiddenMessage,
  OrchardError,
  UnrecognizedDeviceError,
  ValidationError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { EdgeResponse } from './edge.js';

/**
 * How an error answer is written: `mdm` and `admin` as JSON `{code, message}` (admin adds the
 * `field` at fault and validation `issues`), `scep` as `CODE: message\n` text.
 */
export type ErrorFormat = 'mdm' | 'scep' | 'admin';

interface FormatText {
  readonly contentType: string;
  readonly failed: string;
  readonly refused: string;
  readonly unexpected: string;
}

const FORMATS: Readonly<Record<ErrorFormat, FormatText>> = {
  mdm: {
    contentType: 'application/json',
    failed: 'MDM request failed',
    refused: 'MDM request refused',
    unexpected: 'unexpected error in MDM request',
  },
  scep: {
    contentType: 'text/plain; charset=utf-8',
    failed: 'SCEP request failed',
    refused: 'SCEP request refused',
    unexpected: 'unexpected error in SCEP request',
  },
  admin: {
    contentType: 'application/json; charset=utf-8',
    failed: 'request failed',
    refused: 'request refused',
    unexpected: 'unexpected error',
  },
};

/** Apple's body for a deliberately forgotten device (makes it unenroll, unlike a 401's surprise). */
const UNRECOGNIZED = Buffer.from(JSON.stringify({ code: 'com.apple.unrecognized.device' }));

function body(format: ErrorFormat, code: string, message: string, error?: OrchardError): Buffer {
  if (format === 'scep') return Buffer.from(`${code}: ${message}\n`);
  const out: Record<string, unknown> = { code, message };
  if (format === 'admin' && error !== undefined) {
    if (error instanceof AdminError && error.field !== undefined) out.field = error.field;
    if (error instanceof ValidationError) out.issues = error.issues;
    if (error instanceof ManagementError) {
      if (error.group !== undefined) out.group = error.group;
      if (error.field !== undefined) out.field = error.field;
      if (error.issues !== undefined) out.issues = error.issues;
    }
  }
  return Buffer.from(JSON.stringify(out));
}

function answer(format: ErrorFormat, status: number, content: Buffer): EdgeResponse {
  return { status, headers: { 'content-type': FORMATS[format].contentType }, body: content };
}

/**
 * The status an answer may carry: a 401 would make a device remove its MDM profile, so it becomes
 * 500. Every status the edge writes passes here (errors through {@link renderError}, service
 * answers through the MDM endpoint).
 */
export function safeStatus(status: number): number {
  return status === 401 ? 500 : status;
}

/**
 * Renders `error` as an answer in `format`. An {@link OrchardError} keeps its status and code, with
 * its own message when `expose` is true (always for an {@link AdminError}) and
 * {@link hiddenMessage} otherwise (4xx logged at info,
 * 5xx at error). A 401 would make a device remove its MDM profile, so it is answered 500; an
 * {@link UnrecognizedDeviceError} is Apple's 403 `com.apple.unrecognized.device` (MDM format).
 * Anything else is 500 `ERR_INTERNAL` with a log line, never its message or stack. Never throws.
 */
export function renderError(error: unknown, format: ErrorFormat, logger: Logger): EdgeResponse {
  const text = FORMATS[format];
  if (error instanceof UnrecognizedDeviceError && format === 'mdm') {
    logger.info({ code: error.code }, text.refused);
    return answer(format, 403, UNRECOGNIZED);
  }
  if (error instanceof OrchardError && safeStatus(error.status) === error.status) {
    if (error.status >= 500) logger.error({ err: error, code: error.code }, text.failed);
    else
      logger.info(
        format === 'mdm' ? { code: error.code, msg: error.message } : { code: error.code },
        text.refused,
      );
    // AdminError messages are written for the client, 503 ERR_PUSH_DISABLED's how-to included.
    const exposed = error.expose || error instanceof AdminError;
    const message = exposed ? error.message : hiddenMessage(error.status);
    return answer(format, error.status, body(format, error.code, message, error));
  }
  logger.error({ err: error }, text.unexpected);
  return answer(format, 500, body(format, 'ERR_INTERNAL', hiddenMessage(500)));
}

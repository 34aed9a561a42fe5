/**
 * The HTTP-shaped front of an {@link MdmService}, shared by the node:http and fetch adapters:
 * routing by path and content type, decoding, identity extraction, dispatch, and the mapping of
 * errors to statuses (never 401, never a stack trace).
 */
import { OrchardError, ProtocolError, UnrecognizedDeviceError } from '../errors.js';
import {
  extractDeviceCertificate,
  type DeviceIdentityOptions,
} from '../identity/device-identity.js';
import { decodeCheckin, type CheckinMessage } from '../protocol/checkin.js';
import { decodeReport } from '../protocol/command.js';
import { resolveEnrollment } from '../protocol/enrollment-id.js';
import {
  silentLogger,
  type Logger,
  type MdmRequest,
  type MdmResponse,
  type MdmService,
} from './ports.js';

/** A request as an adapter hands it over. */
export interface MdmHttpRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Reads a header (case-insensitive); `undefined` when absent. */
  header(name: string): string | undefined;
  body: Uint8Array;
  /** DER of the TLS client certificate, when any. */
  tlsCertificate?: Uint8Array;
}

/** What the adapter writes back. */
export interface MdmHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Options of {@link createMdmHandler}. */
export interface MdmHandlerOptions {
  /** ServerURL path (check-ins by content type, reports otherwise); default `/mdm`. */
  serverPath?: string;
  /** CheckInURL path (check-ins only); default `/mdm/checkin`. */
  checkinPath?: string;
  /** Largest accepted body; larger ones get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  identity?: DeviceIdentityOptions;
  logger?: Logger;
}

/** An HTTP-shaped MDM endpoint; it never throws. */
export type MdmHandler = ((req: MdmHttpRequest) => Promise<MdmHttpResponse>) & {
  readonly maxBodyBytes: number;
};

/** Content type of check-in bodies. */
export const CHECKIN_CONTENT_TYPE = 'application/x-apple-aspen-mdm-checkin';
/** Content type of command report bodies. */
export const REPORT_CONTENT_TYPE = 'application/x-apple-aspen-mdm';

function mediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase();
}

function route(req: MdmHttpRequest, serverPath: string, checkinPath: string): 'checkin' | 'report' {
  if (req.path !== serverPath && req.path !== checkinPath)
    throw new ProtocolError('ERR_ROUTE', 'no such endpoint');
  if (req.method !== 'PUT') throw new ProtocolError('ERR_METHOD', 'only PUT is accepted');
  const type = mediaType(req.header('content-type'));
  if (req.path === checkinPath && req.path !== serverPath) {
    if (type !== undefined && type !== CHECKIN_CONTENT_TYPE) {
      throw new ProtocolError('ERR_CONTENT_TYPE', 'check-in content type expected');
    }
    return 'checkin';
  }
  return type === CHECKIN_CONTENT_TYPE ? 'checkin' : 'report';
}

function dispatchCheckin(
  service: MdmService,
  req: MdmRequest,
  msg: CheckinMessage,
): Promise<MdmResponse> {
  switch (msg.MessageType) {
    case 'Authenticate':
      return service.authenticate(req, msg);
    case 'TokenUpdate':
      return service.tokenUpdate(req, msg);
    case 'CheckOut':
      return service.checkOut(req, msg);
    case 'UserAuthenticate':
      return service.userAuthenticate(req, msg);
    case 'SetBootstrapToken':
      return service.setBootstrapToken(req, msg);
    case 'GetBootstrapToken':
      return service.getBootstrapToken(req, msg);
    case 'GetToken':
      return service.getToken(req, msg);
    case 'DeclarativeManagement':
      return service.declarativeManagement(req, msg);
  }
}

function jsonBody(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

/**
 * Maps an error to a response: an {@link OrchardError} to its status (a 401 is turned into 500,
 * since it would unenroll the device) with `{code, message}` when exposable; anything else to 500
 * with a log line. Deliberate unenrollment gets 403 `com.apple.unrecognized.device`.
 */
export function errorResponse(err: unknown, logger: Logger): MdmHttpResponse {
  const headers = { 'content-type': 'application/json' };
  if (err instanceof UnrecognizedDeviceError) {
    return { status: 403, headers, body: jsonBody({ code: 'com.apple.unrecognized.device' }) };
  }
  if (err instanceof OrchardError && err.status !== 401) {
    if (err.status >= 500) logger.error({ err, code: err.code }, 'MDM request failed');
    else logger.info({ code: err.code, msg: err.message }, 'MDM request refused');
    const body = err.expose ? { code: err.code, message: err.message } : { code: err.code };
    return { status: err.status, headers, body: jsonBody(body) };
  }
  logger.error({ err }, 'unexpected error in MDM request');
  return { status: 500, headers, body: jsonBody({ code: 'ERR_INTERNAL' }) };
}

function toHttp(res: MdmResponse): MdmHttpResponse {
  const status = res.status === 401 ? 500 : res.status;
  const headers: Record<string, string> = {};
  if (res.contentType !== undefined && res.body !== undefined)
    headers['content-type'] = res.contentType;
  return { status, headers, body: res.body ?? new Uint8Array(0) };
}

/**
 * Creates the HTTP-shaped endpoint for `service`. The result never rejects: every failure is
 * answered with a 4xx/5xx response (never 401).
 */
export function createMdmHandler(service: MdmService, options: MdmHandlerOptions = {}): MdmHandler {
  const serverPath = options.serverPath ?? '/mdm';
  const checkinPath = options.checkinPath ?? '/mdm/checkin';
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const logger = options.logger ?? silentLogger;
  const handle = async (req: MdmHttpRequest): Promise<MdmHttpResponse> => {
    try {
      const kind = route(req, serverPath, checkinPath);
      if (req.body.length > maxBodyBytes)
        throw new ProtocolError('ERR_BODY_TOO_LARGE', 'body is too large');
      const decoded =
        kind === 'checkin' ? decodeCheckin(req.body, { maxBytes: maxBodyBytes }) : undefined;
      const report =
        kind === 'report' ? decodeReport(req.body, { maxBytes: maxBodyBytes }) : undefined;
      const keys = decoded?.message ?? report ?? {};
      const enrollment = resolveEnrollment(keys);
      const certificate = extractDeviceCertificate(req, options.identity);
      const mdmReq: MdmRequest = {
        enrollment,
        body: req.body,
        ...(certificate ? { certificate } : {}),
      };
      let res: MdmResponse;
      if (report !== undefined) res = await service.commandReport(mdmReq, report);
      else if (decoded?.known === true)
        res = await dispatchCheckin(service, mdmReq, decoded.message);
      else if (decoded !== undefined) res = await service.unknownCheckin(mdmReq, decoded.message);
      else throw new TypeError('unreachable');
      return toHttp(res);
    } catch (err) {
      return errorResponse(err, logger);
    }
  };
  return Object.assign(handle, { maxBodyBytes });
}

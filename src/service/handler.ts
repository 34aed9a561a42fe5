/**
 * The HTTP-shaped front of an {@link MdmService}, shared by the node:http and fetch adapters:
 * routing by path and content type, identity (signature and, with `trust`, chain) on the raw
 * bytes, then decoding within a per-message budget, dispatch, and the mapping of errors to
 * statuses (never 401, never a stack trace).
 */
import {
  CryptoError,
  DeviceAuthError,
  hiddenMessage,
  OrchardError,
  ProtocolError,
  UnrecognizedDeviceError,
} from '../errors.js';
import {
  extractDeviceCertificate,
  type DeviceIdentityOptions,
} from '../identity/device-identity.js';
import { checkMdmSignature } from '../identity/mdm-signature.js';
import {
  checkDeviceTrustOptions,
  verifyDeviceTrust,
  type DeviceTrust,
} from '../identity/device-trust.js';
import {
  CHECKIN_LIMITS,
  decodeCheckin,
  type CheckinMessage,
  type DecodedCheckin,
  type MessageLimits,
} from '../protocol/checkin.js';
import { REPORT_LIMITS, decodeReport, type CommandReport } from '../protocol/command.js';
import { resolveEnrollment } from '../protocol/enrollment-id.js';
import {
  silentLogger,
  type DeviceCertificate,
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

/** The body decoders the handler calls; replaceable so tests can count what they did. */
export interface MdmDecoders {
  /** Default {@link decodeCheckin}. */
  checkin: (body: Uint8Array, limits: MessageLimits) => DecodedCheckin;
  /** Default {@link decodeReport}. */
  report: (body: Uint8Array, limits: MessageLimits) => CommandReport;
}

/** Options of {@link createMdmHandler}. */
export interface MdmHandlerOptions {
  /** ServerURL path (check-ins by content type, reports otherwise); default `/mdm`. */
  serverPath?: string;
  /** CheckInURL path (check-ins only); default `/mdm/checkin`. */
  checkinPath?: string;
  /**
   * Largest body the adapters read; larger ones get 413. Default the larger `limits.*.maxBytes`
   * (4 MiB); a smaller value also caps both kinds.
   */
  maxBodyBytes?: number;
  /**
   * Decoding budget per message kind, over {@link CHECKIN_LIMITS} and {@link REPORT_LIMITS}: a
   * body past `maxBytes` is 413 before anything else is done with it; past `maxItems` or
   * `maxDepth` it is 400.
   */
  limits?: { checkin?: Partial<MessageLimits>; report?: Partial<MessageLimits> };
  /**
   * The CA device identities must chain to. When set, every request must carry an identity
   * (`Mdm-Signature`, TLS certificate or configured header) that verifies over the raw body and
   * chains to `roots` before the body is decoded; otherwise it is refused with 400 and never
   * parsed. Pass the roots and intermediates given to `withCertAuth`, which still binds.
   */
  trust?: DeviceTrust;
  identity?: DeviceIdentityOptions;
  logger?: Logger;
  /** Replaces the body decoders (tests count their calls); default the protocol decoders. */
  decoders?: Partial<MdmDecoders>;
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

/**
 * Calls the method of `service` for a decoded check-in: the one place a check-in's
 * `MessageType` picks a service method (the handler and tests that bypass HTTP use it).
 */
export function dispatchCheckin(
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
 * since it would unenroll the device) with `{code, message}` (a generic message when not
 * exposable); anything else to 500 with a log line. Deliberate unenrollment gets 403 `com.apple.unrecognized.device`.
 */
export function errorResponse(err: unknown, logger: Logger): MdmHttpResponse {
  const headers = { 'content-type': 'application/json' };
  if (err instanceof UnrecognizedDeviceError) {
    return { status: 403, headers, body: jsonBody({ code: 'com.apple.unrecognized.device' }) };
  }
  if (err instanceof OrchardError && err.status !== 401) {
    if (err.status >= 500) logger.error({ err, code: err.code }, 'MDM request failed');
    else logger.info({ code: err.code, msg: err.message }, 'MDM request refused');
    const message = err.expose ? err.message : hiddenMessage(err.status);
    return { status: err.status, headers, body: jsonBody({ code: err.code, message }) };
  }
  logger.error({ err }, 'unexpected error in MDM request');
  return {
    status: 500,
    headers,
    body: jsonBody({ code: 'ERR_INTERNAL', message: hiddenMessage(500) }),
  };
}

function toHttp(res: MdmResponse): MdmHttpResponse {
  const status = res.status === 401 ? 500 : res.status;
  const headers: Record<string, string> = {};
  if (res.contentType !== undefined && res.body !== undefined)
    headers['content-type'] = res.contentType;
  return { status, headers, body: res.body ?? new Uint8Array(0) };
}

function budget(
  defaults: Readonly<MessageLimits>,
  given: Partial<MessageLimits> | undefined,
): MessageLimits {
  const limits = { ...defaults, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new TypeError(`createMdmHandler(): limits.*.${name} must be a positive integer`);
  }
  return limits;
}

function handlerLimits(options: MdmHandlerOptions): {
  checkin: MessageLimits;
  report: MessageLimits;
  maxBodyBytes: number;
} {
  const checkin = budget(CHECKIN_LIMITS, options.limits?.checkin);
  const report = budget(REPORT_LIMITS, options.limits?.report);
  const maxBodyBytes = options.maxBodyBytes ?? Math.max(checkin.maxBytes, report.maxBytes);
  checkin.maxBytes = Math.min(checkin.maxBytes, maxBodyBytes);
  report.maxBytes = Math.min(report.maxBytes, maxBodyBytes);
  return { checkin, report, maxBodyBytes };
}

/** The signer of a present `Mdm-Signature`, its chain checked before the body is hashed. */
function trustedSigner(
  header: string,
  req: MdmHttpRequest,
  trust: DeviceTrust,
  at: Date,
): DeviceCertificate {
  let x509;
  try {
    x509 = checkMdmSignature(header, req.body, { ...trust, at });
  } catch (cause) {
    if (!(cause instanceof CryptoError) || cause.code !== 'ERR_CERT_UNTRUSTED') throw cause;
    throw new DeviceAuthError('ERR_CERT_CHAIN', 'device certificate is not trusted', { cause });
  }
  return { der: x509.raw, x509, source: 'signature' };
}

/**
 * Who sent the raw request: the certificate from `Mdm-Signature` (verified over the exact body),
 * the TLS connection or the configured header, and with `trust` its chain to the roots (for a
 * signature, before the body is hashed). Runs before the body is decoded; throws 400 errors only.
 */
function authenticator(
  options: MdmHandlerOptions,
): (req: MdmHttpRequest) => DeviceCertificate | undefined {
  const { trust, identity } = options;
  if (trust === undefined) return (req) => extractDeviceCertificate(req, identity);
  checkDeviceTrustOptions(trust);
  const clock = trust.clock ?? identity?.clock ?? (() => new Date());
  const withClock: DeviceIdentityOptions = { ...identity, clock };
  return (req) => {
    const at = clock();
    const signature = identity?.mdmSignature === false ? undefined : req.header('mdm-signature');
    if (signature !== undefined && signature !== '')
      return trustedSigner(signature, req, trust, at);
    const certificate = extractDeviceCertificate(req, withClock);
    if (certificate === undefined)
      throw new DeviceAuthError('ERR_IDENTITY_MISSING', 'request carries no device certificate');
    verifyDeviceTrust(certificate.x509, trust, at);
    return certificate;
  };
}

async function dispatch(
  service: MdmService,
  req: MdmRequest,
  decoded: { report: CommandReport } | { checkin: DecodedCheckin },
): Promise<MdmResponse> {
  if ('report' in decoded) return service.commandReport(req, decoded.report);
  if (decoded.checkin.known) return dispatchCheckin(service, req, decoded.checkin.message);
  return service.unknownCheckin(req, decoded.checkin.message);
}

/**
 * Creates the HTTP-shaped endpoint for `service`. Per request: route, size limit of the message
 * kind (413), identity on the raw bytes (400), then decoding within the kind's budget and
 * dispatch. The result never rejects: every failure is answered with a 4xx/5xx response (never
 * 401). Throws `TypeError` at creation on invalid `limits` or `trust`.
 */
export function createMdmHandler(service: MdmService, options: MdmHandlerOptions = {}): MdmHandler {
  const serverPath = options.serverPath ?? '/mdm';
  const checkinPath = options.checkinPath ?? '/mdm/checkin';
  const limits = handlerLimits(options);
  const logger = options.logger ?? silentLogger;
  const authenticate = authenticator(options);
  const decodeCheckinBody = options.decoders?.checkin ?? decodeCheckin;
  const decodeReportBody = options.decoders?.report ?? decodeReport;
  const handle = async (req: MdmHttpRequest): Promise<MdmHttpResponse> => {
    try {
      const kind = route(req, serverPath, checkinPath);
      if (req.body.length > limits[kind].maxBytes)
        throw new ProtocolError('ERR_BODY_TOO_LARGE', 'body is too large');
      const certificate = authenticate(req);
      const decoded =
        kind === 'report'
          ? { report: decodeReportBody(req.body, limits.report) }
          : { checkin: decodeCheckinBody(req.body, limits.checkin) };
      const keys = 'report' in decoded ? decoded.report : decoded.checkin.message;
      const mdmReq: MdmRequest = {
        enrollment: resolveEnrollment(keys),
        body: req.body,
        ...(certificate ? { certificate } : {}),
      };
      return toHttp(await dispatch(service, mdmReq, decoded));
    } catch (err) {
      return errorResponse(err, logger);
    }
  };
  return Object.assign(handle, { maxBodyBytes: limits.maxBodyBytes });
}

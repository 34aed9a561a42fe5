/**
 * The MDM endpoints of the edge (ServerURL and CheckInURL), shared by the node:http and fetch
 * adapters: routing by path, method and content type, the size limit of each message kind, the
 * device identity on the raw bytes (with `trust`, before anything is decoded), then the core's
 * {@link handleMessage}; every failure goes through the one error renderer.
 */
import { ProtocolError, RequestError } from '../errors.js';
import type { DeviceIdentityOptions } from '../identity/device-identity.js';
import type { DeviceTrust } from '../identity/device-trust.js';
import { silentLogger, type Logger } from '../logger.js';
import type { MessageLimits } from '../protocol/checkin.js';
import {
  handleMessage,
  messageBudgets,
  PROTOCOL_DECODERS,
  type MdmDecoders,
  type MessageKind,
} from '../service/handler.js';
import type { MdmResponse, MdmService } from '../service/ports.js';
import { mediaType, type EdgeRequest, type EdgeResponse } from './edge.js';
import { renderError, safeStatus } from './errors.js';
import { deviceAuthenticator } from './mdm-identity.js';

export { dispatchCheckin, type MdmDecoders } from '../service/handler.js';

/** A request as an adapter hands it over (the edge's {@link EdgeRequest}). */
export type MdmHttpRequest = EdgeRequest;

/** What the adapter writes back (the edge's {@link EdgeResponse}). */
export type MdmHttpResponse = EdgeResponse;

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
   * Decoding budget per message kind, over `CHECKIN_LIMITS` and `REPORT_LIMITS`: a body past
   * `maxBytes` is 413 before anything else is done with it; past `maxItems` or `maxDepth` it is 400.
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

const EMPTY = new Uint8Array(0);

function route(req: EdgeRequest, serverPath: string, checkinPath: string): MessageKind {
  if (req.path !== serverPath && req.path !== checkinPath)
    throw new ProtocolError('ERR_ROUTE', 'no such endpoint');
  if (req.method !== 'PUT') throw new RequestError('ERR_METHOD', 'only PUT is accepted');
  const type = mediaType(req.header('content-type'));
  if (req.path === checkinPath && req.path !== serverPath) {
    if (type !== undefined && type !== CHECKIN_CONTENT_TYPE) {
      throw new ProtocolError('ERR_CONTENT_TYPE', 'check-in content type expected');
    }
    return 'checkin';
  }
  return type === CHECKIN_CONTENT_TYPE ? 'checkin' : 'report';
}

function toHttp(res: MdmResponse): EdgeResponse {
  const status = safeStatus(res.status);
  if (res.body === undefined) return { status, headers: {}, body: EMPTY };
  const headers: Record<string, string> = {};
  if (res.contentType !== undefined) headers['content-type'] = res.contentType;
  return { status, headers, body: res.body };
}

/**
 * Maps an error to an MDM answer through the edge's renderer (`renderError(err, 'mdm', logger)`):
 * an OrchardError to its status with `{code, message}` (never 401), anything else to 500.
 */
export function errorResponse(err: unknown, logger: Logger): MdmHttpResponse {
  return renderError(err, 'mdm', logger);
}

/**
 * Creates the MDM endpoint for `service`. Per request: route, size limit of the message kind
 * (413), identity on the raw bytes (400), then decoding within the kind's budget and dispatch.
 * The result never rejects: every failure is answered with a 4xx/5xx response (never 401).
 * Throws `TypeError` at creation on invalid `limits` or `trust`.
 */
export function createMdmHandler(service: MdmService, options: MdmHandlerOptions = {}): MdmHandler {
  const serverPath = options.serverPath ?? '/mdm';
  const checkinPath = options.checkinPath ?? '/mdm/checkin';
  const budgets = messageBudgets(options.limits, options.maxBodyBytes);
  const logger = options.logger ?? silentLogger;
  const authenticate = deviceAuthenticator(options.trust, options.identity);
  const decoders: MdmDecoders =
    options.decoders === undefined
      ? PROTOCOL_DECODERS
      : { ...PROTOCOL_DECODERS, ...options.decoders };
  const refused = (err: unknown): MdmHttpResponse => renderError(err, 'mdm', logger);
  const answered = (res: MdmResponse): MdmHttpResponse => {
    try {
      return toHttp(res);
    } catch (err) {
      return refused(err);
    }
  };
  // Promise chaining rather than an async function: one promise less per idle poll.
  const handle = (req: MdmHttpRequest): Promise<MdmHttpResponse> => {
    let pending: Promise<MdmResponse>;
    try {
      const kind = route(req, serverPath, checkinPath);
      if (req.body.length > budgets[kind].maxBytes)
        throw new RequestError('ERR_BODY_TOO_LARGE', 'body is too large');
      const certificate = authenticate(req);
      const message = { kind, body: req.body, certificate };
      pending = handleMessage(service, message, budgets, decoders);
    } catch (err) {
      return Promise.resolve(refused(err));
    }
    return pending.then(answered, refused);
  };
  return Object.assign(handle, { maxBodyBytes: budgets.maxBodyBytes });
}

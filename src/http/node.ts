/**
 * node:http / node:https adapter: reads the body with the edge's reader (413 past the limit),
 * hands the request to the MDM endpoint and writes its answer. The configured certificate header is passed on only
 * from trusted proxies. Translation only. Import from `orchard-mdm/node`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { silentLogger, type Logger } from '../logger.js';
import type { MdmService } from '../service/ports.js';
import { readNodeBodyInto } from './body.js';
import type { EdgeRequest, EdgeResponse } from './edge.js';
import { renderError } from './errors.js';
import { createMdmHandler, type MdmHandler, type MdmHandlerOptions } from './mdm.js';
import { createProxyTrust, LOOPBACK_PROXIES, type ProxyTrust } from './trusted-proxy.js';

export {
  createProxyTrust,
  LOOPBACK_PROXIES,
  normalizeAddress,
  type ProxyTrust,
} from './trusted-proxy.js';
export { readNodeBody } from './body.js';
export {
  enrollmentRoute,
  scepRoute,
  SCEP_BODY_LIMIT,
  type EnrollmentRouteOptions,
} from './routes.js';
export { closeServer, createNodeServer, listenServer, type NodeServerOptions } from './serve.js';
export {
  createEdgeListener,
  findRoute,
  jsonResponse,
  requestIds,
  requestTarget,
  sendResponse,
  type EdgeContext,
  type EdgeListenerOptions,
  type EdgeRoute,
  type RequestLine,
} from './listener.js';
export {
  addressBucket,
  createFailedLoginLimiter,
  createRateLimiter,
  perAddress,
  rateLimited,
  type FailedLoginLimiter,
  type FailedLoginLimiterOptions,
  type RateLimiter,
  type RateLimiterOptions,
} from './rate-limit.js';
export {
  guardConnections,
  type ConnectionGuardOptions,
  type ConnectionGuardStats,
} from './connections.js';
export { createHealthCheck, type HealthDeps, type PushReloadReport } from './health.js';

/** A node request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Options of {@link createNodeListener}. */
export interface NodeListenerOptions extends MdmHandlerOptions {
  /**
   * Peers (CIDRs or bare addresses, IPv4 or IPv6) from which `identity.certHeader` is believed;
   * from any other peer it is ignored, as if absent. Default {@link LOOPBACK_PROXIES}.
   */
  trustedProxies?: readonly string[];
}

function tlsCertificate(req: IncomingMessage): Uint8Array | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const raw = socket.getPeerCertificate(false).raw as Buffer | undefined;
  return raw !== undefined && raw.length > 0 ? raw : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

type HeaderReader = (req: IncomingMessage) => (name: string) => string | undefined;

/**
 * Reads headers, hiding the certificate header unless the peer is a trusted proxy: a device's
 * certificate is public, so from anyone else the header would be identity without proof.
 */
function headerReader(
  certHeader: string | undefined,
  trust: ProxyTrust,
  logger: Logger,
): HeaderReader {
  if (certHeader === undefined) return (req) => (name) => header(req, name);
  const hidden = certHeader.toLowerCase();
  return (req) => {
    const peer = req.socket.remoteAddress;
    if (trust.trusts(peer)) return (name) => header(req, name);
    if (req.headers[hidden] !== undefined)
      logger.info({ peer }, 'certificate header from an untrusted peer ignored');
    return (name) => (name.toLowerCase() === hidden ? undefined : header(req, name));
  };
}

/** The headers of an empty answer without headers of its own (most idle polls). */
const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-length': '0' });

function isEmpty(headers: Record<string, string>): boolean {
  for (const _ in headers) return false;
  return true;
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array,
): void {
  // An empty answer (most idle polls) goes out with its headers in one write.
  if (body.length === 0) {
    res.writeHead(status, isEmpty(headers) ? EMPTY_HEADERS : { ...headers, 'content-length': '0' });
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}

/**
 * A node:http(s) listener for an {@link MdmService} (or a handler from `createMdmHandler`; then
 * pass its `identity` here too, so the certificate header is gated). For direct TLS, create the
 * server with `requestCert: true, rejectUnauthorized: false`: the chain is checked by
 * `withCertAuth`, which answers 400 rather than dropping the connection. Throws TypeError on an
 * invalid `trustedProxies` entry.
 */
export function createNodeListener(
  service: MdmService | MdmHandler,
  options: NodeListenerOptions = {},
): NodeListener {
  const handler = typeof service === 'function' ? service : createMdmHandler(service, options);
  const logger = options.logger ?? silentLogger;
  const readHeaders = headerReader(
    options.identity?.certHeader,
    createProxyTrust(options.trustedProxies ?? LOOPBACK_PROXIES),
    logger,
  );
  const fail = (res: ServerResponse, err: unknown): void => {
    // The body may be left unread (past the limit): the connection cannot be reused.
    res.setHeader('connection', 'close');
    const out = renderError(err, 'mdm', logger);
    send(res, out.status, out.headers, out.body);
  };
  const unwritable = (err: unknown): void => {
    logger.error({ err }, 'could not write MDM response');
  };
  const serve = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    cert?: Uint8Array,
  ): void => {
    let pending: Promise<EdgeResponse>;
    try {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const edge: EdgeRequest = {
        method: req.method ?? 'GET',
        path: query === -1 ? url : url.slice(0, query),
        header: readHeaders(req),
        body,
      };
      if (cert !== undefined) edge.tlsCertificate = cert;
      pending = handler(edge);
    } catch (err) {
      fail(res, err);
      return;
    }
    pending
      .then(
        (out) => {
          send(res, out.status, out.headers, out.body);
        },
        (err: unknown) => {
          fail(res, err);
        },
      )
      .catch(unwritable);
  };
  // Callbacks rather than an async function: an idle poll is most of a fleet's traffic, and each
  // promise and await costs it (the body arrives by events anyway; the handler answers a promise).
  return (req, res) => {
    const cert = tlsCertificate(req);
    readNodeBodyInto(req, handler.maxBodyBytes, (err, body) => {
      try {
        if (err === undefined) serve(req, res, body as Buffer, cert);
        else fail(res, err);
      } catch (thrown) {
        unwritable(thrown);
      }
    });
  };
}

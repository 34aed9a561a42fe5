/**
 * node:http(s) servers for the edge: created with timeouts that cut slow clients on time,
 * listened on, and closed gracefully (in-flight requests drained for a grace period). Import from
 * `orchard-mdm/node`.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions {
  /** Time a client has to send the request headers (ms); also the TLS handshake's limit. */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (ms). */
  requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open (ms). */
  keepAliveTimeoutMs: number;
  /** Serve HTTPS with this PEM chain and key; `requestClientCert` asks for a client certificate. */
  tls?: { cert: Buffer | string; key: Buffer | string; requestClientCert: boolean };
}

/**
 * Timeouts as configured. Node checks headers and request timeouts only every
 * `connectionsCheckingInterval` (30 s by default), which stretched 10 s to about 27 s.
 */
function timeouts(options: NodeServerOptions) {
  const shortest = Math.min(options.headersTimeoutMs, options.requestTimeoutMs);
  return {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shortest / 4))),
  };
}

/** An HTTP server, or HTTPS with `tls`, with its timeouts enforced within a quarter of the shortest. */
export function createNodeServer(options: NodeServerOptions): Server {
  const { tls } = options;
  if (!tls) return createHttpServer(timeouts(options));
  return createHttpsServer({
    ...timeouts(options),
    // A handshake gets no longer than the headers that follow it (Node's default is 120 s).
    handshakeTimeout: options.headersTimeoutMs,
    cert: tls.cert,
    key: tls.key,
    // The chain is checked by withCertAuth, which answers 400 instead of dropping the connection.
    requestCert: tls.requestClientCert,
    rejectUnauthorized: false,
  });
}

/** Listens on `host:port` (0 picks a free port); resolves the port, rejects with the listen error. */
export function listenServer(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, closes idle connections, and cuts the rest after `graceMs`; resolves once closed. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

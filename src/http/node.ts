/**
 * node:http / node:https adapter: reads the body under a limit (413 past it), hands the request
 * to the MDM handler and writes its answer. Translation only. Import from `orchard-mdm/node`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ProtocolError } from '../errors.js';
import {
  createMdmHandler,
  errorResponse,
  type MdmHandler,
  type MdmHandlerOptions,
} from '../service/handler.js';
import { silentLogger, type MdmService } from '../service/ports.js';

/** A node request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new ProtocolError('ERR_BODY_TOO_LARGE', 'body is too large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new ProtocolError('ERR_BODY_TOO_LARGE', 'body is too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
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

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array,
): void {
  res.writeHead(status, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}

/**
 * A node:http(s) listener for an {@link MdmService} (or a handler from `createMdmHandler`).
 * For direct TLS, create the server with `requestCert: true, rejectUnauthorized: false`: the
 * chain is checked by `withCertAuth`, which answers 400 rather than dropping the connection.
 */
export function createNodeListener(
  service: MdmService | MdmHandler,
  options: MdmHandlerOptions = {},
): NodeListener {
  const handler = typeof service === 'function' ? service : createMdmHandler(service, options);
  const logger = options.logger ?? silentLogger;
  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const cert = tlsCertificate(req);
    readBody(req, handler.maxBodyBytes)
      .then((body) =>
        handler({
          method: req.method ?? 'GET',
          path: query === -1 ? url : url.slice(0, query),
          header: (name) => header(req, name),
          body,
          ...(cert ? { tlsCertificate: cert } : {}),
        }),
      )
      .catch((err: unknown) => {
        res.setHeader('connection', 'close');
        return errorResponse(err, logger);
      })
      .then((out) => {
        send(res, out.status, out.headers, out.body);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'could not write MDM response');
      });
  };
}

/**
 * Fetch-style adapter: `(Request) => Promise<Response>` for runtimes and frameworks built on
 * the WHATWG fetch API. The configured certificate header is passed on only for requests the
 * caller vouches came through a trusted proxy. Translation only. Import from `orchard-mdm/fetch`.
 */
import { ProtocolError } from '../errors.js';
import {
  createMdmHandler,
  errorResponse,
  type MdmHandler,
  type MdmHandlerOptions,
} from '../service/handler.js';
import { silentLogger, type MdmService } from '../service/ports.js';

/** Options of {@link createFetchHandler}. */
export interface FetchHandlerOptions extends MdmHandlerOptions {
  /** DER of the TLS client certificate, when the runtime exposes it for a request. */
  tlsCertificate?: (request: Request) => Uint8Array | undefined;
  /**
   * Whether `request` came from a trusted proxy, so its `identity.certHeader` is believed (only
   * the runtime knows the peer). Required with `identity.certHeader`; otherwise the header is
   * ignored as if absent.
   */
  fromTrustedProxy?: (request: Request) => boolean;
}

function headerReader(
  options: FetchHandlerOptions,
): (request: Request) => (name: string) => string | undefined {
  const certHeader = options.identity?.certHeader?.toLowerCase();
  const read = (request: Request) => (name: string) => request.headers.get(name) ?? undefined;
  if (certHeader === undefined) return read;
  const trusted = options.fromTrustedProxy;
  if (trusted === undefined)
    throw new TypeError('identity.certHeader needs fromTrustedProxy: anyone can send a header');
  return (request) =>
    trusted(request)
      ? read(request)
      : (name) => (name.toLowerCase() === certHeader ? undefined : read(request)(name));
}

async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new ProtocolError('ERR_BODY_TOO_LARGE', 'body is too large');
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || value === undefined) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new ProtocolError('ERR_BODY_TOO_LARGE', 'body is too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/**
 * A fetch-style handler for an {@link MdmService} (or a handler from `createMdmHandler`; then
 * pass its `identity` here too, so the certificate header is gated); the handler never rejects.
 * Throws TypeError when `identity.certHeader` is given without `fromTrustedProxy`.
 */
export function createFetchHandler(
  service: MdmService | MdmHandler,
  options: FetchHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const handler = typeof service === 'function' ? service : createMdmHandler(service, options);
  const logger = options.logger ?? silentLogger;
  const readHeaders = headerReader(options);
  return async (request) => {
    let out;
    try {
      const body = await readBody(request, handler.maxBodyBytes);
      const cert = options.tlsCertificate?.(request);
      out = await handler({
        method: request.method,
        path: new URL(request.url).pathname,
        header: readHeaders(request),
        body,
        ...(cert ? { tlsCertificate: cert } : {}),
      });
    } catch (err) {
      out = errorResponse(err, logger);
    }
    return new Response(out.body.length === 0 ? null : out.body, {
      status: out.status,
      headers: out.headers,
    });
  };
}

/**
 * Fetch-style adapter: `(Request) => Promise<Response>` for runtimes and frameworks built on
 * the WHATWG fetch API. The configured certificate header is passed on only for requests the
 * caller vouches came through a trusted proxy. Translation only. Import from `orchard-mdm/fetch`.
 */
import { silentLogger } from '../logger.js';
import type { MdmService } from '../service/ports.js';
import { readFetchBody } from './body.js';
import type { EdgeRequest } from './edge.js';
import { renderError } from './errors.js';
import { createMdmHandler, type MdmHandler, type MdmHandlerOptions } from './mdm.js';

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
      const body = await readFetchBody(request, handler.maxBodyBytes);
      const edge: EdgeRequest = {
        method: request.method,
        path: new URL(request.url).pathname,
        header: readHeaders(request),
        body,
      };
      const cert = options.tlsCertificate?.(request);
      if (cert !== undefined) edge.tlsCertificate = cert;
      out = await handler(edge);
    } catch (err) {
      out = renderError(err, 'mdm', logger);
    }
    return new Response(out.body.length === 0 ? null : out.body, {
      status: out.status,
      headers: out.headers,
    });
  };
}

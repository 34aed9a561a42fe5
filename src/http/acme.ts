/**
 * The ACME endpoint of the edge: `/acme/...` requests to the ACME core and its replies to
 * responses. Every response carries a fresh `Replay-Nonce`, `Cache-Control: no-store` and a
 * `Link` to the directory; every error is an RFC 7807 problem document
 * (`application/problem+json`) with an ACME error type, never a stack trace and never 401.
 */
import type { IncomingMessage } from 'node:http';
import type { AcmeServer } from '../acme/server.js';
import type { AcmeReply } from '../acme/types.js';
import { acmePathLabel } from '../acme/urls.js';
import { ACME_ERROR_PREFIX, AcmeError, hiddenMessage, OrchardError } from '../errors.js';
import type { Logger } from '../logger.js';
import { readNodeBody } from './body.js';
import type { EdgeResponse } from './edge.js';
import type { EdgeRoute } from './listener.js';
import type { RateLimiter } from './rate-limit.js';

/** Largest ACME POST body: a JWS with a device attestation object fits well within it. */
export const ACME_BODY_LIMIT = 64 * 1024;

/** Where the ACME route is mounted on the edge. */
export const ACME_PREFIX = '/acme';

/** An ACME request as an adapter hands it over. */
export interface AcmeHttpRequest {
  method: string;
  /** The path below {@link ACME_PREFIX}, e.g. `/new-order`. */
  path: string;
  contentType?: string;
  body: Uint8Array;
}

/** The endpoint; it never rejects (every failure is a problem document). */
export type AcmeHandler = (request: AcmeHttpRequest) => Promise<EdgeResponse>;

/** The RFC 7807 document of `error`, with the status to answer. 5xx detail stays in the log. */
export function acmeProblem(error: unknown): { status: number; problem: Record<string, unknown> } {
  if (error instanceof AcmeError) {
    const problem: Record<string, unknown> = {
      type: error.acmeType,
      detail: error.expose ? error.message : hiddenMessage(error.status),
      status: error.status,
    };
    if (error.code === 'ERR_ACME_BAD_SIGNATURE_ALGORITHM')
      problem.algorithms = ['ES256', 'ES384', 'RS256'];
    return { status: error.status, problem };
  }
  const status = error instanceof OrchardError ? error.status : 500;
  const expose = error instanceof OrchardError && error.expose;
  const type = status < 500 ? 'malformed' : 'serverInternal';
  const detail = expose ? error.message : hiddenMessage(status);
  return { status, problem: { type: `${ACME_ERROR_PREFIX}${type}`, detail, status } };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function render(reply: AcmeReply): EdgeResponse {
  const headers: Record<string, string> = {};
  let body: Buffer = Buffer.alloc(0);
  if (reply.body !== undefined && 'json' in reply.body) {
    headers['content-type'] = 'application/json';
    body = json(reply.body.json);
  } else if (reply.body !== undefined) {
    headers['content-type'] = 'application/pem-certificate-chain';
    body = Buffer.from(reply.body.pem);
  }
  if (reply.location !== undefined) headers.location = reply.location;
  const links = (reply.links ?? []).map((l) => `<${l.url}>;rel="${l.rel}"`);
  if (links.length > 0) headers.link = links.join(', ');
  return { status: reply.status, headers, body };
}

async function withNonce(
  acme: AcmeServer,
  response: EdgeResponse,
  logger: Logger,
): Promise<EdgeResponse> {
  const index = `<${acme.directoryUrl()}>;rel="index"`;
  const link = response.headers.link === undefined ? index : `${response.headers.link}, ${index}`;
  const headers = { ...response.headers, link, 'cache-control': 'no-store' };
  try {
    return { ...response, headers: { ...headers, 'replay-nonce': await acme.newNonce() } };
  } catch (error) {
    // A response without a nonce still answers; the client asks new-nonce next time.
    logger.error({ err: error }, 'ACME nonce could not be stored');
    return { ...response, headers };
  }
}

function problemResponse(error: unknown, logger: Logger): EdgeResponse {
  const { status, problem } = acmeProblem(error);
  if (status >= 500) logger.error({ err: error }, 'ACME request failed');
  return {
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: json(problem),
  };
}

/** Creates the ACME endpoint over `acme`. */
export function createAcmeHandler(acme: AcmeServer, logger: Logger): AcmeHandler {
  return async (request) => {
    let response: EdgeResponse;
    try {
      response = render(
        await acme.handle({
          method: request.method,
          path: request.path,
          body: request.body,
          ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
        }),
      );
    } catch (error) {
      response = problemResponse(error, logger);
    }
    return withNonce(acme, response, logger);
  };
}

/** Options of {@link acmeRoute}. */
export interface AcmeRouteOptions {
  /** Counts new-account and new-order POSTs per client address. */
  limiter?: RateLimiter;
  /** Default silent. */
  logger?: Logger;
}

async function bodyOf(req: IncomingMessage, method: string): Promise<Uint8Array> {
  return method === 'POST' ? readNodeBody(req, ACME_BODY_LIMIT) : new Uint8Array(0);
}

/**
 * `/acme/...` on the node listener (label `/acme/order/{id}` and the like, never an id): a POST
 * body up to {@link ACME_BODY_LIMIT} (413 problem past it); new-account and new-order count
 * against `limiter`.
 */
export function acmeRoute(acme: AcmeServer, options: AcmeRouteOptions = {}): EdgeRoute {
  const { limiter } = options;
  return {
    path: `${ACME_PREFIX}/`,
    prefix: true,
    label: (_method, path) => `${ACME_PREFIX}${acmePathLabel(path.slice(ACME_PREFIX.length))}`,
    limit: ({ method, path, client }) =>
      method === 'POST' && /^\/acme\/new-(account|order)$/.test(path)
        ? limiter?.take(client)
        : undefined,
    async serve({ req, method, path, logger }) {
      const handler = createAcmeHandler(acme, options.logger ?? logger);
      let body: Uint8Array;
      try {
        body = await bodyOf(req, method);
      } catch (error) {
        req.resume();
        return withNonce(acme, problemResponse(error, logger), logger);
      }
      const type = req.headers['content-type'];
      return handler({
        method,
        path: path.slice(ACME_PREFIX.length),
        body,
        ...(type === undefined ? {} : { contentType: type }),
      });
    },
  };
}

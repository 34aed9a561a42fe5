/**
 * The SCEP endpoint of the edge: `{ method, query, body } → { status, headers, body }` for
 * GetCACaps, GetCACert and PKIOperation (GET and POST). It reads `operation` and `message` from
 * the query, picks the content types and renders errors as `CODE: message` text; the answers
 * themselves come from the responder in `src/identity/scep/`.
 */
import { RequestError, ScepError } from '../errors.js';
import { ScepContentType } from '../identity/scep/constants.js';
import {
  createScepResponder,
  type ScepDeps,
  type ScepHandlerOptions,
  type ScepResponder,
} from '../identity/scep/responder.js';
import { silentLogger } from '../logger.js';
import { queryParam, type EdgeQuery, type EdgeResponse } from './edge.js';
import { renderError } from './errors.js';

export type { ScepDeps, ScepHandlerOptions } from '../identity/scep/responder.js';

/** A SCEP request as an adapter hands it over (the SCEP part of the edge's request). */
export interface ScepHttpRequest {
  method: string;
  /** The query string's parameters (`operation`, `message`). */
  query: EdgeQuery;
  /** The POST body; ignored for GET. */
  body?: Uint8Array;
}

/** What the adapter writes back (the edge's {@link EdgeResponse}). */
export type ScepHttpResponse = EdgeResponse;

/** The endpoint; it never rejects (failures are 4xx/5xx responses, never 401). */
export type ScepHandler = (request: ScepHttpRequest) => Promise<ScepHttpResponse>;

const EMPTY = new Uint8Array(0);

function ok(contentType: string, body: Uint8Array): EdgeResponse {
  return { status: 200, headers: { 'content-type': contentType }, body };
}

/** The pkiMessage of a request: the POST body, or GET's base64 `message` parameter. */
function messageOf(req: ScepHttpRequest, max: number): Uint8Array {
  if (req.method === 'POST') {
    const body = req.body ?? EMPTY;
    if (body.length > max) throw new ScepError('ERR_SCEP_BODY_TOO_LARGE', 'message too large');
    return body;
  }
  const b64 = queryParam(req.query, 'message');
  if (b64 === undefined || b64.length === 0)
    throw new ScepError('ERR_SCEP_MESSAGE', 'message parameter missing');
  if (b64.length > Math.ceil(max / 3) * 4 + 8)
    throw new ScepError('ERR_SCEP_BODY_TOO_LARGE', 'message too large');
  // Some clients leave '+' unescaped, which the query parser turns into a space.
  return Buffer.from(b64.replace(/ /g, '+'), 'base64');
}

async function respond(responder: ScepResponder, req: ScepHttpRequest): Promise<EdgeResponse> {
  const operation = queryParam(req.query, 'operation');
  if (req.method !== 'GET' && !(req.method === 'POST' && operation === 'PKIOperation'))
    throw new RequestError('ERR_METHOD', 'method not allowed');
  switch (operation) {
    case 'GetCACaps':
      return ok(ScepContentType.caps, Buffer.from(responder.caps.join('\n')));
    case 'GetCACert': {
      const { kind, body } = responder.caCertificates;
      return ok(kind === 'ca-ra' ? ScepContentType.caRaCert : ScepContentType.caCert, body);
    }
    case 'PKIOperation': {
      const message = messageOf(req, responder.maxMessageBytes);
      return ok(ScepContentType.pkiMessage, await responder.pkiOperation(message));
    }
    default:
      throw new ScepError('ERR_SCEP_OPERATION', 'unknown or missing operation');
  }
}

/**
 * Creates the SCEP endpoint for `deps.ca`. Throws `TypeError` when the CA cannot answer SCEP
 * (its responder key is not RSA, so it could not decrypt requests).
 */
export function createScepHandler(deps: ScepDeps, options: ScepHandlerOptions = {}): ScepHandler {
  const responder = createScepResponder(deps, options, 'createScepHandler()');
  const logger = deps.logger ?? silentLogger;
  return async (req) => {
    try {
      return await respond(responder, req);
    } catch (error) {
      return renderError(error, 'scep', logger);
    }
  };
}

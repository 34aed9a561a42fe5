/**
 * The transport-agnostic SCEP endpoint: `{ method, query, body } → { status, headers, body }` for
 * GetCACaps, GetCACert and PKIOperation (GET and POST). Adapters translate HTTP and nothing more.
 */
import { createCertsOnlyCms } from '../../crypto/cms-sign.js';
import { hiddenMessage, OrchardError, ProtocolError, ScepError } from '../../errors.js';
import { silentLogger, type Logger } from '../../service/ports.js';
import type { CertificateAuthority } from '../ca/authority.js';
import type { ChallengeValidator } from './challenge.js';
import { ScepContentType } from './constants.js';
import { processPkiOperation, type OperationContext } from './operation.js';
import { createPendingRequests } from './pending.js';

/** A SCEP request as an adapter hands it over. */
export interface ScepHttpRequest {
  method: string;
  /** The query string's parameters (`operation`, `message`). */
  query: URLSearchParams | Readonly<Record<string, string | undefined>>;
  /** The POST body; ignored for GET. */
  body?: Uint8Array;
}

/** What the adapter writes back. */
export interface ScepHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The endpoint; it never rejects (failures are 4xx/5xx responses, never 401). */
export type ScepHandler = (request: ScepHttpRequest) => Promise<ScepHttpResponse>;

/** Dependencies of {@link createScepHandler}. */
export interface ScepDeps {
  ca: CertificateAuthority;
  /** Decides PKCSReq: `staticChallenge`, one-time challenges, a webhook, or your own function. */
  validator: ChallengeValidator;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Default silent. Challenges and keys are never logged. */
  logger?: Logger;
}

/** Options of {@link createScepHandler}. */
export interface ScepHandlerOptions {
  /** Largest PKIOperation message accepted; default 64 KiB. */
  maxMessageBytes?: number;
  /**
   * Accept SHA-1 signed requests; default true, as Debian's scepclient and older devices sign
   * with SHA-1 (the signature only binds the client's own transient key). False answers badAlg.
   */
  allowSha1?: boolean;
  /**
   * Decrypt single-DES requests, as Debian's scepclient 2.1.0 sends; default false (badAlg). The
   * challenge in such a request travels under a 56-bit key: enable only for such clients.
   */
  allowSingleDes?: boolean;
  /** Largest accepted distance of a request's signingTime from now; default 24 h. */
  maxClockSkewSeconds?: number;
  /** Answer RenewalReq; default true. */
  renewal?: boolean;
  /** Deferred (PENDING) requests kept; default 1000 for 24 h. */
  maxPending?: number;
  pendingTtlSeconds?: number;
}

const CAPS = ['POSTPKIOperation', 'Renewal', 'SHA-256', 'SHA-512', 'AES', 'DES3', 'SCEPStandard'];

function param(query: ScepHttpRequest['query'], name: string): string | undefined {
  if (query instanceof URLSearchParams) return query.get(name) ?? undefined;
  return query[name];
}

function text(status: number, message: string): ScepHttpResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: Buffer.from(message),
  };
}

function errorResponse(error: unknown, logger: Logger): ScepHttpResponse {
  if (error instanceof OrchardError && error.status !== 401) {
    if (error.status >= 500) logger.error({ err: error, code: error.code }, 'SCEP request failed');
    else logger.info({ code: error.code }, 'SCEP request refused');
    const message = error.expose ? error.message : hiddenMessage(error.status);
    return text(error.status, `${error.code}: ${message}\n`);
  }
  logger.error({ err: error }, 'unexpected error in SCEP request');
  return text(500, `ERR_INTERNAL: ${hiddenMessage(500)}\n`);
}

function messageOf(req: ScepHttpRequest, max: number): Uint8Array {
  if (req.method === 'POST') {
    const body = req.body ?? new Uint8Array(0);
    if (body.length > max) throw new ScepError('ERR_SCEP_BODY_TOO_LARGE', 'message too large');
    return body;
  }
  const b64 = param(req.query, 'message');
  if (b64 === undefined || b64.length === 0)
    throw new ScepError('ERR_SCEP_MESSAGE', 'message parameter missing');
  if (b64.length > Math.ceil(max / 3) * 4 + 8)
    throw new ScepError('ERR_SCEP_BODY_TOO_LARGE', 'message too large');
  // Some clients leave '+' unescaped, which the query parser turns into a space.
  return Buffer.from(b64.replace(/ /g, '+'), 'base64');
}

/**
 * Creates the SCEP endpoint for `deps.ca`. Throws `TypeError` when the CA cannot answer SCEP
 * (its responder key is not RSA, so it could not decrypt requests).
 */
export function createScepHandler(deps: ScepDeps, options: ScepHandlerOptions = {}): ScepHandler {
  if (deps.ca.responder.privateKey.asymmetricKeyType !== 'rsa')
    throw new TypeError('createScepHandler(): SCEP needs an RSA CA or an RSA RA certificate');
  const logger = deps.logger ?? silentLogger;
  const max = options.maxMessageBytes ?? 64 * 1024;
  const ctx: OperationContext = {
    ca: deps.ca,
    validator: deps.validator,
    pending: createPendingRequests(
      options.maxPending ?? 1000,
      (options.pendingTtlSeconds ?? 86_400) * 1000,
    ),
    clock: deps.clock ?? (() => new Date()),
    logger,
    allowSha1: options.allowSha1 !== false,
    allowSingleDes: options.allowSingleDes === true,
    maxClockSkewMs: (options.maxClockSkewSeconds ?? 86_400) * 1000,
    renewal: options.renewal !== false,
  };
  const { ca } = deps;
  const caCert = ca.certificate.raw;
  // With an RA or an issuing CA: a degenerate PKCS#7 of the RA, the issuing CA and the root
  // (retired issuing CAs sign nothing more, so they are not offered). The root must be there:
  // Apple's client hashes the top of the chain these form against the profile's CAFingerprint.
  const issuing = ca.issuer.raw.equals(ca.certificate.raw) ? [] : [ca.issuer];
  const above = [...(ca.ra ? [ca.ra.certificate] : []), ...issuing];
  const caRa = above.length > 0 ? createCertsOnlyCms([...above, ca.certificate]) : undefined;

  async function respond(req: ScepHttpRequest): Promise<ScepHttpResponse> {
    const operation = param(req.query, 'operation');
    if (req.method !== 'GET' && !(req.method === 'POST' && operation === 'PKIOperation'))
      throw new ProtocolError('ERR_METHOD', 'method not allowed');
    switch (operation) {
      case 'GetCACaps':
        return {
          status: 200,
          headers: { 'content-type': ScepContentType.caps },
          body: Buffer.from(CAPS.join('\n')),
        };
      case 'GetCACert':
        return caRa
          ? { status: 200, headers: { 'content-type': ScepContentType.caRaCert }, body: caRa }
          : { status: 200, headers: { 'content-type': ScepContentType.caCert }, body: caCert };
      case 'PKIOperation': {
        const body = await processPkiOperation(ctx, messageOf(req, max));
        return { status: 200, headers: { 'content-type': ScepContentType.pkiMessage }, body };
      }
      default:
        throw new ScepError('ERR_SCEP_OPERATION', 'unknown or missing operation');
    }
  }

  return async (req) => {
    try {
      return await respond(req);
    } catch (error) {
      return errorResponse(error, logger);
    }
  };
}

/**
 * The ACME server (RFC 8555 with Apple's `device-attest-01`): routes an {@link AcmeRequest} to
 * its handler and answers an {@link AcmeReply}, hands out nonces, and sweeps expired nonces and
 * orders. Transport-agnostic: `src/http/acme.ts` is its HTTP adapter.
 */
import { AcmeError } from '../errors.js';
import type { AcmePurgeResult } from '../storage/ports.js';
import { accountRequest, keyChange, newAccount } from './accounts.js';
import { challengeRequest } from './challenges.js';
import { acmeContext, type AcmeContext } from './context.js';
import { certificate, finalize } from './finalize.js';
import { authorizationRequest, newOrder, orderRequest } from './orders.js';
import type { AcmeReply, AcmeRequest, AcmeServerDeps, AcmeServerOptions } from './types.js';
import { parseAcmePath, type AcmeRoute } from './urls.js';
import { directoryView } from './views.js';

/** Media type of every signed ACME request (RFC 8555 section 6.2). */
export const JOSE_JSON = 'application/jose+json';

/** The ACME server. */
export interface AcmeServer {
  /** The directory URL clients start from. */
  directoryUrl(): string;
  /** A fresh nonce, stored until it expires; the adapter puts it in `Replay-Nonce`. */
  newNonce(): Promise<string>;
  /**
   * Answers one request. Rejects with {@link AcmeError} (a problem document), StorageError
   * (503), or another error for a server fault.
   */
  handle(request: AcmeRequest): Promise<AcmeReply>;
  /**
   * Deletes expired nonces and orders; the server also starts one every 1000 nonces, and a
   * daemon may run it on a timer.
   */
  sweep(): Promise<AcmePurgeResult>;
}

/** Nonces handed out between two sweeps started by the server itself. */
const SWEEP_EVERY_NONCES = 1000;

type Handler = (ctx: AcmeContext, id: string, body: Uint8Array) => Promise<AcmeReply>;

const BY_KIND: Record<Exclude<AcmeRoute['kind'], 'directory' | 'new-nonce'>, Handler> = {
  'new-account': (ctx, _id, body) => newAccount(ctx, body),
  'new-order': (ctx, _id, body) => newOrder(ctx, body),
  'key-change': (ctx, _id, body) => keyChange(ctx, body),
  acct: accountRequest,
  order: orderRequest,
  finalize,
  authz: authorizationRequest,
  chall: challengeRequest,
  cert: certificate,
};

function methodNotAllowed(): AcmeError {
  return new AcmeError('ERR_ACME_METHOD', 'method not allowed');
}

function unsigned(ctx: AcmeContext, route: AcmeRoute, method: string): AcmeReply {
  if (route.kind === 'directory') {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    return { status: 200, body: { json: directoryView(ctx.urls) } };
  }
  if (method === 'HEAD') return { status: 200 };
  if (method === 'GET') return { status: 204 };
  throw methodNotAllowed();
}

async function dispatch(ctx: AcmeContext, request: AcmeRequest): Promise<AcmeReply> {
  const route = parseAcmePath(request.path);
  if (route === undefined) throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such resource');
  if (route.kind === 'directory' || route.kind === 'new-nonce')
    return unsigned(ctx, route, request.method);
  if (request.method !== 'POST') throw methodNotAllowed();
  const type = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== JOSE_JSON)
    throw new AcmeError('ERR_ACME_UNSUPPORTED_MEDIA_TYPE', `requests must be ${JOSE_JSON}`);
  const id = 'id' in route ? route.id : '';
  return BY_KIND[route.kind](ctx, id, request.body);
}

/**
 * Creates the ACME server over `deps.store` and `deps.ca`. Throws TypeError when
 * `authorizeIdentifier` is missing or a duration is not positive.
 */
export function createAcmeServer(deps: AcmeServerDeps, options: AcmeServerOptions): AcmeServer {
  const ctx = acmeContext(deps, options);
  const sweep = (): Promise<AcmePurgeResult> => {
    const now = ctx.clock();
    return ctx.store.purgeAcme(now, new Date(now.getTime() - ctx.keepValidMs));
  };
  let issued = 0;
  return {
    directoryUrl: () => ctx.urls.of('/directory'),
    async newNonce() {
      const nonce = ctx.newId();
      await ctx.store.putNonce(nonce, new Date(ctx.clock().getTime() + ctx.nonceTtlMs));
      // Every response stores a nonce; a sweep now and then keeps unused ones from piling up
      // even where no timer calls `sweep`.
      issued += 1;
      if (issued % SWEEP_EVERY_NONCES === 0)
        sweep().catch((error: unknown) => {
          ctx.logger.error({ err: error }, 'ACME sweep failed');
        });
      return nonce;
    },
    handle: (request) => dispatch(ctx, request),
    sweep,
  };
}

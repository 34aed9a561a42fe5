/**
 * ACME orders (RFC 8555 sections 7.4 and 7.5): a new order for one `permanent-identifier`, its
 * authorization and challenges, reading them back, and the authorization's state as the client
 * sees it. Finalize and download are in `finalize.ts`.
 */
import { AcmeError } from '../errors.js';
import type {
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeIdentifier,
  AcmeOrderRecord,
} from '../storage/ports.js';
import { accountSigned, checkOwner, currentOrder, type AcmeContext } from './context.js';
import type { AcmeReply } from './types.js';
import { authorizationView, orderView } from './views.js';

/** The identifier type Apple's ACME payload orders (RFC 8555 extension, draft-acme-device-attest). */
export const PERMANENT_IDENTIFIER = 'permanent-identifier';

/** The challenge of Apple's managed device attestation. */
export const DEVICE_ATTEST_01 = 'device-attest-01';

/** The test-only challenge (see `AcmeServerOptions.testChallenge`). */
export const TEST_01 = 'test-01';

const VALUE = /^[\x21-\x7e]{1,256}$/;

/** The one identifier of a new-order payload. Throws malformed or unsupportedIdentifier. */
function identifierOf(payload: Record<string, unknown> | undefined): AcmeIdentifier {
  if (payload === undefined) throw new AcmeError('ERR_ACME_MALFORMED', 'new-order needs a payload');
  if (payload.notBefore !== undefined || payload.notAfter !== undefined)
    throw new AcmeError('ERR_ACME_MALFORMED', 'notBefore and notAfter are not supported');
  const ids = payload.identifiers;
  if (!Array.isArray(ids) || ids.length === 0)
    throw new AcmeError('ERR_ACME_MALFORMED', 'identifiers must be a non-empty array');
  if (ids.length > 1)
    throw new AcmeError('ERR_ACME_REJECTED_IDENTIFIER', 'an order names exactly one identifier');
  const id = ids[0] as { type?: unknown; value?: unknown } | null;
  if (typeof id?.type !== 'string' || typeof id.value !== 'string')
    throw new AcmeError('ERR_ACME_MALFORMED', 'an identifier needs a type and a value');
  if (id.type !== PERMANENT_IDENTIFIER)
    throw new AcmeError(
      'ERR_ACME_UNSUPPORTED_IDENTIFIER',
      `only ${PERMANENT_IDENTIFIER} identifiers are issued`,
    );
  if (!VALUE.test(id.value))
    throw new AcmeError('ERR_ACME_REJECTED_IDENTIFIER', 'the identifier value is not acceptable');
  return { type: id.type, value: id.value };
}

function records(ctx: AcmeContext, accountId: string, identifier: AcmeIdentifier) {
  const now = ctx.clock();
  const expiresAt = new Date(now.getTime() + ctx.orderTtlMs);
  const orderId = ctx.newId();
  const authz: AcmeAuthorizationRecord = {
    id: ctx.newId(),
    orderId,
    accountId,
    identifier,
    status: 'pending',
    expiresAt,
  };
  const types = ctx.testChallenge ? [DEVICE_ATTEST_01, TEST_01] : [DEVICE_ATTEST_01];
  const challenges: AcmeChallengeRecord[] = types.map((type) => ({
    id: ctx.newId(),
    authorizationId: authz.id,
    accountId,
    type,
    // 128 bits, base64url: RFC 8555 section 8.1 asks for at least that much entropy.
    token: ctx.newId(),
    status: 'pending',
  }));
  const order: AcmeOrderRecord = {
    id: orderId,
    accountId,
    status: 'pending',
    identifiers: [identifier],
    authorizationIds: [authz.id],
    createdAt: now,
    expiresAt,
  };
  return { order, authz, challenges };
}

/** `new-order`: 201 with a pending order for one permanent-identifier the policy allows. */
export async function newOrder(ctx: AcmeContext, body: Uint8Array): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.of('/new-order'));
  const identifier = identifierOf(req.payload);
  const grant = await ctx.authorizeIdentifier({ identifier, accountId: req.account.id });
  if (grant === undefined)
    throw new AcmeError('ERR_ACME_REJECTED_IDENTIFIER', 'this identifier may not be ordered');
  const { order, authz, challenges } = records(ctx, req.account.id, identifier);
  if (grant.enrollmentId !== undefined) order.enrollmentId = grant.enrollmentId;
  await ctx.store.createOrder(order, [authz], challenges);
  return {
    status: 201,
    body: { json: orderView(ctx.urls, order) },
    location: ctx.urls.resource('order', order.id),
  };
}

/** `order/{id}` (POST-as-GET): the order as it stands. */
export async function orderRequest(
  ctx: AcmeContext,
  id: string,
  body: Uint8Array,
): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.resource('order', id));
  const order = await currentOrder(ctx, id);
  checkOwner(req, order.accountId);
  return { status: 200, body: { json: orderView(ctx.urls, order) } };
}

/**
 * The authorization `id` as it stands now: a pending one past its expiry becomes `expired`.
 * Throws `ERR_ACME_NOT_FOUND` when there is none.
 */
export async function currentAuthorization(
  ctx: AcmeContext,
  id: string,
): Promise<AcmeAuthorizationRecord> {
  const authz = await ctx.store.findAuthorization(id);
  if (authz === undefined) throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such authorization');
  if (authz.status !== 'pending' || authz.expiresAt.getTime() > ctx.clock().getTime()) return authz;
  return (await ctx.store.updateAuthorization(id, ['pending'], { status: 'expired' })) ?? authz;
}

/** `authz/{id}`: POST-as-GET reads it; `{"status":"deactivated"}` deactivates it. */
export async function authorizationRequest(
  ctx: AcmeContext,
  id: string,
  body: Uint8Array,
): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.resource('authz', id));
  let authz = await currentAuthorization(ctx, id);
  checkOwner(req, authz.accountId);
  if (req.payload !== undefined) {
    if (req.payload.status !== 'deactivated')
      throw new AcmeError('ERR_ACME_MALFORMED', 'a client may only deactivate an authorization');
    const moved = await ctx.store.updateAuthorization(id, ['pending', 'valid'], {
      status: 'deactivated',
    });
    if (moved === undefined)
      throw new AcmeError('ERR_ACME_MALFORMED', `the authorization is ${authz.status}`);
    authz = moved;
    await ctx.store.updateOrder(authz.orderId, ['pending', 'ready'], {
      status: 'invalid',
      error: {
        type: 'urn:ietf:params:acme:error:unauthorized',
        detail: 'deactivated',
        status: 403,
      },
    });
  }
  const challenges = await ctx.store.listChallenges(id);
  return {
    status: 200,
    body: { json: authorizationView(ctx.urls, authz, challenges) },
    links: [{ url: ctx.urls.resource('order', authz.orderId), rel: 'up' }],
  };
}

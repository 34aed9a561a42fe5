/**
 * Responding to a challenge (RFC 8555 section 7.5.1): the challenge moves pending → processing
 * in one conditional store call (so two responses never both validate), is validated
 * synchronously, and moves to valid or invalid; its authorization follows, and the order becomes
 * ready once every authorization is valid. `device-attest-01` binds the attested key;
 * `test-01` (test builds only) is valid on response and binds the key the client names.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AcmeError } from '../errors.js';
import type { AcmeAuthorizationChange, AcmeChallengeRecord } from '../storage/ports.js';
import { accountSigned, checkOwner, problemRecord, type AcmeContext } from './context.js';
import type { AcmeReply } from './types.js';
import { DEVICE_ATTEST_01, TEST_01, currentAuthorization } from './orders.js';
import { challengeView } from './views.js';

const malformed = (message: string): AcmeError => new AcmeError('ERR_ACME_MALFORMED', message);

function spki(key: KeyObject): Buffer {
  // A verifier may hand back the key pair's private half; only the public half is kept.
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' });
}

/** `test-01`: binds `attestKey` (a public JWK) when the client names one. */
function validateTest(payload: Record<string, unknown>): AcmeAuthorizationChange {
  if (payload.attestKey === undefined) return { status: 'valid' };
  try {
    const key = createPublicKey({ key: payload.attestKey as never, format: 'jwk' });
    return { status: 'valid', boundKey: spki(key) };
  } catch {
    throw malformed('attestKey is not a public JWK');
  }
}

/** `device-attest-01`: the verifier checks `attObj` and names the key and the device. */
async function validateAttestation(
  ctx: AcmeContext,
  challenge: AcmeChallengeRecord,
  identifier: string,
  payload: Record<string, unknown>,
): Promise<AcmeAuthorizationChange> {
  const attObj = payload.attObj;
  if (typeof attObj !== 'string' || !/^[A-Za-z0-9_-]+$/.test(attObj))
    throw new AcmeError('ERR_ACME_BAD_ATTESTATION', 'attObj must be base64url');
  const result = await ctx.verifyAttestation({
    attObj: Buffer.from(attObj, 'base64url'),
    token: challenge.token,
    identifier,
    trustAnchors: ctx.attestationRoots,
    now: ctx.clock(),
  });
  return {
    status: 'valid',
    boundKey: spki(result.publicKey),
    ...(result.serial === undefined ? {} : { attestedSerial: result.serial }),
    ...(result.udid === undefined ? {} : { attestedUdid: result.udid }),
  };
}

async function validate(
  ctx: AcmeContext,
  challenge: AcmeChallengeRecord,
  identifier: string,
  payload: Record<string, unknown>,
): Promise<AcmeAuthorizationChange> {
  if (challenge.type === TEST_01 && ctx.testChallenge) return validateTest(payload);
  if (challenge.type === DEVICE_ATTEST_01)
    return validateAttestation(ctx, challenge, identifier, payload);
  throw malformed('this challenge type is not offered');
}

/** Marks the challenge, its authorization and order invalid with `error`'s problem. */
async function fail(ctx: AcmeContext, c: AcmeChallengeRecord, orderId: string, error: AcmeError) {
  const problem = problemRecord(error);
  await ctx.store.updateChallenge(c.id, ['processing'], { status: 'invalid', error: problem });
  await ctx.store.updateAuthorization(c.authorizationId, ['pending'], { status: 'invalid' });
  await ctx.store.updateOrder(orderId, ['pending'], { status: 'invalid', error: problem });
}

/** Moves the order to ready when each of its authorizations is valid. */
async function readyOrder(ctx: AcmeContext, orderId: string): Promise<void> {
  const order = await ctx.store.findOrder(orderId);
  if (order?.status !== 'pending') return;
  const all = await Promise.all(
    order.authorizationIds.map((id) => ctx.store.findAuthorization(id)),
  );
  if (all.every((a) => a?.status === 'valid'))
    await ctx.store.updateOrder(orderId, ['pending'], { status: 'ready' });
}

async function respond(
  ctx: AcmeContext,
  c: AcmeChallengeRecord,
  payload: Record<string, unknown>,
): Promise<void> {
  const authz = await currentAuthorization(ctx, c.authorizationId);
  if (authz.status !== 'pending') return;
  const moved = await ctx.store.updateChallenge(c.id, ['pending'], { status: 'processing' });
  if (moved === undefined) return;
  let change: AcmeAuthorizationChange;
  try {
    change = await validate(ctx, c, authz.identifier.value, payload);
  } catch (error) {
    if (!(error instanceof AcmeError)) {
      // A server fault decides nothing: the client may respond again.
      await ctx.store.updateChallenge(c.id, ['processing'], { status: 'pending' });
      throw error;
    }
    await fail(ctx, c, authz.orderId, error);
    return;
  }
  await ctx.store.updateChallenge(c.id, ['processing'], {
    status: 'valid',
    validatedAt: ctx.clock(),
  });
  await ctx.store.updateAuthorization(authz.id, ['pending'], change);
  await readyOrder(ctx, authz.orderId);
}

/**
 * `chall/{id}`: POST-as-GET reads the challenge; a JSON object payload (`{}`, or `{attObj}` for
 * device-attest-01) responds to it. A failed validation is recorded on the challenge (status
 * invalid with its problem), not thrown.
 */
export async function challengeRequest(
  ctx: AcmeContext,
  id: string,
  body: Uint8Array,
): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.resource('chall', id));
  const found = await ctx.store.findChallenge(id);
  if (found === undefined) throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such challenge');
  checkOwner(req, found.accountId);
  if (found.type === TEST_01 && !ctx.testChallenge)
    throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such challenge');
  if (req.payload !== undefined) await respond(ctx, found, req.payload);
  const challenge = (await ctx.store.findChallenge(id)) ?? found;
  return {
    status: 200,
    body: { json: challengeView(ctx.urls, challenge) },
    links: [{ url: ctx.urls.resource('authz', challenge.authorizationId), rel: 'up' }],
  };
}

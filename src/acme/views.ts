/**
 * The JSON objects of RFC 8555 section 7.1: directory, account, order, authorization and
 * challenge, built from stored records. Pure.
 */
import type {
  AcmeAccountRecord,
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeOrderRecord,
} from '../storage/ports.js';
import type { AcmeUrls } from './urls.js';

/** The directory object (section 7.1.1); `revokeCert` is absent: Orchard revokes by its API. */
export function directoryView(urls: AcmeUrls): Record<string, unknown> {
  return {
    newNonce: urls.of('/new-nonce'),
    newAccount: urls.of('/new-account'),
    newOrder: urls.of('/new-order'),
    keyChange: urls.of('/key-change'),
    meta: { externalAccountRequired: false },
  };
}

/** The account object (section 7.1.2). */
export function accountView(account: AcmeAccountRecord): Record<string, unknown> {
  return { status: account.status, contact: account.contact };
}

/** The order object (section 7.1.3). */
export function orderView(urls: AcmeUrls, order: AcmeOrderRecord): Record<string, unknown> {
  return {
    status: order.status,
    expires: order.expiresAt.toISOString(),
    identifiers: order.identifiers,
    authorizations: order.authorizationIds.map((id) => urls.resource('authz', id)),
    finalize: urls.finalize(order.id),
    ...(order.certificateSerial === undefined
      ? {}
      : { certificate: urls.resource('cert', order.id) }),
    ...(order.error === undefined ? {} : { error: order.error }),
  };
}

/** The challenge object (section 7.1.5 and 8). */
export function challengeView(urls: AcmeUrls, c: AcmeChallengeRecord): Record<string, unknown> {
  return {
    type: c.type,
    url: urls.resource('chall', c.id),
    status: c.status,
    token: c.token,
    ...(c.validatedAt === undefined ? {} : { validated: c.validatedAt.toISOString() }),
    ...(c.error === undefined ? {} : { error: c.error }),
  };
}

/** The authorization object (section 7.1.4) with its challenges. */
export function authorizationView(
  urls: AcmeUrls,
  authz: AcmeAuthorizationRecord,
  challenges: readonly AcmeChallengeRecord[],
): Record<string, unknown> {
  // A valid authorization lists only the challenge that validated it (section 7.1.4).
  const shown =
    authz.status === 'valid' ? challenges.filter((c) => c.status === 'valid') : challenges;
  return {
    identifier: authz.identifier,
    status: authz.status,
    expires: authz.expiresAt.toISOString(),
    challenges: shown.map((c) => challengeView(urls, c)),
  };
}

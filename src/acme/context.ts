/**
 * What every ACME handler shares: the resolved dependencies and options, ids, and the checks of
 * a signed request (JWS, key, url, nonce, account). The nonce is consumed only after the
 * signature verifies, with one atomic store call, so a replayed or forged request spends nothing
 * of a client's.
 */
import { randomPoolBytes } from '../crypto/random.js';
import { AcmeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { CertificateAuthority } from '../identity/ca/authority.js';
import type { AcmeAccountRecord, AcmeOrderRecord, AcmeStore } from '../storage/ports.js';
import { verifyDeviceAttestation, type DeviceAttestationVerifier } from './attestation.js';
import {
  accountKeyOf,
  parseJws,
  payloadObject,
  protectedHeader,
  verifyJws,
  type AccountKey,
  type AcmeProtectedHeader,
  type FlattenedJws,
} from './jws.js';
import type { AcmeIdentifierPolicy, AcmeServerDeps, AcmeServerOptions } from './types.js';
import { acmeUrls, type AcmeUrls } from './urls.js';
import type { X509Certificate } from 'node:crypto';

/** The resolved dependencies and options every handler reads. */
export interface AcmeContext {
  store: AcmeStore;
  ca: CertificateAuthority;
  urls: AcmeUrls;
  clock: () => Date;
  logger: Logger;
  authorizeIdentifier: AcmeIdentifierPolicy;
  verifyAttestation: DeviceAttestationVerifier;
  attestationRoots: readonly X509Certificate[];
  onIssued: AcmeServerDeps['onIssued'];
  useIdentifiers: AcmeServerDeps['useIdentifiers'];
  nonceTtlMs: number;
  orderTtlMs: number;
  keepValidMs: number;
  testChallenge: boolean;
  /** A fresh opaque value of 128 random bits, base64url. */
  newId(): string;
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const s = value ?? fallback;
  if (!Number.isFinite(s) || s <= 0) throw new TypeError(`createAcmeServer(): ${name} must be > 0`);
  return s * 1000;
}

/** Resolves deps and options. Throws TypeError on a missing policy or a bad duration. */
export function acmeContext(deps: AcmeServerDeps, options: AcmeServerOptions): AcmeContext {
  if (typeof deps.authorizeIdentifier !== 'function')
    throw new TypeError('createAcmeServer(): authorizeIdentifier is required');
  const random = deps.random ?? randomPoolBytes;
  return {
    store: deps.store,
    ca: deps.ca,
    urls: acmeUrls(options.baseUrl),
    clock: deps.clock ?? (() => new Date()),
    logger: deps.logger ?? silentLogger,
    authorizeIdentifier: deps.authorizeIdentifier,
    verifyAttestation: deps.verifyAttestation ?? verifyDeviceAttestation,
    attestationRoots: deps.attestationRoots ?? [],
    onIssued: deps.onIssued,
    useIdentifiers: deps.useIdentifiers,
    nonceTtlMs: seconds(options.nonceTtlSeconds, 600, 'nonceTtlSeconds'),
    orderTtlMs: seconds(options.orderTtlSeconds, 3600, 'orderTtlSeconds'),
    keepValidMs: seconds(options.keepValidOrdersSeconds, 30 * 86_400, 'keepValidOrdersSeconds'),
    testChallenge: options.testChallenge === true,
    newId: () => random(16).toString('base64url'),
  };
}

/** A request whose JWS verified and whose nonce was fresh. */
export interface SignedRequest {
  header: AcmeProtectedHeader;
  /** The JSON payload, or `undefined` for POST-as-GET. */
  payload: Record<string, unknown> | undefined;
  /** The raw payload bytes (key-change carries a JWS in it). */
  rawPayload: Uint8Array;
}

/** A signed request by an existing, valid account (`kid`). */
export interface AccountRequest extends SignedRequest {
  account: AcmeAccountRecord;
}

/** A signed request carrying its own key (`jwk`): new-account. */
export interface KeyRequest extends SignedRequest {
  key: AccountKey;
}

async function checkNonce(ctx: AcmeContext, header: AcmeProtectedHeader): Promise<void> {
  const ok =
    header.nonce !== undefined &&
    header.nonce.length > 0 &&
    (await ctx.store.consumeNonce(header.nonce, ctx.clock()));
  if (!ok) throw new AcmeError('ERR_ACME_BAD_NONCE', 'the nonce is unknown, used or expired');
}

function decode(ctx: AcmeContext, body: Uint8Array, url: string) {
  // An empty base would make every `url` a bare path a client could sign for any server.
  if (!/^https?:\/\/./.test(ctx.urls.base())) throw new TypeError('the ACME base URL is not set');
  const jws: FlattenedJws = parseJws(body);
  const header = protectedHeader(jws);
  if (header.url !== url)
    throw new AcmeError('ERR_ACME_UNAUTHORIZED', 'the JWS url is not the URL requested');
  return { jws, header };
}

/**
 * Checks a request signed with its own key (`jwk` header), for `url`. Throws `AcmeError`:
 * malformed, badSignatureAlgorithm, badPublicKey, unauthorized (url) or badNonce.
 */
export async function keySigned(
  ctx: AcmeContext,
  body: Uint8Array,
  url: string,
): Promise<KeyRequest> {
  const { jws, header } = decode(ctx, body, url);
  if (header.jwk === undefined)
    throw new AcmeError('ERR_ACME_MALFORMED', 'this request must carry its key as jwk');
  const key = await accountKeyOf(header.jwk, header.alg);
  const rawPayload = await verifyJws(jws, key.key, header.alg);
  await checkNonce(ctx, header);
  return { header, key, rawPayload, payload: payloadObject(rawPayload) };
}

/**
 * Checks a request signed by an account (`kid` header), for `url`. Throws `AcmeError`: as
 * {@link keySigned}, plus accountDoesNotExist and unauthorized (a deactivated account).
 */
export async function accountSigned(
  ctx: AcmeContext,
  body: Uint8Array,
  url: string,
): Promise<AccountRequest> {
  const { jws, header } = decode(ctx, body, url);
  if (header.kid === undefined)
    throw new AcmeError('ERR_ACME_MALFORMED', 'this request must name its account by kid');
  const prefix = ctx.urls.resource('acct', '');
  const id = header.kid.startsWith(prefix) ? header.kid.slice(prefix.length) : '';
  const account = id === '' ? undefined : await ctx.store.findAccount(id);
  if (account === undefined)
    throw new AcmeError('ERR_ACME_ACCOUNT_DOES_NOT_EXIST', 'no account has this kid');
  const key = await accountKeyOf(JSON.parse(account.jwk) as unknown, header.alg);
  const rawPayload = await verifyJws(jws, key.key, header.alg);
  await checkNonce(ctx, header);
  if (account.status !== 'valid')
    throw new AcmeError('ERR_ACME_UNAUTHORIZED', `the account is ${account.status}`);
  return { header, account, rawPayload, payload: payloadObject(rawPayload) };
}

/** Throws `unauthorized` unless `accountId` is the requester's. */
export function checkOwner(req: AccountRequest, accountId: string): void {
  if (req.account.id !== accountId)
    throw new AcmeError('ERR_ACME_UNAUTHORIZED', 'the resource belongs to another account');
}

/**
 * The order `id` as it stands now: a pending or ready order past its expiry moves to invalid.
 * Throws `ERR_ACME_NOT_FOUND` when there is none.
 */
export async function currentOrder(ctx: AcmeContext, id: string): Promise<AcmeOrderRecord> {
  const order = await ctx.store.findOrder(id);
  if (order === undefined) throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such order');
  if (order.expiresAt.getTime() > ctx.clock().getTime()) return order;
  const expired = await ctx.store.updateOrder(id, ['pending', 'ready'], {
    status: 'invalid',
    error: problemRecord(new AcmeError('ERR_ACME_MALFORMED', 'the order expired')),
  });
  return expired ?? order;
}

/** The stored form of an ACME error (a problem document). */
export function problemRecord(error: AcmeError): { type: string; detail: string; status: number } {
  return { type: error.acmeType, detail: error.message, status: error.status };
}

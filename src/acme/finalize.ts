/**
 * Finalizing an order and downloading its certificate (RFC 8555 sections 7.4 and 7.4.2). The CSR
 * must verify, carry the key each authorization bound (the attested key), not reuse the account
 * key, and pass the CA's policy; the order then moves ready → processing in one conditional
 * store call, so two finalize requests never both issue. The certificate comes from Orchard's CA,
 * recorded like SCEP's (and revocable the same way), with the order's enrollment id.
 */
import { createPublicKey, type X509Certificate } from 'node:crypto';
import { parseCsr, type ParsedCsr } from '../crypto/csr.js';
import { AcmeError, CertificateAuthorityError } from '../errors.js';
import type {
  AcmeAuthorizationRecord,
  AcmeOrderRecord,
  IssuedCertificate,
} from '../storage/ports.js';
import {
  accountSigned,
  checkOwner,
  currentOrder,
  problemRecord,
  type AccountRequest,
  type AcmeContext,
} from './context.js';
import type { AcmeReply } from './types.js';
import { orderView } from './views.js';

const badCsr = (message: string): AcmeError => new AcmeError('ERR_ACME_BAD_CSR', message);

function csrOf(payload: Record<string, unknown> | undefined): ParsedCsr {
  const text = payload?.csr;
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]+$/.test(text) || text.length > 16_384)
    throw new AcmeError('ERR_ACME_MALFORMED', 'csr must be a base64url DER request');
  let csr: ParsedCsr;
  try {
    csr = parseCsr(Buffer.from(text, 'base64url'));
  } catch {
    throw badCsr('the CSR cannot be read');
  }
  if (!csr.signatureValid) throw badCsr('the CSR signature does not verify');
  return csr;
}

/** Throws badCSR unless the CSR's key is every bound key and not the account key. */
function checkKey(req: AccountRequest, csr: ParsedCsr, authzs: AcmeAuthorizationRecord[]): void {
  for (const a of authzs) {
    if (a.boundKey === undefined) continue;
    const bound = createPublicKey({ key: a.boundKey, format: 'der', type: 'spki' });
    if (!bound.equals(csr.publicKey))
      throw badCsr('the CSR key is not the key the challenge validated');
  }
  const accountKey = createPublicKey({ key: JSON.parse(req.account.jwk) as never, format: 'jwk' });
  if (accountKey.equals(csr.publicKey)) throw badCsr('the CSR must not use the account key');
}

async function authorizationsOf(
  ctx: AcmeContext,
  order: AcmeOrderRecord,
): Promise<AcmeAuthorizationRecord[]> {
  const found = await Promise.all(
    order.authorizationIds.map((id) => ctx.store.findAuthorization(id)),
  );
  return found.filter((a): a is AcmeAuthorizationRecord => a !== undefined);
}

async function issue(
  ctx: AcmeContext,
  order: AcmeOrderRecord,
  csr: ParsedCsr,
): Promise<IssuedCertificate> {
  try {
    return await ctx.ca.issue({
      csr,
      ...(order.enrollmentId === undefined ? {} : { enrollmentId: order.enrollmentId }),
    });
  } catch (error) {
    const refused = error instanceof CertificateAuthorityError && error.code === 'ERR_CA_POLICY';
    const problem = refused
      ? badCsr(error.message)
      : new AcmeError('ERR_ACME_SERVER_INTERNAL', 'the certificate could not be issued');
    await ctx.store.updateOrder(order.id, ['processing'], {
      status: 'invalid',
      error: problemRecord(problem),
    });
    if (refused) throw problem;
    throw error;
  }
}

/**
 * Uses up the order's identifiers (`useIdentifiers`) before issuing: when refused, or when the
 * store fails, the processing order becomes invalid and nothing is issued.
 */
async function useIdentifiers(ctx: AcmeContext, order: AcmeOrderRecord): Promise<void> {
  if (ctx.useIdentifiers === undefined) return;
  let used: boolean;
  try {
    used = await ctx.useIdentifiers(order);
  } catch (error) {
    const problem = new AcmeError('ERR_ACME_SERVER_INTERNAL', 'the identifier could not be used');
    await ctx.store.updateOrder(order.id, ['processing'], {
      status: 'invalid',
      error: problemRecord(problem),
    });
    throw error;
  }
  if (used) return;
  const problem = new AcmeError(
    'ERR_ACME_REJECTED_IDENTIFIER',
    'the identifier is used up or expired: download a new enrollment profile',
  );
  await ctx.store.updateOrder(order.id, ['processing'], {
    status: 'invalid',
    error: problemRecord(problem),
  });
  throw problem;
}

async function notify(
  ctx: AcmeContext,
  event: Parameters<NonNullable<AcmeContext['onIssued']>>[0],
) {
  try {
    await ctx.onIssued?.(event);
  } catch (error) {
    ctx.logger.error({ err: error, orderId: event.order.id }, 'ACME onIssued hook failed');
  }
}

/** `order/{id}/finalize`: issues the certificate of a ready order; 200 with the valid order. */
export async function finalize(ctx: AcmeContext, id: string, body: Uint8Array): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.finalize(id));
  const order = await currentOrder(ctx, id);
  checkOwner(req, order.accountId);
  if (order.status !== 'ready')
    throw new AcmeError('ERR_ACME_ORDER_NOT_READY', `the order is ${order.status}, not ready`);
  const csr = csrOf(req.payload);
  const authorizations = await authorizationsOf(ctx, order);
  checkKey(req, csr, authorizations);
  try {
    ctx.ca.checkPolicy(csr);
  } catch (error) {
    if (error instanceof CertificateAuthorityError) throw badCsr(error.message);
    throw error;
  }
  const processing = await ctx.store.updateOrder(id, ['ready'], { status: 'processing' });
  if (processing === undefined)
    throw new AcmeError('ERR_ACME_ORDER_NOT_READY', 'the order is being finalized already');
  await useIdentifiers(ctx, processing);
  const certificate = await issue(ctx, processing, csr);
  const valid = await ctx.store.updateOrder(id, ['processing'], {
    status: 'valid',
    certificateSerial: certificate.serial,
  });
  const done = valid ?? processing;
  ctx.logger.info({ orderId: id, serial: certificate.serial }, 'ACME certificate issued');
  await notify(ctx, { order: done, authorizations, certificate });
  return {
    status: 200,
    body: { json: orderView(ctx.urls, done) },
    location: ctx.urls.resource('order', id),
  };
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** The chain after the leaf: the issuing CA when it is not the root itself. */
function chainOf(ctx: AcmeContext): X509Certificate[] {
  const { issuer, certificate: root } = ctx.ca;
  return issuer.fingerprint256 === root.fingerprint256 ? [] : [issuer];
}

/** `cert/{orderId}` (POST-as-GET): the PEM chain of a valid order's certificate. */
export async function certificate(
  ctx: AcmeContext,
  id: string,
  body: Uint8Array,
): Promise<AcmeReply> {
  const req = await accountSigned(ctx, body, ctx.urls.resource('cert', id));
  const order = await ctx.store.findOrder(id);
  if (order?.certificateSerial === undefined)
    throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such certificate');
  checkOwner(req, order.accountId);
  const record = await ctx.ca.findIssuedCertificate(order.certificateSerial);
  if (record === undefined) throw new AcmeError('ERR_ACME_NOT_FOUND', 'no such certificate');
  const chain = [record.der, ...chainOf(ctx).map((c) => c.raw)];
  return { status: 200, body: { pem: chain.map(pem).join('') } };
}

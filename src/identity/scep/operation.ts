/**
 * PKIOperation: from a request pkiMessage to a signed CertRep. Every refusal a client can cause
 * becomes a FAILURE with the RFC 8894 failInfo; only unreadable messages (400) and validator
 * outages (503) leave as errors.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { CertInfo } from '../../crypto/cert-info.js';
import { verifyCertificateChain } from '../../crypto/chain.js';
import { decryptCms, encryptCms } from '../../crypto/cms-envelope.js';
import { parseCsr, type KnownKey, type ParsedCsr } from '../../crypto/csr.js';
import { decodeName, formatName } from '../../crypto/name.js';
import type { DigestName } from '../../crypto/oids.js';
import { CryptoError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { CertificateAuthority, IssueRequest } from '../ca/authority.js';
import { policyRefusalOf } from '../ca/policy.js';
import type { ChallengeDecision, ChallengeValidator } from './challenge.js';
import { createCertRepWriter, type CertRepWriter } from './certrep.js';
import { MessageType, messageTypeName, type FailInfoName } from './constants.js';
import { decryptDesEnvelope } from './envelope-des.js';
import { envelopeCipherOf, type EnvelopeCipher } from './envelope.js';
import { certsOnly, readPkiMessage, writePkiMessage, type PkiMessage } from './message.js';
import type { PendingRequests } from './pending.js';

/** What {@link processPkiOperation} needs. */
export interface OperationContext {
  ca: CertificateAuthority;
  validator: ChallengeValidator;
  pending: PendingRequests;
  clock: () => Date;
  logger: Logger;
  allowSha1: boolean;
  allowSingleDes: boolean;
  maxClockSkewMs: number;
  renewal: boolean;
}

/** A refusal that becomes a FAILURE CertRep. */
class Refusal extends Error {
  constructor(
    readonly failInfo: FailInfoName,
    message: string,
  ) {
    super(message);
  }
}

interface Decrypted {
  msg: PkiMessage;
  /** The request's signer; its `X509Certificate` is only built where one is needed. */
  signer: CertInfo;
  csr: ParsedCsr;
  cipher: EnvelopeCipher;
  digest: DigestName;
}

function checkSignature(
  ctx: OperationContext,
  msg: PkiMessage,
): { signer: CertInfo; envelope: Buffer; digest: DigestName } {
  if (msg.digest === undefined || (msg.digest === 'sha1' && !ctx.allowSha1))
    throw new Refusal('badAlg', 'digest algorithm not accepted');
  if (!msg.verified.ok) {
    const unsupported = msg.verified.error.code === 'ERR_CMS_UNSUPPORTED';
    throw new Refusal(
      unsupported ? 'badAlg' : 'badMessageCheck',
      'request signature does not verify',
    );
  }
  if (msg.signingTime !== undefined) {
    const skew = Math.abs(msg.signingTime.getTime() - ctx.clock().getTime());
    if (skew > ctx.maxClockSkewMs) throw new Refusal('badTime', 'signingTime too far from now');
  }
  return { signer: msg.verified.signerInfo, envelope: msg.verified.content, digest: msg.digest };
}

function decrypt(ctx: OperationContext, envelope: Buffer): { der: Buffer; cipher: EnvelopeCipher } {
  let cipher: EnvelopeCipher | 'des-cbc' | undefined;
  try {
    cipher = envelopeCipherOf(envelope);
  } catch {
    throw new Refusal('badMessageCheck', 'pkcsPKIEnvelope is not an EnvelopedData');
  }
  if (cipher === undefined || (cipher === 'des-cbc' && !ctx.allowSingleDes))
    throw new Refusal('badAlg', 'content cipher not supported');
  const { certificate, privateKey } = ctx.ca.responder;
  try {
    if (cipher === 'des-cbc')
      // Answer a single-DES client in AES: every such client (micromdm/scep) reads AES.
      return {
        der: decryptDesEnvelope(envelope, { privateKey, certificate }),
        cipher: 'aes-256-cbc',
      };
    return { der: decryptCms(envelope, { privateKey, certificate }), cipher };
  } catch (error) {
    const unsupported = error instanceof CryptoError && error.code === 'ERR_CMS_UNSUPPORTED';
    throw new Refusal(unsupported ? 'badAlg' : 'badMessageCheck', 'envelope cannot be decrypted');
  }
}

function csrOf(der: Buffer, known: KnownKey | undefined): ParsedCsr {
  let csr: ParsedCsr;
  try {
    csr = parseCsr(der, known === undefined ? {} : { knownKey: known });
  } catch {
    throw new Refusal('badRequest', 'the envelope does not hold a PKCS#10 request');
  }
  if (!csr.signatureValid) throw new Refusal('badMessageCheck', 'CSR signature does not verify');
  return csr;
}

/**
 * Finds what a RenewalReq renews: its signer must be ours, valid, recorded and not revoked; the
 * new certificate keeps the signer's enrollment and records the signer's serial.
 */
async function checkRenewal(
  ctx: OperationContext,
  info: CertInfo,
): Promise<Omit<IssueRequest, 'csr'>> {
  if (!ctx.renewal) throw new Refusal('badRequest', 'renewal is disabled');
  let signer: X509Certificate;
  try {
    signer = info.x509; // the chain check needs node:crypto's certificate
    verifyCertificateChain(signer, {
      roots: [ctx.ca.certificate],
      intermediates: ctx.ca.intermediates,
      at: ctx.clock(),
    });
  } catch (error) {
    const code = error instanceof CryptoError ? error.code : '';
    if (code === 'ERR_CERT_EXPIRED' || code === 'ERR_CERT_NOT_YET_VALID')
      throw new Refusal('badTime', 'the certificate being renewed is not valid now');
    throw new Refusal('badCertId', 'the certificate being renewed was not issued here');
  }
  const record = await ctx.ca.findIssuedCertificate(signer.serialNumber);
  if (record === undefined || !record.der.equals(signer.raw))
    throw new Refusal('badCertId', 'the certificate being renewed is unknown');
  if (record.revokedAt !== undefined) throw new Refusal('badCertId', 'the certificate was revoked');
  return {
    renewalOf: record.serial,
    ...(record.enrollmentId === undefined ? {} : { enrollmentId: record.enrollmentId }),
  };
}

async function decide(
  ctx: OperationContext,
  d: Decrypted,
  type: 'PKCSReq' | 'CertPoll',
): Promise<ChallengeDecision> {
  const { signer } = d;
  return ctx.validator({
    challenge: d.csr.challengePassword,
    csr: d.csr,
    messageType: type,
    transactionId: d.msg.transactionId,
    get signer() {
      return signer.x509;
    },
  });
}

/** Turns a CA policy refusal into the FAILURE it answers; rethrows anything else. */
function refusalOfPolicy(error: unknown): Refusal {
  const refusal = policyRefusalOf(error);
  if (refusal === undefined) throw error;
  return new Refusal(refusal === 'key' ? 'badAlg' : 'badRequest', (error as Error).message);
}

async function issue(
  ctx: OperationContext,
  d: Decrypted,
  target: Omit<IssueRequest, 'csr'>,
): Promise<Buffer> {
  try {
    const issued = await ctx.ca.issue({ csr: d.csr, ...target });
    ctx.logger.info(
      { transactionId: d.msg.transactionId, serial: issued.serial },
      'SCEP certificate issued',
    );
    return encryptCms(certsOnly([issued.der]), d.signer, { cipher: d.cipher });
  } catch (error) {
    throw refusalOfPolicy(error);
  }
}

type Outcome = { status: 'SUCCESS'; content: Buffer } | { status: 'PENDING' };

async function handleRequest(ctx: OperationContext, msg: PkiMessage): Promise<Outcome> {
  const type = messageTypeName(msg.messageType);
  if (type !== 'PKCSReq' && type !== 'RenewalReq' && type !== 'CertPoll')
    throw new Refusal('badRequest', 'unsupported messageType');
  const { signer, envelope, digest } = checkSignature(ctx, msg);
  if (signer.publicKey.asymmetricKeyType !== 'rsa')
    throw new Refusal('badAlg', 'the reply can only be encrypted to an RSA signer');
  const { der, cipher } = decrypt(ctx, envelope);
  if (type === 'CertPoll') {
    const pending = ctx.pending.take(msg.transactionId, signer.der, ctx.clock());
    if (pending === undefined)
      throw new Refusal('badCertId', 'no pending request for this transaction');
    return settle(ctx, { msg, signer, csr: pending, cipher, digest }, 'CertPoll');
  }
  const known = type === 'PKCSReq' ? signer : undefined;
  const d: Decrypted = { msg, signer, csr: csrOf(der, known), cipher, digest };
  if (type === 'RenewalReq') {
    const target = await checkRenewal(ctx, signer);
    // A renewal keeps its subject; the binding of the new certificate follows `renewalOf`, the
    // serial of the signer, never the subject (every device may share one).
    if (formatName(decodeName(signer.subject)) !== d.csr.subject)
      throw new Refusal('badRequest', 'a renewal must keep the subject of the certificate');
    return { status: 'SUCCESS', content: await issue(ctx, d, target) };
  }
  // RFC 8894 section 2.3 only says a PKCSReq SHOULD be signed with the CSR's key; mdmb signs
  // with a throwaway key. Accepting that grants nothing new: the challenge authorises issuance
  // and the CSR's own signature (checked in csrOf) proves possession of the certified key, so
  // the signer only receives the reply, which is encrypted to it. Renewal stays bound above.
  return settle(ctx, d, 'PKCSReq');
}

async function settle(
  ctx: OperationContext,
  d: Decrypted,
  type: 'PKCSReq' | 'CertPoll',
): Promise<Outcome> {
  // The CA's policy first: a one-time challenge is spent only by a request that will be issued.
  try {
    ctx.ca.checkPolicy(d.csr);
  } catch (error) {
    throw refusalOfPolicy(error);
  }
  const decision = await decide(ctx, d, type);
  if (decision.outcome === 'reject') throw new Refusal('badRequest', 'challenge not accepted');
  if (decision.outcome === 'pending') {
    ctx.pending.put(d.msg.transactionId, d.signer.der, d.csr, ctx.clock());
    return { status: 'PENDING' };
  }
  const target = decision.enrollmentId === undefined ? {} : { enrollmentId: decision.enrollmentId };
  return { status: 'SUCCESS', content: await issue(ctx, d, target) };
}

const EMPTY = Buffer.alloc(0);
const writers = new WeakMap<X509Certificate, CertRepWriter | null>();

/** The CertRep writer of a responder, made once (`undefined`: write with `writePkiMessage`). */
function certRepWriterOf(certificate: X509Certificate, key: KeyObject): CertRepWriter | undefined {
  let w = writers.get(certificate);
  if (w === undefined) {
    w = createCertRepWriter(certificate, key) ?? null;
    writers.set(certificate, w);
  }
  return w ?? undefined;
}

/**
 * Answers one PKIOperation body with a DER CertRep. Throws `ERR_SCEP_MESSAGE`, `ERR_CMS_FORMAT`
 * or `ERR_DER` (400) for unreadable messages, `ERR_SCEP_VALIDATOR` (503) when the validator fails,
 * and `StorageError` when the CA cannot record.
 */
export async function processPkiOperation(
  ctx: OperationContext,
  body: Uint8Array,
): Promise<Buffer> {
  const msg = readPkiMessage(body);
  const { certificate, privateKey } = ctx.ca.responder;
  const digest =
    msg.digest !== undefined && (msg.digest !== 'sha1' || ctx.allowSha1) ? msg.digest : 'sha256';
  const write = certRepWriterOf(certificate, privateKey);
  const reply = (fields: {
    pkiStatus: 'SUCCESS' | 'FAILURE' | 'PENDING';
    failInfo?: FailInfoName;
    content?: Buffer;
  }): Buffer => {
    const common = {
      transactionId: msg.transactionId,
      ...(msg.senderNonce ? { recipientNonce: msg.senderNonce } : {}),
      pkiStatus: fields.pkiStatus,
      ...(fields.failInfo ? { failInfo: fields.failInfo } : {}),
      content: fields.content ?? EMPTY,
      digest,
      signingTime: ctx.clock(),
    };
    return write !== undefined
      ? write(common)
      : writePkiMessage({ ...common, messageType: MessageType.CertRep, certificate, privateKey });
  };
  try {
    const outcome = await handleRequest(ctx, msg);
    return outcome.status === 'SUCCESS'
      ? reply({ pkiStatus: 'SUCCESS', content: outcome.content })
      : reply({ pkiStatus: 'PENDING' });
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    ctx.logger.info(
      { transactionId: msg.transactionId, failInfo: error.failInfo, reason: error.message },
      'SCEP request refused',
    );
    return reply({ pkiStatus: 'FAILURE', failInfo: error.failInfo });
  }
}

/**
 * A SCEP client on the crypto core: builds PKCSReq, RenewalReq and CertPoll messages, reads
 * CertReps (signature, transaction and nonce checks, envelope), and enrolls over HTTP. Used by
 * the test suites and the benchmark, and by embedders that renew certificates themselves.
 */
import { createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { parseSignedData } from '../../crypto/cms-parse.js';
import { decryptCms, encryptCms } from '../../crypto/cms-envelope.js';
import {
  toCertificate,
  toPrivateKey,
  type CertificateInput,
  type PrivateKeyInput,
} from '../../crypto/keys.js';
import { buildCertificate } from '../../crypto/certificate-builder.js';
import { certInfo } from '../../crypto/cert-info.js';
import { encodeName, type NameAttribute } from '../../crypto/name.js';
import type { DigestName } from '../../crypto/oids.js';
import { ScepError } from '../../errors.js';
import { MessageType, type FailInfoName, type PkiStatusName } from './constants.js';
import { decryptDesEnvelope } from './envelope-des.js';
import { envelopeCipherOf, type EnvelopeCipher } from './envelope.js';
import { readPkiMessage, writePkiMessage } from './message.js';

/** Options of {@link createScepRequest}. */
export interface ScepRequestOptions {
  messageType: 'PKCSReq' | 'RenewalReq' | 'CertPoll';
  /** The PKCS#10 request (DER); for CertPoll, the IssuerAndSubject content instead. */
  content: Uint8Array;
  /** Transient self-signed identity (PKCSReq, CertPoll) or the certificate being renewed. */
  signer: { certificate: CertificateInput; privateKey: PrivateKeyInput };
  /** The RA or CA certificate to encrypt to. */
  recipient: CertificateInput;
  /** Default: 16 random bytes as hex. */
  transactionId?: string;
  digest?: DigestName;
  cipher?: EnvelopeCipher;
  keyTransport?: 'rsa-pkcs1' | 'rsa-oaep';
  signingTime?: Date | false;
}

/** A request ready to send, with what {@link readCertRep} must see echoed. */
export interface ScepRequest {
  der: Buffer;
  transactionId: string;
  senderNonce: Buffer;
}

/** The outcome a CertRep carries. */
export interface CertRepResult {
  status: PkiStatusName;
  failInfo?: FailInfoName;
  /** The issued certificate, on SUCCESS. */
  certificate?: X509Certificate;
}

/** Builds and signs a SCEP request. Throws the crypto core's errors on unusable keys. */
export function createScepRequest(options: ScepRequestOptions): ScepRequest {
  const transactionId = options.transactionId ?? randomBytes(16).toString('hex');
  const senderNonce = randomBytes(16);
  const envelope = encryptCms(options.content, options.recipient, {
    ...(options.cipher ? { cipher: options.cipher } : {}),
    ...(options.keyTransport ? { keyTransport: options.keyTransport } : {}),
  });
  const der = writePkiMessage({
    messageType: MessageType[options.messageType],
    transactionId,
    senderNonce,
    content: envelope,
    certificate: options.signer.certificate,
    privateKey: options.signer.privateKey,
    digest: options.digest ?? 'sha256',
    ...(options.signingTime === undefined ? {} : { signingTime: options.signingTime }),
  });
  return { der, transactionId, senderNonce };
}

/**
 * Reads a CertRep for `request`: verifies its signature by one of `responders` (RA/CA), checks
 * the transaction ID and recipient nonce, and on SUCCESS decrypts the certificate with
 * `privateKey`. Throws `ERR_SCEP_MESSAGE` when any check fails.
 */
export function readCertRep(
  der: Uint8Array,
  request: ScepRequest,
  options: {
    privateKey: PrivateKeyInput;
    responders: CertificateInput[];
    /** The request's signer certificate: needed to read single-DES replies (micromdm/scep). */
    certificate?: CertificateInput;
  },
): CertRepResult {
  const msg = readPkiMessage(der);
  const fail = (m: string): ScepError => new ScepError('ERR_SCEP_MESSAGE', m);
  if (!msg.verified.ok) throw fail('CertRep signature does not verify');
  const signer = msg.verified.signer.raw;
  if (!options.responders.some((r) => certInfo(r).der.equals(signer)))
    throw fail('CertRep not signed by the SCEP responder');
  if (msg.messageType !== MessageType.CertRep) throw fail('not a CertRep');
  if (msg.transactionId !== request.transactionId) throw fail('transactionID mismatch');
  if (msg.recipientNonce?.equals(request.senderNonce) !== true)
    throw fail('recipientNonce mismatch');
  if (msg.pkiStatus === undefined) throw fail('pkiStatus missing');
  if (msg.pkiStatus !== 'SUCCESS')
    return msg.failInfo
      ? { status: msg.pkiStatus, failInfo: msg.failInfo }
      : { status: msg.pkiStatus };
  const inner =
    envelopeCipherOf(msg.verified.content) === 'des-cbc' && options.certificate !== undefined
      ? decryptDesEnvelope(msg.verified.content, {
          privateKey: toPrivateKey(options.privateKey),
          certificate: toCertificate(options.certificate),
        })
      : decryptCms(msg.verified.content, { privateKey: options.privateKey });
  const [first] = parseSignedData(inner).certificates;
  if (first === undefined) throw fail('CertRep holds no certificate');
  return { status: 'SUCCESS', certificate: new X509Certificate(first) };
}

/**
 * A self-signed transient certificate for `privateKey` (what a client signs its PKCSReq with),
 * valid one day from `now`.
 */
export function createTransientCertificate(
  privateKey: PrivateKeyInput,
  subject: string | NameAttribute[],
  now = new Date(),
): X509Certificate {
  const key: KeyObject = toPrivateKey(privateKey);
  const name = encodeName(subject);
  const der = buildCertificate({
    serial: randomBytes(8),
    issuerName: name,
    subjectName: name,
    spki: createPublicKey(key).export({ format: 'der', type: 'spki' }),
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + 86_400_000),
    extensions: [],
    signingKey: key,
  });
  return new X509Certificate(der);
}

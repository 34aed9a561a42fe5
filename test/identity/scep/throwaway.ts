/**
 * PKCSReq messages shaped like mdmb's (jessepeterson/mdmb through smallstep/scep): the CSR holds
 * the device key, but the pkiMessage is signed by a throwaway RSA-2048 key behind a self-signed
 * `CN=SCEP SIGNER` certificate, with SHA-1 and a single-DES envelope (its pkcs7 defaults), or
 * with AES and SHA-256 as a modern client would. Single DES is written by `openssl cms -des`,
 * since our crypto core only reads it.
 */
import { randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { createCsr } from '../../../src/crypto/csr.js';
import type { DigestName } from '../../../src/crypto/oids.js';
import {
  createScepRequest,
  createTransientCertificate,
  type ScepRequest,
} from '../../../src/identity/scep/client.js';
import { MessageType } from '../../../src/identity/scep/constants.js';
import { writePkiMessage } from '../../../src/identity/scep/message.js';
import { makeTmpDir, openssl } from '../../support/openssl.js';
import { clientKey } from './helpers.js';

/** What {@link throwawaySignedRequest} builds a request from. */
export interface ThrowawayOptions {
  /** The key the CSR certifies. */
  csrKey: KeyObject;
  /** The SCEP responder (RA or CA) certificate to encrypt to. */
  recipient: X509Certificate;
  challenge?: string;
  subject?: string;
  /** `des-cbc` as mdmb sends by default; default `aes-256-cbc`. */
  cipher?: 'aes-256-cbc' | 'des-cbc';
  /** Default `sha1` with `des-cbc` (mdmb), else `sha256`. */
  digest?: DigestName;
  /** The throwaway key; default a memoised RSA-2048 key that is not `csrKey`. */
  signerKey?: KeyObject;
  /** The throwaway signer itself (a CertPoll must reuse it); overrides `signerKey`. */
  signer?: { certificate: X509Certificate; privateKey: KeyObject };
  transactionId?: string;
  /** The CSR to send instead of a fresh one. */
  csr?: Buffer;
}

/** A request signed by a key other than the CSR's, and the signer that reads the reply. */
export interface ThrowawayRequest {
  request: ScepRequest;
  signer: { certificate: X509Certificate; privateKey: KeyObject };
}

/** A single-DES EnvelopedData of `content` for `recipient`, written by OpenSSL 3 (legacy provider). */
export function desEnvelope(content: Uint8Array, recipient: X509Certificate): Buffer {
  const tmp = makeTmpDir('orchard-des-');
  try {
    tmp.write('recipient.pem', recipient.toString());
    return openssl(
      [
        'cms',
        '-encrypt',
        '-binary',
        '-outform',
        'DER',
        '-des',
        '-provider',
        'legacy',
        '-provider',
        'default',
        tmp.path('recipient.pem'),
      ],
      { input: content },
    );
  } finally {
    tmp.remove();
  }
}

/** Builds a PKCSReq whose pkiMessage is signed by a throwaway key, as mdmb does. */
export function throwawaySignedRequest(o: ThrowawayOptions): ThrowawayRequest {
  const signerKey = o.signer?.privateKey ?? o.signerKey ?? clientKey('rsa-2048', 7);
  if (signerKey === o.csrKey) throw new TypeError('the signer key must differ from the CSR key');
  const signer = o.signer ?? {
    certificate: createTransientCertificate(signerKey, 'CN=SCEP SIGNER'),
    privateKey: signerKey,
  };
  const csr =
    o.csr ??
    createCsr({
      subject: o.subject ?? 'CN=mdmb-device,O=Orchard',
      privateKey: o.csrKey,
      ...(o.challenge === undefined ? {} : { challengePassword: o.challenge }),
    });
  const cipher = o.cipher ?? 'aes-256-cbc';
  const digest = o.digest ?? (cipher === 'des-cbc' ? 'sha1' : 'sha256');
  const transactionId = o.transactionId ?? randomBytes(20).toString('base64');
  if (cipher !== 'des-cbc') {
    const request = createScepRequest({
      messageType: 'PKCSReq',
      content: csr,
      signer,
      recipient: o.recipient,
      transactionId,
      digest,
      cipher,
    });
    return { request, signer };
  }
  const senderNonce = randomBytes(16);
  const der = writePkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId,
    senderNonce,
    content: desEnvelope(csr, o.recipient),
    certificate: signer.certificate,
    privateKey: signer.privateKey,
    digest,
  });
  return { request: { der, transactionId, senderNonce }, signer };
}

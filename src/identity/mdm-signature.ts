/**
 * The `Mdm-Signature` header: a base64 CMS SignedData, detached, over the exact HTTP body,
 * signed by the device identity key with its certificate embedded. Devices set it when the
 * enrollment profile has `SignMessage: true`, so a TLS-terminating proxy need not forward the
 * client certificate. See Apple's MDM payload (`SignMessage`) documentation.
 */
import type { X509Certificate } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { verifyCms } from '../crypto/cms-verify.js';
import type { CertificateInput } from '../crypto/keys.js';

/** Options of {@link verifyMdmSignature}. */
export interface MdmSignatureOptions {
  /** Trust anchors; when given, the signer must chain to one of them (strongly advised). */
  roots?: CertificateInput[];
  /** Extra untrusted certificates for path building. */
  intermediates?: CertificateInput[];
  /** Time for validity checks; default now. */
  at?: Date;
}

/** Upper bound of a decoded header; a device's signature with its certificate is about 2-4 KB. */
const MAX_HEADER_LENGTH = 64 * 1024;

function decodeHeader(header: string): Buffer {
  const text = header.trim();
  if (
    text.length === 0 ||
    text.length > MAX_HEADER_LENGTH ||
    !/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(text)
  ) {
    throw new CryptoError('ERR_CMS_FORMAT', 'Mdm-Signature is not base64');
  }
  return Buffer.from(text, 'base64');
}

/**
 * Verifies an `Mdm-Signature` header value over `body` and resolves to the signer certificate
 * (the device identity). SHA-1 or SHA-2, RSA or ECDSA, BER or DER are accepted. Rejects with a
 * `CryptoError`: `ERR_CMS_FORMAT`/`ERR_DER` for a malformed header, `ERR_CMS_SIGNATURE` when the
 * body or signature does not match, `ERR_CERT_*` when `roots` are given and the chain fails.
 */
export function verifyMdmSignature(
  header: string,
  body: Uint8Array,
  options: MdmSignatureOptions = {},
): Promise<X509Certificate> {
  try {
    if (typeof header !== 'string')
      throw new TypeError('verifyMdmSignature(): header must be a string');
    const der = decodeHeader(header);
    const verification = verifyCms(der, { ...options, content: body });
    return Promise.resolve(verification.signer);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Getting a push certificate. The customer makes an RSA 2048 key and a CSR; an MDM vendor
 * signs the CSR's DER with the key of its "MDM CSR" certificate from Apple and wraps CSR,
 * signature and the vendor's chain in a plist (`PushCertRequestCSR`, `PushCertSignature`,
 * `PushCertCertificateChain`), base64-encoded, which the customer uploads at
 * https://identity.apple.com/pushcert. See Apple's "Setting up push notifications for your
 * MDM customers".
 */
import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { createCsr, csrToPem, verifyCsr } from '../../crypto/csr.js';
import type { NameAttribute } from '../../crypto/name.js';
import { CryptoError, PushError } from '../../errors.js';
import { encodePlist } from '../../protocol/plist.js';

/** Subject fields of the customer CSR. */
export interface PushCsrSubject {
  commonName: string;
  email?: string;
  organization?: string;
  /** Two-letter country code. */
  country?: string;
}

/** A fresh key (PKCS#8 PEM, unencrypted) and CSR (PEM). */
export interface PushCsr {
  privateKeyPem: string;
  csrPem: string;
}

/**
 * Generates an RSA 2048 key and a SHA-256 CSR for `subject`. Throws `TypeError` on an empty
 * common name or a country that is not two letters.
 */
export function createPushCsr(subject: PushCsrSubject): PushCsr {
  if (subject.commonName.trim() === '') throw new TypeError('commonName must not be empty');
  if (subject.country !== undefined && !/^[A-Za-z]{2}$/.test(subject.country))
    throw new TypeError('country must be a two-letter code');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attrs: NameAttribute[] = [{ type: 'CN', value: subject.commonName }];
  if (subject.organization !== undefined) attrs.push({ type: 'O', value: subject.organization });
  if (subject.country !== undefined)
    attrs.push({ type: 'C', value: subject.country.toUpperCase() });
  if (subject.email !== undefined) attrs.push({ type: 'E', value: subject.email });
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    csrPem: csrToPem(createCsr({ subject: attrs, privateKey })),
  };
}

/** Inputs of {@link signPushCsr}: the customer's CSR and the vendor's signing identity. */
export interface SignPushCsrInput {
  csrPem: string;
  /** The vendor's MDM CSR signing certificate, optionally followed by its chain (PEM). */
  vendorCertPem: string;
  vendorKeyPem: string;
  vendorKeyPassphrase?: string;
  /** Extra chain certificates (Apple WWDR intermediate and root), PEM. */
  chainPem?: string;
  /** Signature digest (default SHA-256). */
  hash?: 'sha256' | 'sha1';
}

/** The signed request: the plist as XML and the base64 text to upload. */
export interface SignedPushRequest {
  plist: string;
  request: string;
}

/** The DER of a customer CSR, as given, once its RSA self-signature verifies. */
function csrDer(csrPem: string): Buffer {
  try {
    const csr = verifyCsr(csrPem);
    if (csr.keyType !== 'rsa') throw new TypeError(`a ${csr.keyType} key, not RSA`);
    return csr.der;
  } catch (error) {
    throw new PushError('ERR_PUSH_CSR', 'the customer CSR is not a valid RSA certificate request', {
      cause: error,
    });
  }
}

/**
 * Signs a customer CSR as the MDM vendor and builds the upload for Apple's portal. Throws
 * `PushError` `ERR_PUSH_CSR` on a bad CSR or a vendor key that does not match the certificate,
 * `CryptoError` on unreadable vendor material.
 */
export function signPushCsr(input: SignPushCsrInput): SignedPushRequest {
  const der = csrDer(input.csrPem);
  let key;
  let chain: X509Certificate[];
  try {
    key = createPrivateKey({
      key: input.vendorKeyPem,
      ...(input.vendorKeyPassphrase === undefined ? {} : { passphrase: input.vendorKeyPassphrase }),
    });
    const blocks = `${input.vendorCertPem}\n${input.chainPem ?? ''}`.match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    );
    chain = (blocks ?? []).map((b) => new X509Certificate(b));
  } catch (error) {
    throw new CryptoError('ERR_CERT_FORMAT', 'cannot read the vendor certificate or key', {
      cause: error,
    });
  }
  const vendor = chain[0];
  if (vendor === undefined)
    throw new CryptoError('ERR_CERT_FORMAT', 'no vendor certificate found (expected PEM)');
  if (!vendor.checkPrivateKey(key))
    throw new PushError('ERR_PUSH_CSR', 'the vendor key does not belong to the vendor certificate');
  const signature = sign(input.hash ?? 'sha256', der, key);
  const plist = encodePlist({
    PushCertRequestCSR: der.toString('base64'),
    PushCertCertificateChain: chain.map((c) => c.toString()).join(''),
    PushCertSignature: signature.toString('base64'),
  }).toString('utf8');
  return { plist, request: Buffer.from(plist, 'utf8').toString('base64') };
}

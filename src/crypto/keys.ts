/**
 * Input normalisation for certificates and private keys: node `X509Certificate` and
 * `KeyObject` are the currency of Orchard's crypto API; PEM and DER are accepted everywhere.
 */
import { createPrivateKey, generateKeyPair, KeyObject, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { CryptoError } from '../errors.js';

/** A certificate as node `X509Certificate`, DER bytes, or PEM text. */
export type CertificateInput = X509Certificate | Uint8Array | string;
/** A private key as node `KeyObject`, PEM text (PKCS#8, PKCS#1 or SEC1), or PKCS#8 DER. */
export type PrivateKeyInput = KeyObject | string | Uint8Array;
/** Key types Orchard generates. */
export type KeyType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p256' | 'ec-p384';

/**
 * Returns `input` as a node `X509Certificate` (the same object when it already is one).
 * Throws `ERR_CERT_FORMAT` when the bytes or text are not a certificate.
 */
export function toCertificate(input: CertificateInput): X509Certificate {
  if (input instanceof X509Certificate) return input;
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new TypeError('toCertificate(): expected an X509Certificate, DER bytes or PEM text');
  }
  try {
    return new X509Certificate(typeof input === 'string' ? input : Buffer.from(input));
  } catch (cause) {
    throw new CryptoError('ERR_CERT_FORMAT', 'not a valid X.509 certificate', { cause });
  }
}

/**
 * Splits PEM text holding several certificates into `X509Certificate`s, in order.
 * Returns an empty array when the text holds none; throws `ERR_CERT_FORMAT` on a bad block.
 */
export function certificatesFromPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => toCertificate(b));
}

/**
 * Returns `input` as a private `KeyObject`. Throws `ERR_KEY_FORMAT` when it cannot be read,
 * and `TypeError` when given a public or secret `KeyObject`.
 */
export function toPrivateKey(input: PrivateKeyInput): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new TypeError('toPrivateKey(): expected a private key');
    return input;
  }
  try {
    if (typeof input === 'string') return createPrivateKey(input);
    const der = Buffer.from(input);
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        return createPrivateKey({ key: der, format: 'der', type });
      } catch {
        // try the next container format
      }
    }
    throw new Error('no known DER private-key format matched');
  } catch (cause) {
    throw new CryptoError('ERR_KEY_FORMAT', 'not a valid private key', { cause });
  }
}

/** PEM text of a private key (PKCS#8). */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

const generate = promisify(generateKeyPair);

/**
 * Generates a key pair with safe parameters (RSA e=65537, named NIST curves), off the main thread.
 * Throws `TypeError` for an unknown key type.
 */
export async function generateKeyPairOf(
  keyType: KeyType,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (keyType) {
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return generate('rsa', { modulusLength: Number(keyType.slice(4)), publicExponent: 0x10001 });
    case 'ec-p256':
      return generate('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return generate('ec', { namedCurve: 'P-384' });
    default:
      throw new TypeError(`generateKeyPairOf(): unknown key type ${String(keyType)}`);
  }
}

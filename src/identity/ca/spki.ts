/**
 * SubjectPublicKeyInfo helpers over DER bytes, so the issuing path never exports a KeyObject:
 * the SPKI is taken verbatim from the CSR and the key identifier hashed from it.
 */
import { createHash } from 'node:crypto';
import { bytesOf, children, contentOf, readDer, Tag } from '../../crypto/der.js';
import { CryptoError } from '../../errors.js';

/** The SubjectPublicKeyInfo element of a PKCS#10 request. Throws `ERR_CSR_FORMAT` when absent. */
export function spkiOfCsr(csrDer: Uint8Array): Buffer {
  const [info] = children(readDer(csrDer));
  const spki = info?.tag === Tag.SEQUENCE ? children(info)[2] : undefined;
  if (spki?.tag !== Tag.SEQUENCE)
    throw new CryptoError('ERR_CSR_FORMAT', 'request has no public key');
  return bytesOf(spki);
}

/** RFC 5280 method 1 key identifier (SHA-1 of the subjectPublicKey bits) of an SPKI. */
export function keyIdOfSpki(spki: Uint8Array): Buffer {
  const bits = children(readDer(spki))[1];
  if (bits?.tag !== Tag.BIT_STRING)
    throw new TypeError('keyIdOfSpki(): not a SubjectPublicKeyInfo');
  return createHash('sha1').update(contentOf(bits).subarray(1)).digest();
}

/**
 * A lean X.509 v3 certificate writer for the issuing hot path: the TBSCertificate is assembled
 * with Orchard's DER writer and signed with node:crypto directly (no WebCrypto key import, no
 * object-mapping ASN.1), so issuing costs little more than the signature itself.
 */
import { sign, type KeyObject } from 'node:crypto';
import {
  algorithm,
  bitString,
  contextConstructed,
  integer,
  nullValue,
  sequence,
  time,
  tlv,
} from '../../crypto/der-write.js';
import { Oid, type DigestName } from '../../crypto/oids.js';

/** Inputs of {@link writeCertificate}; names and key are complete DER elements. */
export interface CertificateFields {
  /** Serial as big-endian magnitude bytes (positive). */
  serial: Uint8Array;
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  /** SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Complete Extension elements. */
  extensions: Uint8Array[];
  /** The issuer's private key (RSA, or EC P-256/P-384/P-521). */
  signingKey: KeyObject;
}

const algorithms = new WeakMap<KeyObject, { element: Buffer; digest: DigestName }>();

function algorithmOf(key: KeyObject): { element: Buffer; digest: DigestName } {
  if (key.asymmetricKeyType === 'rsa')
    return { element: algorithm(Oid.sha256WithRsa, nullValue()), digest: 'sha256' };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec') {
    if (curve === 'prime256v1')
      return { element: algorithm(Oid.ecdsaWithSha256), digest: 'sha256' };
    if (curve === 'secp384r1') return { element: algorithm(Oid.ecdsaWithSha384), digest: 'sha384' };
    if (curve === 'secp521r1') return { element: algorithm(Oid.ecdsaWithSha512), digest: 'sha512' };
  }
  throw new TypeError(`cannot issue certificates with a ${String(key.asymmetricKeyType)} key`);
}

/**
 * The signature algorithm element and digest for an issuer key, worked out once per key (the
 * element is shared: do not modify it). Throws `TypeError` for a key that cannot issue.
 */
export function signatureAlgorithmFor(key: KeyObject): { element: Buffer; digest: DigestName } {
  let alg = algorithms.get(key);
  if (alg === undefined) {
    alg = algorithmOf(key);
    algorithms.set(key, alg);
  }
  return alg;
}

/** Writes and signs a certificate, returning its DER. Throws `TypeError` for unusable keys. */
export function writeCertificate(fields: CertificateFields): Buffer {
  const alg = signatureAlgorithmFor(fields.signingKey);
  const tbs = sequence(
    contextConstructed(0, integer(2)),
    integer(fields.serial),
    alg.element,
    fields.issuerName,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subjectName,
    fields.spki,
    ...(fields.extensions.length > 0
      ? [contextConstructed(3, sequence(...fields.extensions))]
      : []),
  );
  const signature = sign(alg.digest, tbs, fields.signingKey);
  return tlv(0x30, tbs, alg.element, bitString(signature));
}

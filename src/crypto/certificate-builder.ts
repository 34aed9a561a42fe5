/**
 * The one X.509 v3 certificate builder: the TBSCertificate is assembled with Orchard's DER writer
 * and signed with node:crypto directly (no WebCrypto key import, no object-mapping ASN.1), so
 * building a certificate costs little more than its signature. The SCEP CA issues through it on
 * its hot path; `issueCertificate`, `createCertificateAuthority` and the SCEP client's transient
 * certificate are option-friendly layers over it.
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
} from './der-write.js';
import { Oid, type DigestName } from './oids.js';

/** Inputs of {@link buildCertificate}; names, key and extensions are complete DER elements. */
export interface CertificateFields {
  /** Serial as big-endian magnitude bytes (positive; a 0x00 is prepended when the top bit is set). */
  serial: Uint8Array;
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  /** SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Complete Extension elements, written in this order (none: no extensions field). */
  extensions: readonly Uint8Array[];
  /** The issuer's private key (RSA, or EC P-256/P-384/P-521). */
  signingKey: KeyObject;
}

/** A signature algorithm: its AlgorithmIdentifier element and the digest to sign with. */
export interface SignatureAlgorithm {
  element: Buffer;
  digest: DigestName;
}

const algorithms = new WeakMap<KeyObject, SignatureAlgorithm>();

function algorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa')
    return { element: algorithm(Oid.sha256WithRsa, nullValue()), digest: 'sha256' };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec') {
    if (curve === 'prime256v1')
      return { element: algorithm(Oid.ecdsaWithSha256), digest: 'sha256' };
    if (curve === 'secp384r1') return { element: algorithm(Oid.ecdsaWithSha384), digest: 'sha384' };
    if (curve === 'secp521r1') return { element: algorithm(Oid.ecdsaWithSha512), digest: 'sha512' };
  }
  throw new TypeError(`cannot sign certificates with a ${String(key.asymmetricKeyType)} key`);
}

/**
 * The signature algorithm for an issuer key (sha256WithRSAEncryption; ECDSA with the curve's
 * hash), worked out once per key (the element is shared: do not modify it). Throws `TypeError`
 * for a key that cannot sign certificates.
 */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  let alg = algorithms.get(key);
  if (alg === undefined) {
    alg = algorithmOf(key);
    algorithms.set(key, alg);
  }
  return alg;
}

/**
 * Builds and signs a certificate, returning its DER. Throws `TypeError` for a key that cannot
 * sign certificates or a date outside years 0-9999.
 */
export function buildCertificate(fields: CertificateFields): Buffer {
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

/**
 * Public keys from SubjectPublicKeyInfo bytes without OpenSSL 3's decoder framework: the RSA
 * modulus and exponent, or the EC point, are read with Orchard's DER reader and handed to
 * `createPublicKey` as a JWK. Measured here, that takes about 7 µs where decoding the SPKI (or an
 * `X509Certificate`'s key) takes about 140 µs, which matters when every request brings a new
 * certificate (SCEP transient certificates). Anything unusual is left to the decoder.
 */
import { createPublicKey, type AsymmetricKeyDetails, type KeyObject } from 'node:crypto';
import { children, contentOf, readDer, Tag } from './der.js';
import { decodeOid, Oid } from './oids.js';

const curves = new Map<string, { crv: string; size: number; name: string }>([
  [Oid.prime256v1, { crv: 'P-256', size: 32, name: 'prime256v1' }],
  [Oid.secp384r1, { crv: 'P-384', size: 48, name: 'secp384r1' }],
  [Oid.secp521r1, { crv: 'P-521', size: 66, name: 'secp521r1' }],
]);

/**
 * What node's `asymmetricKeyDetails` would report for the keys built here (modulus bits or curve),
 * known from the bytes already read: asking OpenSSL costs a native call per new key.
 */
const detailsOfKeys = new WeakMap<KeyObject, AsymmetricKeyDetails>();

/** Bit length of a positive magnitude with a nonzero first byte. */
function bitLength(magnitude: Buffer): number {
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0] as number));
}

/** Magnitude of a minimal, positive DER INTEGER, or undefined. */
function positiveMagnitude(content: Buffer): Buffer | undefined {
  if (content.length === 0 || ((content[0] as number) & 0x80) !== 0) return undefined;
  if (content[0] === 0) {
    if (content.length === 1 || ((content[1] as number) & 0x80) === 0) return undefined;
    return content.subarray(1);
  }
  return content;
}

interface Jwk {
  jwk: { kty: 'RSA'; n: string; e: string } | { kty: 'EC'; crv: string; x: string; y: string };
  details: AsymmetricKeyDetails;
}

function rsaJwk(bits: Buffer): Jwk | undefined {
  const key = readDer(bits);
  if (key.tag !== Tag.SEQUENCE) return undefined;
  const [n, e, extra] = children(key);
  if (n?.tag !== Tag.INTEGER || e?.tag !== Tag.INTEGER || extra !== undefined) return undefined;
  const modulus = positiveMagnitude(contentOf(n));
  const exponent = positiveMagnitude(contentOf(e));
  if (modulus === undefined || exponent === undefined) return undefined;
  if (modulus.length < 128 || modulus.length > 2048 || exponent.length > 8) return undefined;
  if (((exponent[exponent.length - 1] as number) & 1) === 0) return undefined;
  return {
    jwk: { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') },
    details: { modulusLength: bitLength(modulus) },
  };
}

function ecJwk(curveOid: string, point: Buffer): Jwk | undefined {
  const curve = curves.get(curveOid);
  if (curve === undefined || point.length !== 1 + 2 * curve.size || point[0] !== 0x04)
    return undefined;
  return {
    jwk: {
      kty: 'EC',
      crv: curve.crv,
      x: point.subarray(1, 1 + curve.size).toString('base64url'),
      y: point.subarray(1 + curve.size).toString('base64url'),
    },
    details: { namedCurve: curve.name },
  };
}

/**
 * The public key of a DER SubjectPublicKeyInfo holding an RSA key (rsaEncryption, NULL
 * parameters) or an uncompressed P-256/P-384/P-521 point, or `undefined` for anything else or
 * anything malformed, so the caller can fall back to `crypto.createPublicKey`. Never throws.
 */
export function publicKeyFromSpki(spki: Uint8Array): KeyObject | undefined {
  try {
    const outer = readDer(spki);
    if (outer.tag !== Tag.SEQUENCE) return undefined;
    const [alg, bits, extra] = children(outer);
    if (alg?.tag !== Tag.SEQUENCE || bits?.tag !== Tag.BIT_STRING || extra !== undefined)
      return undefined;
    const [id, params, more] = children(alg);
    const raw = contentOf(bits);
    if (id?.tag !== Tag.OID || raw[0] !== 0 || more !== undefined) return undefined;
    const oid = decodeOid(contentOf(id));
    let read: Jwk | undefined;
    if (oid === Oid.rsaEncryption && params?.tag === Tag.NULL && contentOf(params).length === 0)
      read = rsaJwk(raw.subarray(1));
    else if (oid === Oid.ecPublicKey && params?.tag === Tag.OID)
      read = ecJwk(decodeOid(contentOf(params)), raw.subarray(1));
    if (read === undefined) return undefined;
    const key = createPublicKey({ key: read.jwk, format: 'jwk' });
    detailsOfKeys.set(key, read.details);
    return key;
  } catch {
    return undefined; // malformed DER, or a point not on its curve: the decoder decides
  }
}

/**
 * The modulus length or curve of a public key, as `asymmetricKeyDetails` reports them: read from
 * the bytes for keys {@link publicKeyFromSpki} built, asked of node for any other key (then also
 * the public exponent). Empty for key types without details.
 */
export function publicKeyDetails(key: KeyObject): AsymmetricKeyDetails {
  return detailsOfKeys.get(key) ?? key.asymmetricKeyDetails ?? {};
}

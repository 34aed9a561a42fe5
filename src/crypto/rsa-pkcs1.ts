/**
 * RSAES-PKCS1-v1_5 decryption with implicit rejection, for CMS key transport.
 *
 * Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809, the Marvin attack) and that
 * protection stays on. We decrypt with raw RSA (`RSA_NO_PADDING`) and unpad in constant time
 * (branch-free masks over every byte). On bad padding, or a message of the wrong length, we
 * return a synthetic key derived from the private key and the ciphertext as in
 * draft-irtf-cfrg-rsa-guidance / OpenSSL 3.2: deterministic, so a bad padding looks exactly like
 * a wrong key, and the caller's content decryption fails the same way. No padding oracle.
 */
import { constants, createHash, createHmac, privateDecrypt, type KeyObject } from 'node:crypto';

const kdkKeys = new WeakMap<KeyObject, Buffer>();

function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new TypeError('decryptPkcs1v15(): expected an RSA private key');
  return Math.ceil(bits / 8);
}

/** SHA-256 of the private exponent, left-padded to the modulus length (cached per key). */
function kdkKey(key: KeyObject, k: number): Buffer {
  let h = kdkKeys.get(key);
  if (h === undefined) {
    const jwk = key.export({ format: 'jwk' });
    if (typeof jwk.d !== 'string')
      throw new TypeError('decryptPkcs1v15(): expected an RSA private key');
    const d = Buffer.from(jwk.d, 'base64url');
    const padded = Buffer.alloc(Math.max(k, d.length));
    d.copy(padded, padded.length - d.length);
    h = createHash('sha256').update(padded).digest();
    kdkKeys.set(key, h);
  }
  return h;
}

/** The PRF of the draft: HMAC-SHA256(kdk, I || label || bitLength) blocks, truncated. */
function prf(kdk: Buffer, label: string, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  const suffix = Buffer.alloc(2);
  suffix.writeUInt16BE((bytes * 8) & 0xffff);
  for (let i = 0, pos = 0; pos < bytes; i++, pos += 32) {
    const counter = Buffer.alloc(2);
    counter.writeUInt16BE(i);
    const block = createHmac('sha256', kdk)
      .update(counter)
      .update(label, 'latin1')
      .update(suffix)
      .digest();
    block.copy(out, pos, 0, Math.min(32, bytes - pos));
  }
  return out;
}

/** Returns 0xff when `a === b` (both < 2^16), 0 otherwise, without branches. */
function eqMask(a: number, b: number): number {
  const x = (a ^ b) & 0xffff;
  return ((x - 1) >>> 16) & 0xff;
}

/** Returns 0xff when `a >= b` (both < 2^16), 0 otherwise, without branches. */
function geMask(a: number, b: number): number {
  return ~((a - b) >> 16) & 0xff;
}

/**
 * Decrypts an RSAES-PKCS1-v1_5 `ciphertext` that must carry a message of exactly `length`
 * bytes (e.g. a content-encryption key). Never signals bad padding: it then returns a
 * deterministic synthetic value of the same length. Throws `TypeError` for a non-RSA key
 * or an impossible length; raw RSA failures (ciphertext ≥ modulus) surface as node errors.
 */
export function decryptPkcs1v15(
  privateKey: KeyObject,
  ciphertext: Uint8Array,
  length: number,
): Buffer {
  if (privateKey.asymmetricKeyType !== 'rsa')
    throw new TypeError('decryptPkcs1v15(): expected an RSA private key');
  const k = modulusBytes(privateKey);
  if (!Number.isInteger(length) || length < 1 || length > k - 11) {
    throw new TypeError('decryptPkcs1v15(): impossible message length');
  }
  const padded = Buffer.alloc(k);
  const c = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.length);
  c.copy(padded, Math.max(0, k - c.length), Math.max(0, c.length - k));
  const kdk = createHmac('sha256', kdkKey(privateKey, k)).update(padded).digest();
  const synthetic = prf(kdk, 'message', length);
  let em: Buffer;
  try {
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded);
  } catch {
    em = Buffer.alloc(k);
  }
  // good: EM = 0x00 || 0x02 || PS (≥ 8 nonzero) || 0x00 || M with |M| = length
  let good = eqMask(em[0] ?? 1, 0) & eqMask(em[1] ?? 0, 2);
  let zeroIndex = 0;
  let found = 0;
  for (let i = 2; i < k; i++) {
    const isZero = eqMask(em[i] as number, 0);
    const take = -(isZero & ~found & 1); // all ones for the first zero byte, else 0
    zeroIndex = (zeroIndex & ~take) | (i & take);
    found |= isZero;
  }
  good &= found & geMask(zeroIndex, 10) & eqMask(zeroIndex, k - length - 1);
  const out = Buffer.alloc(length);
  const start = k - length;
  for (let i = 0; i < length; i++) {
    out[i] = ((em[start + i] as number) & good) | ((synthetic[i] as number) & ~good & 0xff);
  }
  return out;
}

/**
 * Sealing of escrowed bootstrap tokens: AES-256-GCM with an injected key, the enrollment id as
 * associated data so a sealed token copied to another enrollment does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError } from '../errors.js';

/** Seals and opens secrets bound to an enrollment id. */
export interface TokenSealer {
  seal(enrollmentId: string, plaintext: Uint8Array): Uint8Array;
  /** Throws {@link CryptoError} `ERR_CMS_DECRYPT` when the sealed value was altered, moved or sealed with another key. */
  open(enrollmentId: string, sealed: Uint8Array): Uint8Array;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Creates an AES-256-GCM sealer. Sealed layout: version byte, 12-byte IV, ciphertext, 16-byte tag.
 * Throws TypeError unless `key` is 32 bytes. `random` is injectable for deterministic tests.
 */
export function createTokenSealer(
  key: Uint8Array,
  random: (n: number) => Uint8Array = randomBytes,
): TokenSealer {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new TypeError('bootstrap token key must be 32 bytes');
  }
  const keyCopy = Uint8Array.from(key);
  return {
    seal(enrollmentId, plaintext) {
      const iv = random(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyCopy, iv);
      cipher.setAAD(Buffer.from(enrollmentId, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]);
    },
    open(enrollmentId, sealed) {
      if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
        throw new CryptoError('ERR_CMS_DECRYPT', 'sealed token is malformed');
      }
      const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
      const decipher = createDecipheriv('aes-256-gcm', keyCopy, buf.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(enrollmentId, 'utf8'));
      decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch (cause) {
        throw new CryptoError('ERR_CMS_DECRYPT', 'sealed token does not open', { cause });
      }
    },
  };
}

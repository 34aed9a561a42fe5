/**
 * The pkcsPKIEnvelope of SCEP: EnvelopedData with one RSA recipient and any of the content
 * ciphers SCEP clients use, including DES-EDE3-CBC, which the crypto core only decrypts. The
 * server answers in the cipher the client chose, so a 3DES-only client can read the reply.
 */
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { certInfo } from '../../crypto/cert-info.js';
import { algorithmOf, readContentInfo } from '../../crypto/cms-parse.js';
import {
  algorithm,
  contextPrimitive,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  setOf,
  tlv,
} from '../../crypto/der-write.js';
import { children, Tag } from '../../crypto/der.js';
import type { CertificateInput } from '../../crypto/keys.js';
import { Oid } from '../../crypto/oids.js';
import { CryptoError } from '../../errors.js';

/** Content ciphers of SCEP envelopes. */
export type EnvelopeCipher = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-ede3-cbc';

const cipherSpecs: Record<EnvelopeCipher, { oid: string; keyLength: number; ivLength: number }> = {
  'aes-128-cbc': { oid: Oid.aes128Cbc, keyLength: 16, ivLength: 16 },
  'aes-192-cbc': { oid: Oid.aes192Cbc, keyLength: 24, ivLength: 16 },
  'aes-256-cbc': { oid: Oid.aes256Cbc, keyLength: 32, ivLength: 16 },
  'des-ede3-cbc': { oid: Oid.desEde3Cbc, keyLength: 24, ivLength: 8 },
};

/** Options of {@link encryptEnvelope}. */
export interface EnvelopeOptions {
  /** Default `aes-256-cbc`. */
  cipher?: EnvelopeCipher;
  /** Default `rsa-pkcs1` (what SCEP clients expect). */
  keyTransport?: 'rsa-pkcs1' | 'rsa-oaep';
}

/**
 * Encrypts `content` for one RSA certificate and returns a DER ContentInfo of EnvelopedData.
 * Throws `ERR_CMS_UNSUPPORTED` for a non-RSA recipient and `TypeError` for an unknown cipher.
 */
export function encryptEnvelope(
  content: Uint8Array,
  recipient: CertificateInput,
  options: EnvelopeOptions = {},
): Buffer {
  const cipherName = options.cipher ?? 'aes-256-cbc';
  const spec = cipherSpecs[cipherName] as (typeof cipherSpecs)[EnvelopeCipher] | undefined;
  if (spec === undefined) throw new TypeError(`encryptEnvelope(): unknown cipher ${cipherName}`);
  const info = certInfo(recipient);
  if (info.publicKey.asymmetricKeyType !== 'rsa')
    throw new CryptoError('ERR_CMS_UNSUPPORTED', 'SCEP envelopes need an RSA recipient');
  const cek = randomBytes(spec.keyLength);
  const iv = randomBytes(spec.ivLength);
  const c = createCipheriv(cipherName, cek, iv);
  const encrypted = Buffer.concat([c.update(content), c.final()]);
  const oaep = options.keyTransport === 'rsa-oaep';
  const encryptedKey = publicEncrypt(
    {
      key: info.publicKey,
      padding: oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING,
      ...(oaep ? { oaepHash: 'sha1' } : {}),
    },
    cek,
  );
  const keyAlg = oaep
    ? algorithm(Oid.rsaesOaep, sequence())
    : algorithm(Oid.rsaEncryption, nullValue());
  const rid = sequence(info.issuer, tlv(Tag.INTEGER, info.serial));
  const ri = sequence(integer(0), rid, keyAlg, octetString(encryptedKey));
  const eci = sequence(
    oid(Oid.data),
    algorithm(spec.oid, octetString(iv)),
    contextPrimitive(0, encrypted),
  );
  return sequence(oid(Oid.envelopedData), tlv(0xa0, sequence(integer(0), setOf(ri), eci)));
}

/**
 * The content cipher an EnvelopedData uses (`des-cbc` for single DES, which only
 * `decryptDesEnvelope` reads), or `undefined` when it is one SCEP does not speak.
 * Throws `ERR_CMS_FORMAT` when the input is not an EnvelopedData.
 */
export function envelopeCipherOf(der: Uint8Array): EnvelopeCipher | 'des-cbc' | undefined {
  const { contentType, content } = readContentInfo(der);
  if (contentType !== Oid.envelopedData || content.tag !== Tag.SEQUENCE)
    throw new CryptoError('ERR_CMS_FORMAT', 'not an EnvelopedData');
  const parts = children(content);
  const eci = parts.find((p, i) => i > 0 && p.tag === Tag.SEQUENCE);
  const [, alg] = eci ? children(eci) : [];
  const id = algorithmOf(alg, 'contentEncryptionAlgorithm').oid;
  if (id === '1.3.14.3.2.7') return 'des-cbc';
  for (const [name, spec] of Object.entries(cipherSpecs))
    if (spec.oid === id) return name as EnvelopeCipher;
  return undefined;
}

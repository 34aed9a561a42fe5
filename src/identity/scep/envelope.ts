/**
 * The pkcsPKIEnvelope of SCEP is a plain EnvelopedData written by `encryptCms`; the server
 * answers in the cipher the client chose, so a 3DES-only client can read the reply. This file
 * only tells which cipher a request used.
 */
import { CMS_CIPHERS, type CmsCipher } from '../../crypto/cms-envelope.js';
import { algorithmOf, readContentInfo } from '../../crypto/cms-parse.js';
import { children, Tag } from '../../crypto/der.js';
import { Oid } from '../../crypto/oids.js';
import { CryptoError } from '../../errors.js';

/** Content ciphers of SCEP envelopes (the crypto core's set). */
export type EnvelopeCipher = CmsCipher;

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
  for (const spec of CMS_CIPHERS.values()) if (spec.oid === id) return spec.name;
  return undefined;
}

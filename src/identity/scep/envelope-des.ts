/**
 * Single-DES (DES-CBC) pkcsPKIEnvelopes, which Debian's scepclient 2.1.0 (micromdm/scep) sends.
 * OpenSSL 3 moved DES-CBC to its legacy provider, so it is computed as DES-EDE3-CBC with one key
 * repeated three times, which is the same cipher. Decryption only, and only when enabled: the
 * challenge inside travels under a 56-bit key.
 */
import { createDecipheriv, type X509Certificate, type KeyObject } from 'node:crypto';
import { certInfo } from '../../crypto/cert-info.js';
import { algorithmOf, readContentInfo, signerIdOf } from '../../crypto/cms-parse.js';
import { children, octetStringValue, Tag, type Tlv } from '../../crypto/der.js';
import { Oid } from '../../crypto/oids.js';
import { decryptPkcs1v15 } from '../../crypto/rsa-pkcs1.js';
import { CryptoError } from '../../errors.js';

/** OID of DES-CBC. */
export const DES_CBC_OID = '1.3.14.3.2.7';

function formatError(message: string): CryptoError {
  return new CryptoError('ERR_CMS_FORMAT', message);
}

function encryptedKeyFor(infos: Tlv, me: X509Certificate): Buffer {
  const mine = certInfo(me);
  for (const ri of children(infos)) {
    if (ri.tag !== Tag.SEQUENCE) continue;
    const [, rid, alg, key] = children(ri);
    const id = signerIdOf(rid);
    const matches =
      'subjectKeyId' in id
        ? mine.subjectKeyId?.equals(id.subjectKeyId) === true
        : mine.serial.equals(id.serial) && mine.issuer.equals(id.issuer);
    if (!matches) continue;
    if (algorithmOf(alg, 'keyEncryptionAlgorithm').oid !== Oid.rsaEncryption)
      throw new CryptoError('ERR_CMS_UNSUPPORTED', 'DES envelopes only with RSA PKCS#1 v1.5');
    if (key === undefined) throw formatError('bad KeyTransRecipientInfo');
    return octetStringValue(key);
  }
  throw new CryptoError('ERR_CMS_NO_RECIPIENT', 'no recipient matches this certificate');
}

/**
 * Decrypts a DES-CBC EnvelopedData addressed to `certificate`. Throws `ERR_CMS_DECRYPT` for a
 * wrong key or corrupt content, `ERR_CMS_NO_RECIPIENT`, `ERR_CMS_FORMAT` otherwise.
 */
export function decryptDesEnvelope(
  der: Uint8Array,
  options: { privateKey: KeyObject; certificate: X509Certificate },
): Buffer {
  const { contentType, content } = readContentInfo(der);
  if (contentType !== Oid.envelopedData || content.tag !== Tag.SEQUENCE)
    throw formatError('not an EnvelopedData');
  const parts = children(content);
  const infos = parts.find((p) => p.tag === Tag.SET);
  const eci = parts.find((p, i) => i > 0 && p.tag === Tag.SEQUENCE);
  if (infos === undefined || eci === undefined) throw formatError('bad EnvelopedData');
  const [, algTlv, data] = children(eci);
  const alg = algorithmOf(algTlv, 'contentEncryptionAlgorithm');
  if (alg.oid !== DES_CBC_OID || alg.parameters?.tag !== Tag.OCTET_STRING)
    throw formatError('not a DES-CBC envelope');
  const iv = octetStringValue(alg.parameters);
  if (iv.length !== 8 || data === undefined || (data.tag & 0xdf) !== 0x80)
    throw formatError('bad DES-CBC content');
  const cek = decryptPkcs1v15(options.privateKey, encryptedKeyFor(infos, options.certificate), 8);
  try {
    const d = createDecipheriv('des-ede3-cbc', Buffer.concat([cek, cek, cek]), iv);
    return Buffer.concat([d.update(octetStringValue(data)), d.final()]);
  } catch (cause) {
    throw new CryptoError('ERR_CMS_DECRYPT', 'the envelope could not be decrypted', { cause });
  }
}

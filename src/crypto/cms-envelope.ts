/**
 * CMS EnvelopedData (RFC 5652 §6) with key transport recipients: RSA-OAEP or RSA PKCS#1 v1.5
 * key transport, AES-CBC content encryption (and DES-EDE3-CBC for decryption only, as old SCEP
 * clients send it). PKCS#1 v1.5 decryption goes through {@link decryptPkcs1v15}: a bad padding
 * is indistinguishable from a wrong key.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from '../errors.js';
import { certInfo, type CertInfo } from './cert-info.js';
import {
  algorithmOf,
  formatError,
  oidOf,
  readContentInfo,
  signerIdOf,
  type SignerId,
} from './cms-parse.js';
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
} from './der-write.js';
import { children, octetStringValue, smallIntegerValue, Tag, type Tlv } from './der.js';
import { toPrivateKey, type CertificateInput, type PrivateKeyInput } from './keys.js';
import { digestByOid, Oid, type DigestName } from './oids.js';
import { randomPoolBytes } from './random.js';
import { decryptPkcs1v15 } from './rsa-pkcs1.js';

/** Content ciphers of EnvelopedData; DES-EDE3-CBC and AES-192 exist for SCEP clients that ask for them. */
export type CmsCipher = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-ede3-cbc';

/** Options of {@link encryptCms}. */
export interface EncryptCmsOptions {
  /** Key transport; default `rsa-pkcs1`, which Apple devices and SCEP clients expect. */
  keyTransport?: 'rsa-oaep' | 'rsa-pkcs1';
  /** Content cipher; default `aes-256-cbc`. */
  cipher?: CmsCipher;
}

/** Options of {@link decryptCms}. */
export interface DecryptCmsOptions {
  privateKey: PrivateKeyInput;
  /** The recipient certificate, to pick our RecipientInfo; without it each one is tried. */
  certificate?: CertificateInput;
}

interface CipherSpec {
  name: CmsCipher;
  oid: string;
  keyLength: number;
  ivLength: number;
}

/** Every content cipher we read and write, by name. */
export const CMS_CIPHERS: ReadonlyMap<string, CipherSpec> = new Map(
  (
    [
      ['aes-128-cbc', Oid.aes128Cbc, 16, 16],
      ['aes-192-cbc', Oid.aes192Cbc, 24, 16],
      ['aes-256-cbc', Oid.aes256Cbc, 32, 16],
      ['des-ede3-cbc', Oid.desEde3Cbc, 24, 8],
    ] as const
  ).map(([name, oid, keyLength, ivLength]) => [name, { name, oid, keyLength, ivLength }]),
);

const ciphers = new Map([...CMS_CIPHERS.values()].map((spec) => [spec.oid, spec]));

function decryptError(cause?: unknown): CryptoError {
  return new CryptoError(
    'ERR_CMS_DECRYPT',
    'the envelope could not be decrypted with this key',
    cause === undefined ? {} : { cause },
  );
}

/** Key transport AlgorithmIdentifiers, written once (copied into each envelope, never changed). */
const OAEP_ALGORITHM = algorithm(Oid.rsaesOaep, sequence());
const PKCS1_ALGORITHM = algorithm(Oid.rsaEncryption, nullValue());

function recipientInfo(
  recipient: CertInfo,
  cek: Buffer,
  transport: 'rsa-oaep' | 'rsa-pkcs1',
): Buffer {
  if (recipient.publicKey.asymmetricKeyType !== 'rsa') {
    throw new CryptoError('ERR_CMS_UNSUPPORTED', 'only RSA recipients are supported');
  }
  const oaep = transport === 'rsa-oaep';
  const encryptedKey = publicEncrypt(
    {
      key: recipient.publicKey,
      padding: oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING,
      ...(oaep ? { oaepHash: 'sha1' } : {}),
    },
    cek,
  );
  const keyAlg = oaep ? OAEP_ALGORITHM : PKCS1_ALGORITHM;
  const rid = sequence(recipient.issuer, tlv(Tag.INTEGER, recipient.serial));
  return sequence(integer(0), rid, keyAlg, octetString(encryptedKey));
}

/**
 * Encrypts `content` for one or more RSA recipient certificates and returns a DER ContentInfo
 * holding EnvelopedData. Throws `ERR_CMS_UNSUPPORTED` for non-RSA recipients, `ERR_CERT_FORMAT`
 * on unreadable certificates, `TypeError` on an empty recipient list or unknown option.
 */
export function encryptCms(
  content: Uint8Array,
  recipients: CertificateInput | CertInfo | (CertificateInput | CertInfo)[],
  options: EncryptCmsOptions = {},
): Buffer {
  const list = Array.isArray(recipients) ? recipients : [recipients];
  if (list.length === 0) throw new TypeError('encryptCms(): at least one recipient is needed');
  const transport: string = options.keyTransport ?? 'rsa-pkcs1';
  const cipherName: string = options.cipher ?? 'aes-256-cbc';
  if (transport !== 'rsa-pkcs1' && transport !== 'rsa-oaep') {
    throw new TypeError(`encryptCms(): unknown key transport ${transport}`);
  }
  const spec = CMS_CIPHERS.get(cipherName);
  if (spec === undefined) throw new TypeError(`encryptCms(): unknown cipher ${cipherName}`);
  const cek = randomPoolBytes(spec.keyLength);
  const iv = randomPoolBytes(spec.ivLength);
  const cipher = createCipheriv(cipherName, cek, iv);
  const encrypted = Buffer.concat([cipher.update(content), cipher.final()]);
  const infos = list.map((r) => recipientInfo(certInfo(r), cek, transport));
  const encryptedContentInfo = sequence(
    oid(Oid.data),
    algorithm(spec.oid, octetString(iv)),
    contextPrimitive(0, encrypted),
  );
  const enveloped = sequence(integer(0), setOf(...infos), encryptedContentInfo);
  return sequence(oid(Oid.envelopedData), tlv(0xa0, enveloped));
}

interface KeyTrans {
  rid: SignerId;
  keyAlgorithm: string;
  parameters: Tlv | undefined;
  encryptedKey: Buffer;
}

function keyTransOf(t: Tlv): KeyTrans | undefined {
  if (t.tag !== Tag.SEQUENCE) return undefined; // kari, kekri, pwri, ori: not ours
  const [version, rid, keyAlg, encryptedKey] = children(t);
  if (
    version?.tag !== Tag.INTEGER ||
    encryptedKey === undefined ||
    (encryptedKey.tag & 0xdf) !== Tag.OCTET_STRING
  ) {
    throw formatError('bad KeyTransRecipientInfo');
  }
  smallIntegerValue(version);
  const alg = algorithmOf(keyAlg, 'keyEncryptionAlgorithm');
  return {
    rid: signerIdOf(rid),
    keyAlgorithm: alg.oid,
    parameters: alg.parameters,
    encryptedKey: octetStringValue(encryptedKey),
  };
}

/** The OAEP hash from RSAES-OAEP-params (SHA-1 when absent); MGF1 must use the same hash. */
function oaepHash(parameters: Tlv | undefined): DigestName {
  let hash: DigestName = 'sha1';
  let mgfHash: DigestName = 'sha1';
  for (const field of parameters?.tag === Tag.SEQUENCE ? children(parameters) : []) {
    const [inner] = children(field);
    if (field.tag === 0xa0) hash = digestOf(algorithmOf(inner, 'OAEP hash').oid);
    else if (field.tag === 0xa1) {
      const mgf = algorithmOf(inner, 'OAEP mask generation');
      if (mgf.oid !== Oid.mgf1)
        throw new CryptoError('ERR_CMS_UNSUPPORTED', 'unsupported OAEP mask generation');
      mgfHash = digestOf(algorithmOf(mgf.parameters, 'MGF1 hash').oid);
    } else throw new CryptoError('ERR_CMS_UNSUPPORTED', 'OAEP labels are not supported');
  }
  if (hash !== mgfHash)
    throw new CryptoError('ERR_CMS_UNSUPPORTED', 'OAEP with different hash and MGF1 hash');
  return hash;
}

function digestOf(id: string): DigestName {
  const d = digestByOid.get(id);
  if (d === undefined) throw new CryptoError('ERR_CMS_UNSUPPORTED', `unsupported digest ${id}`);
  return d;
}

function unwrapKey(kt: KeyTrans, key: KeyObject, keyLength: number): Buffer {
  if (kt.keyAlgorithm === Oid.rsaEncryption)
    return decryptPkcs1v15(key, kt.encryptedKey, keyLength);
  if (kt.keyAlgorithm === Oid.rsaesOaep) {
    const hash = oaepHash(kt.parameters);
    try {
      return privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
        kt.encryptedKey,
      );
    } catch (cause) {
      throw decryptError(cause);
    }
  }
  throw new CryptoError('ERR_CMS_UNSUPPORTED', `unsupported key transport ${kt.keyAlgorithm}`);
}

interface EncryptedContent {
  cipher: { name: string; keyLength: number; ivLength: number };
  iv: Buffer;
  data: Buffer;
}

function encryptedContentOf(t: Tlv | undefined): EncryptedContent {
  if (t?.tag !== Tag.SEQUENCE) throw formatError('bad EncryptedContentInfo');
  const [type, alg, data] = children(t);
  oidOf(type, 'contentType');
  const a = algorithmOf(alg, 'contentEncryptionAlgorithm');
  const cipher = ciphers.get(a.oid);
  if (cipher === undefined)
    throw new CryptoError('ERR_CMS_UNSUPPORTED', `unsupported content cipher ${a.oid}`);
  if (a.parameters === undefined || (a.parameters.tag & 0xdf) !== Tag.OCTET_STRING)
    throw formatError('content cipher has no IV');
  const iv = octetStringValue(a.parameters);
  if (iv.length !== cipher.ivLength) throw formatError('bad IV length');
  if (data === undefined || (data.tag & 0xdf) !== 0x80)
    throw formatError('EnvelopedData has no encrypted content');
  return { cipher, iv, data: octetStringValue(data) };
}

function decryptContent(ec: EncryptedContent, cek: Buffer): Buffer {
  try {
    const d = createDecipheriv(ec.cipher.name, cek, ec.iv);
    return Buffer.concat([d.update(ec.data), d.final()]);
  } catch (cause) {
    throw decryptError(cause);
  }
}

/**
 * Decrypts a DER/BER EnvelopedData with `privateKey`. Throws `ERR_CMS_NO_RECIPIENT` when no
 * RecipientInfo names `certificate` (or there is no key transport recipient), `ERR_CMS_DECRYPT`
 * for a wrong key or corrupt envelope, `ERR_CMS_UNSUPPORTED` and `ERR_CMS_FORMAT` otherwise.
 */
export function decryptCms(der: Uint8Array, options: DecryptCmsOptions): Buffer {
  const key = toPrivateKey(options.privateKey);
  if (key.asymmetricKeyType !== 'rsa')
    throw new CryptoError('ERR_CMS_UNSUPPORTED', 'only RSA recipients are supported');
  const { contentType, content } = readContentInfo(der);
  if (contentType !== Oid.envelopedData || content.tag !== Tag.SEQUENCE)
    throw formatError('not an EnvelopedData');
  const parts = children(content);
  let i = 1;
  if (parts[i]?.tag === 0xa0) i++; // originatorInfo
  const infos = parts[i];
  if (infos?.tag !== Tag.SET) throw formatError('bad recipientInfos');
  const ec = encryptedContentOf(parts[i + 1]);
  let candidates = children(infos)
    .map(keyTransOf)
    .filter((k) => k !== undefined);
  if (options.certificate !== undefined) {
    const me = certInfo(options.certificate);
    candidates = candidates.filter((k) =>
      'subjectKeyId' in k.rid
        ? me.subjectKeyId?.equals(k.rid.subjectKeyId) === true
        : me.serial.equals(k.rid.serial) && me.issuer.equals(k.rid.issuer),
    );
  }
  if (candidates.length === 0)
    throw new CryptoError('ERR_CMS_NO_RECIPIENT', 'no recipient matches this certificate');
  let last: unknown;
  for (const kt of candidates) {
    try {
      return decryptContent(ec, unwrapKey(kt, key, ec.cipher.keyLength));
    } catch (error) {
      if (!(error instanceof CryptoError) || error.code !== 'ERR_CMS_DECRYPT') throw error;
      last = error;
    }
  }
  throw last instanceof CryptoError ? last : decryptError();
}

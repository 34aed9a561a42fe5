/**
 * The fields of a certificate the CMS code needs (issuer, serial, SKI, public key), read once
 * with our DER reader and cached: a bounded LRU keyed by the DER bytes, plus a WeakMap keyed
 * by `X509Certificate` objects. Parsing a certificate costs far more than verifying a signature,
 * so the `X509Certificate` is only built when asked for, and the public key is built from the
 * SubjectPublicKeyInfo directly ({@link publicKeyFromSpki}) when it is a plain RSA or EC key.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { bytesOf, children, contentOf, readDer, Tag, timeValue, type Tlv } from './der.js';
import { toCertificate, type CertificateInput } from './keys.js';
import { decodeOid, Oid } from './oids.js';
import { publicKeyFromSpki } from './spki-key.js';

/** What Orchard reads out of a certificate for CMS. */
export interface CertInfo {
  readonly der: Buffer;
  /**
   * The certificate as node:crypto reads it, built on first access (it can then throw
   * `ERR_CERT_FORMAT` for bytes only OpenSSL refuses).
   */
  readonly x509: X509Certificate;
  /** The subject's public key, built on first access. */
  readonly publicKey: KeyObject;
  /** Complete DER encoding of the issuer Name. */
  readonly issuer: Buffer;
  /** Complete DER encoding of the subject Name. */
  readonly subject: Buffer;
  /** Content octets of the serial number INTEGER. */
  readonly serial: Buffer;
  /** Subject key identifier, when the extension is present. */
  readonly subjectKeyId: Buffer | undefined;
  /** Complete DER encoding of the SubjectPublicKeyInfo. */
  readonly spki: Buffer;
}

/** A bounded least-recently-used map. */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly capacity: number) {}

  /** The value for `key`, refreshed as most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** Stores `value`, evicting the least recently used entry past capacity. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }
}

const byDer = new LruCache<string, CertInfo>(1024);
const byObject = new WeakMap<X509Certificate, CertInfo>();

function parseFields(der: Buffer): Omit<CertInfo, 'x509' | 'publicKey' | 'der'> {
  const cert = readDer(der);
  const [tbs, sigAlg, signature, extra] = children(cert);
  if (
    tbs?.tag !== Tag.SEQUENCE ||
    sigAlg?.tag !== Tag.SEQUENCE ||
    signature?.tag !== Tag.BIT_STRING ||
    extra !== undefined
  )
    throw new CryptoError('ERR_CERT_FORMAT', 'not a Certificate');
  const fields = children(tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [serial, alg, issuer, validity, subject, spki] = fields.slice(offset) as (
    Tlv | undefined
  )[];
  if (
    serial?.tag !== Tag.INTEGER ||
    alg?.tag !== Tag.SEQUENCE ||
    issuer?.tag !== Tag.SEQUENCE ||
    validity?.tag !== Tag.SEQUENCE ||
    subject?.tag !== Tag.SEQUENCE ||
    spki?.tag !== Tag.SEQUENCE
  ) {
    throw new CryptoError('ERR_CERT_FORMAT', 'certificate fields missing');
  }
  // The X509Certificate is built lazily: read what OpenSSL would refuse up front (the dates).
  const dates = children(validity);
  if (dates.length !== 2) throw new CryptoError('ERR_CERT_FORMAT', 'bad validity');
  for (const d of dates) timeValue(d);
  const extensions = fields.find((f) => f.tag === 0xa3);
  return {
    issuer: bytesOf(issuer),
    subject: bytesOf(subject),
    serial: contentOf(serial),
    spki: bytesOf(spki),
    subjectKeyId: extensions ? findSubjectKeyId(extensions) : undefined,
  };
}

function findSubjectKeyId(wrapper: Tlv): Buffer | undefined {
  const [list] = children(wrapper);
  if (list === undefined) return undefined;
  for (const ext of children(list)) {
    const parts = children(ext);
    const id = parts[0];
    if (id?.tag !== Tag.OID || decodeOid(contentOf(id)) !== Oid.subjectKeyIdentifier) continue;
    const value = parts[parts.length - 1];
    if (value?.tag !== Tag.OCTET_STRING) return undefined;
    const inner = readDer(contentOf(value));
    return inner.tag === Tag.OCTET_STRING ? Buffer.from(contentOf(inner)) : undefined;
  }
  return undefined;
}

/** A {@link CertInfo} whose `x509` and `publicKey` are built on first use. */
class LazyCertInfo implements CertInfo {
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly serial: Buffer;
  readonly subjectKeyId: Buffer | undefined;
  readonly spki: Buffer;
  #x509: X509Certificate | undefined;
  #publicKey: KeyObject | undefined;

  constructor(
    readonly der: Buffer,
    x509: X509Certificate | undefined,
  ) {
    this.#x509 = x509;
    let fields: ReturnType<typeof parseFields>;
    try {
      fields = parseFields(der);
    } catch (cause) {
      if (cause instanceof CryptoError && cause.code === 'ERR_CERT_FORMAT') throw cause;
      throw new CryptoError('ERR_CERT_FORMAT', 'certificate could not be read', { cause });
    }
    this.issuer = fields.issuer;
    this.subject = fields.subject;
    this.serial = fields.serial;
    this.subjectKeyId = fields.subjectKeyId;
    this.spki = fields.spki;
  }

  get x509(): X509Certificate {
    if (this.#x509 === undefined) {
      this.#x509 = toCertificate(this.der);
      byObject.set(this.#x509, this);
    }
    return this.#x509;
  }

  get publicKey(): KeyObject {
    this.#publicKey ??= publicKeyFromSpki(this.spki) ?? this.#decodedKey();
    return this.#publicKey;
  }

  /** The key as OpenSSL decodes it, for keys the fast path leaves alone. */
  #decodedKey(): KeyObject {
    const x509 = this.x509;
    try {
      return x509.publicKey;
    } catch (cause) {
      throw new CryptoError('ERR_CERT_FORMAT', 'certificate key could not be read', { cause });
    }
  }
}

/**
 * The cached {@link CertInfo} of a certificate given as DER bytes (the hot path: certificates
 * embedded in CMS). Throws `ERR_CERT_FORMAT` when the bytes are not a certificate.
 */
export function certInfoFromDer(der: Uint8Array): CertInfo {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.length);
  const key = buf.toString('latin1');
  const hit = byDer.get(key);
  if (hit) return hit;
  const info = new LazyCertInfo(Buffer.from(buf), undefined);
  byDer.set(key, info);
  return info;
}

/**
 * The {@link CertInfo} of DER bytes without the cache: neither looked up nor stored, for a
 * certificate seen once. Throws `ERR_CERT_FORMAT` when the bytes are not a certificate.
 */
export function uncachedCertInfo(der: Uint8Array): CertInfo {
  return new LazyCertInfo(Buffer.from(der), undefined);
}

/**
 * The cached {@link CertInfo} of any certificate input (one this module made is returned as it is).
 * Throws `ERR_CERT_FORMAT` on bad input.
 */
export function certInfo(input: CertificateInput | CertInfo): CertInfo {
  if (input instanceof LazyCertInfo) return input;
  if (input instanceof X509Certificate) {
    const hit = byObject.get(input);
    if (hit) return hit;
    const info = new LazyCertInfo(input.raw, input);
    byObject.set(input, info);
    return info;
  }
  if (input instanceof Uint8Array) return certInfoFromDer(input);
  // A string is PEM; anything else is refused by toCertificate with a TypeError.
  return certInfo(toCertificate(input as CertificateInput));
}

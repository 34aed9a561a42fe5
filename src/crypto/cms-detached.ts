/**
 * A fast path for the one CMS shape an Apple device's `Mdm-Signature` has: a detached SignedData
 * of id-data with one SignerInfo, SHA-256, signed attributes and the signer's certificate
 * embedded, DER or with BER indefinite lengths on the outer layers. It reads offsets in one pass
 * (no element objects, no OID strings, no copies) and checks exactly what `verifyCms` checks.
 *
 * It recognises a strict subset of what `parseSignedData` accepts: anything else (another digest,
 * more signers, attached content, CRLs, unsigned attributes, unusual encodings) makes
 * {@link readDetachedSignedData} return `undefined`, and the caller then runs the full parser and
 * verifier, which decides. So everything this path accepts, the full path accepts with the same
 * signer; its refusals use the full path's codes and messages.
 */
import { hash, verify, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { certInfoFromDer, type CertInfo } from './cert-info.js';
import { algorithm, nullValue, oid } from './der-write.js';
import { encodeOid, Oid } from './oids.js';

/** Offsets into the DER of a SignedData in the shape {@link readDetachedSignedData} reads. */
export interface DetachedSignedData {
  /** The decoded message; the offsets below point into it. */
  readonly der: Buffer;
  /** `start, end` of each embedded certificate, in order, flat: `[s0, e0, s1, e1, ...]`. */
  readonly certificates: readonly number[];
  /** Start of the issuer Name of an IssuerAndSerialNumber signer id (0 for a key id). */
  readonly issuerStart: number;
  /** End of that issuer Name (0 for a key id). */
  readonly issuerEnd: number;
  /** Start of the serial's content octets, or of the subjectKeyIdentifier's. */
  readonly idStart: number;
  /** End of those content octets. */
  readonly idEnd: number;
  /** Whether the signer id is a subjectKeyIdentifier. */
  readonly byKeyId: boolean;
  /** Start of the `[0] IMPLICIT` signed attributes (the signature covers them as a SET). */
  readonly attributesStart: number;
  /** End of the signed attributes. */
  readonly attributesEnd: number;
  /** Offset of the 32 octets of the messageDigest attribute. */
  readonly messageDigest: number;
  /** Start of the signature octets. */
  readonly signatureStart: number;
  /** End of the signature octets. */
  readonly signatureEnd: number;
  /** The key type the signature algorithm needs. */
  readonly keyType: 'rsa' | 'ec';
}

/** Octets as a plain array of small integers: cheaper to index in a loop than a Buffer. */
const octets = (b: Uint8Array): readonly number[] => Array.from(b);
const SIGNED_DATA = octets(oid(Oid.signedData));
const ID_DATA = octets(oid(Oid.data));
/** Content octets of the two attribute types checked. */
const CONTENT_TYPE = octets(encodeOid(Oid.contentType).subarray(2));
const MESSAGE_DIGEST = octets(encodeOid(Oid.messageDigest).subarray(2));
/** What the two share (PKCS #9 attribute types 1.2.840.113549.1.9.3 and .4), and the last octet of each. */
const PKCS9_PREFIX = CONTENT_TYPE.slice(0, -1);
const CONTENT_TYPE_LAST = CONTENT_TYPE[CONTENT_TYPE.length - 1] as number;
const MESSAGE_DIGEST_LAST = MESSAGE_DIGEST[MESSAGE_DIGEST.length - 1] as number;
const SHA256_LENGTH = 32;
/** Longest OID content `decodeOid` reads. */
const MAX_OID_LENGTH = 64;

/** An AlgorithmIdentifier without parameters and with NULL ones. */
const bothForms = (dotted: string): (readonly number[])[] => [
  octets(algorithm(dotted)),
  octets(algorithm(dotted, nullValue())),
];
const SHA256 = bothForms(Oid.sha256);
/** Signature algorithms that sign with SHA-256 when the digest algorithm is SHA-256. */
const SIGNATURE_ALGORITHMS: readonly (readonly [readonly number[], 'rsa' | 'ec'])[] = [
  ...bothForms(Oid.rsaEncryption).map((a) => [a, 'rsa'] as const),
  ...bothForms(Oid.sha256WithRsa).map((a) => [a, 'rsa'] as const),
  ...bothForms(Oid.ecdsaWithSha256).map((a) => [a, 'ec'] as const),
  ...bothForms(Oid.ecPublicKey).map((a) => [a, 'ec'] as const),
];
const SIGNATURE_ENCODINGS = SIGNATURE_ALGORITHMS.map(([a]) => a);

/** Whether `buf` holds `bytes` at `pos`, before `limit`. */
function bytesAt(buf: Uint8Array, pos: number, limit: number, bytes: readonly number[]): boolean {
  if (pos + bytes.length > limit) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[pos + i] !== bytes[i]) return false;
  return true;
}

/**
 * A cursor over one buffer: {@link Reader.read} decodes one element header the way `readTlv`
 * does, and {@link Reader.close} checks a container's end. Single-octet tags only; lengths up to
 * 3 octets; indefinite lengths on constructed elements. Anything else reads as `false`. It also
 * holds what was read, so a message costs one object (and the certificates' offsets).
 */
class Reader implements DetachedSignedData {
  /** Offset of the identifier octet of the last element read. */
  start = 0;
  /** Offset of its first content octet. */
  contentStart = 0;
  /** Offset just past its content, or -1 for an indefinite length. */
  contentEnd = 0;
  readonly certificates: number[] = [];
  issuerStart = 0;
  issuerEnd = 0;
  idStart = 0;
  idEnd = 0;
  byKeyId = false;
  attributesStart = 0;
  attributesEnd = 0;
  messageDigest = 0;
  signatureStart = 0;
  signatureEnd = 0;
  keyType: 'rsa' | 'ec' = 'rsa';
  /** contentType attributes seen. */
  contentTypes = 0;
  /** messageDigest attributes seen. */
  messageDigests = 0;

  constructor(readonly der: Buffer) {}

  /** Reads the header at `pos` (ending before `limit`); `false` when it is not a form read here. */
  read(pos: number, limit: number, tag: number): boolean {
    const buf = this.der;
    if (pos + 2 > limit || buf[pos] !== tag || (tag & 0x1f) === 0x1f) return false;
    let length = buf[pos + 1] as number;
    let p = pos + 2;
    this.start = pos;
    if (length === 0x80) {
      this.contentStart = p;
      this.contentEnd = -1;
      return (tag & 0x20) !== 0;
    }
    if (length > 0x80) {
      const count = length & 0x7f;
      if (count > 3 || p + count > limit) return false;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (buf[p++] as number);
    }
    this.contentStart = p;
    this.contentEnd = p + length;
    return this.contentEnd <= limit;
  }

  /** Like {@link read} with any single-octet tag, definite lengths only. */
  readDefinite(pos: number, limit: number): boolean {
    return this.read(pos, limit, this.der[pos] as number) && this.contentEnd >= 0;
  }

  /** Where the last element's content may extend to: its end, or `limit` when indefinite. */
  innerLimit(limit: number): number {
    return this.contentEnd < 0 ? limit : this.contentEnd;
  }

  /**
   * The offset past a container whose content reads up to `pos`: its `end` when definite (and
   * `pos` is there), past the end-of-contents octets when indefinite (`end` -1); -1 otherwise.
   */
  close(pos: number, end: number, limit: number): number {
    if (end >= 0) return pos === end ? end : -1;
    const buf = this.der;
    return pos + 2 <= limit && buf[pos] === 0 && buf[pos + 1] === 0 ? pos + 2 : -1;
  }
}

/** Reads a SignerIdentifier at `pos`; returns the offset past it, or -1. */
function readSignerId(r: Reader, pos: number, limit: number): number {
  if (r.read(pos, limit, 0x80)) {
    r.byKeyId = true;
    r.idStart = r.contentStart;
    r.idEnd = r.contentEnd;
    return r.contentEnd;
  }
  if (!r.read(pos, limit, 0x30)) return -1;
  const end = r.contentEnd;
  const inner = r.innerLimit(limit);
  if (!r.read(r.contentStart, inner, 0x30) || r.contentEnd < 0) return -1;
  r.issuerStart = r.start;
  r.issuerEnd = r.contentEnd;
  if (!r.read(r.contentEnd, inner, 0x02)) return -1;
  r.idStart = r.contentStart;
  r.idEnd = r.contentEnd;
  return r.close(r.contentEnd, end, limit);
}

/** Reads one of `choices` (whole encodings) at `pos`; returns its index, or -1. */
function whichOf(
  buf: Uint8Array,
  pos: number,
  limit: number,
  choices: readonly (readonly number[])[],
): number {
  for (let i = 0; i < choices.length; i++)
    if (bytesAt(buf, pos, limit, choices[i] as readonly number[])) return i;
  return -1;
}

/** Whether the content octets `[start, end)` of `buf` are exactly `oid`'s. */
function isOid(buf: Uint8Array, start: number, end: number, oid: readonly number[]): boolean {
  return end - start === oid.length && bytesAt(buf, start, end, oid);
}

/** Reads the values of a contentType attribute at `pos`: exactly one, `id-data`. */
function readContentTypeValue(r: Reader, pos: number, end: number): boolean {
  return pos + ID_DATA.length === end && bytesAt(r.der, pos, end, ID_DATA);
}

/** Reads the values of a messageDigest attribute at `pos`: exactly one 32-octet OCTET STRING. */
function readDigestValue(r: Reader, pos: number, end: number): boolean {
  if (!r.read(pos, end, 0x04) || r.contentEnd !== end) return false;
  r.messageDigest = r.contentStart;
  return end - r.contentStart === SHA256_LENGTH;
}

/** Reads values that are not checked: any elements, definite lengths. */
function readOtherValues(r: Reader, pos: number, end: number): boolean {
  for (let p = pos; p < end; p = r.contentEnd) if (!r.readDefinite(p, end)) return false;
  return true;
}

/**
 * Reads one attribute at `pos` (definite lengths), counting the contentType and messageDigest
 * ones; returns the offset past it, or -1.
 */
function readAttribute(r: Reader, pos: number, limit: number): number {
  if (!r.read(pos, limit, 0x30) || r.contentEnd < 0) return -1;
  const end = r.contentEnd;
  if (!r.read(r.contentStart, end, 0x06)) return -1;
  const typeStart = r.contentStart;
  const typeEnd = r.contentEnd;
  if (!r.read(typeEnd, end, 0x31) || r.contentEnd !== end) return -1;
  // contentType and messageDigest differ only in their last octet: one comparison for both.
  const kind = isOid(r.der, typeStart, typeEnd - 1, PKCS9_PREFIX)
    ? (r.der[typeEnd - 1] as number)
    : -1;
  let ok: boolean;
  if (kind === CONTENT_TYPE_LAST) {
    r.contentTypes++;
    ok = readContentTypeValue(r, r.contentStart, end);
  } else if (kind === MESSAGE_DIGEST_LAST) {
    r.messageDigests++;
    ok = readDigestValue(r, r.contentStart, end);
  } else {
    ok = validOid(r.der, typeStart, typeEnd) && readOtherValues(r, r.contentStart, end);
  }
  return ok ? end : -1;
}

/**
 * Whether `decodeOid` (so `parseSignedData`) reads the content octets `[start, end)` of `buf` as
 * an OID: 1 to 64 octets, the last one ending an arc. Cheaper than decoding the text.
 */
function validOid(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  return length >= 1 && length <= MAX_OID_LENGTH && ((buf[end - 1] as number) & 0x80) === 0;
}

/** Reads the `[0]` signed attributes at `pos`; returns the offset past them, or -1. */
function readSignedAttributes(r: Reader, pos: number, limit: number): number {
  if (!r.read(pos, limit, 0xa0) || r.contentEnd < 0) return -1;
  const end = r.contentEnd;
  r.attributesStart = pos;
  r.attributesEnd = end;
  for (let p = r.contentStart; p < end;) {
    p = readAttribute(r, p, end);
    if (p < 0) return -1;
  }
  return r.contentTypes === 1 && r.messageDigests === 1 ? end : -1;
}

/** Reads the SignerInfo at `pos`; returns the offset past it, or -1. */
function readSignerInfo(r: Reader, pos: number, limit: number): number {
  if (!r.read(pos, limit, 0x30)) return -1;
  const end = r.contentEnd;
  const inner = r.innerLimit(limit);
  if (!r.read(r.contentStart, inner, 0x02) || r.contentEnd - r.contentStart !== 1) return -1;
  let p = readSignerId(r, r.contentEnd, inner);
  if (p < 0) return -1;
  const digest = whichOf(r.der, p, inner, SHA256);
  if (digest < 0) return -1;
  p = readSignedAttributes(r, p + (SHA256[digest] as readonly number[]).length, inner);
  if (p < 0) return -1;
  const chosen = SIGNATURE_ALGORITHMS[whichOf(r.der, p, inner, SIGNATURE_ENCODINGS)];
  if (chosen === undefined) return -1;
  r.keyType = chosen[1];
  if (!r.read(p + chosen[0].length, inner, 0x04) || r.contentEnd < 0) return -1;
  r.signatureStart = r.contentStart;
  r.signatureEnd = r.contentEnd;
  return r.close(r.contentEnd, end, limit);
}

/** Reads the optional `[0]` certificates at `pos`; returns the offset past them, or -1. */
function readCertificates(r: Reader, pos: number, limit: number): number {
  if (r.der[pos] !== 0xa0) return pos;
  if (!r.read(pos, limit, 0xa0)) return -1;
  const end = r.contentEnd;
  const inner = r.innerLimit(limit);
  const buf = r.der;
  let p = r.contentStart;
  while (end < 0 ? buf[p] !== 0 || buf[p + 1] !== 0 : p < end) {
    if (!r.read(p, inner, 0x30) || r.contentEnd < 0) return -1;
    r.certificates.push(r.start, r.contentEnd);
    p = r.contentEnd;
  }
  return r.close(p, end, limit);
}

/** Reads `SEQUENCE { OID id-data }` (detached: no eContent) at `pos`; the offset past it, or -1. */
function readDetachedContentInfo(r: Reader, pos: number, limit: number): number {
  if (!r.read(pos, limit, 0x30)) return -1;
  const end = r.contentEnd;
  if (!bytesAt(r.der, r.contentStart, r.innerLimit(limit), ID_DATA)) return -1;
  return r.close(r.contentStart + ID_DATA.length, end, limit);
}

/** Reads the SignedData content at `pos`; returns the offset past it, or -1. */
function readSignedDataBody(r: Reader, pos: number, limit: number): number {
  if (!r.read(pos, limit, 0x30)) return -1;
  const end = r.contentEnd;
  const inner = r.innerLimit(limit);
  if (!r.read(r.contentStart, inner, 0x02) || r.contentEnd - r.contentStart !== 1) return -1;
  let p = r.contentEnd;
  if (!r.read(p, inner, 0x31) || r.contentEnd < 0) return -1;
  const digests = whichOf(r.der, r.contentStart, r.contentEnd, SHA256);
  if (
    digests < 0 ||
    r.contentStart + (SHA256[digests] as readonly number[]).length !== r.contentEnd
  )
    return -1;
  p = readDetachedContentInfo(r, r.contentEnd, inner);
  if (p < 0) return -1;
  p = readCertificates(r, p, inner);
  if (p < 0 || !r.read(p, inner, 0x31)) return -1;
  const setEnd = r.contentEnd;
  const setLimit = r.innerLimit(inner);
  p = readSignerInfo(r, r.contentStart, setLimit);
  if (p < 0) return -1;
  p = r.close(p, setEnd, inner);
  return p < 0 ? -1 : r.close(p, end, limit);
}

/**
 * Reads a ContentInfo holding a detached SignedData in the shape devices send (see the module
 * comment) as offsets, or returns `undefined` for anything else, malformed input included: the
 * caller then runs `parseSignedData`/`verifyCms`, which decide. Never throws.
 */
export function readDetachedSignedData(der: Buffer): DetachedSignedData | undefined {
  const r = new Reader(der);
  const n = der.length;
  if (!r.read(0, n, 0x30)) return undefined;
  const end = r.contentEnd;
  const inner = r.innerLimit(n);
  if (!bytesAt(der, r.contentStart, inner, SIGNED_DATA)) return undefined;
  if (!r.read(r.contentStart + SIGNED_DATA.length, inner, 0xa0)) return undefined;
  const wrapperEnd = r.contentEnd;
  let p = readSignedDataBody(r, r.contentStart, r.innerLimit(inner));
  if (p >= 0) p = r.close(p, wrapperEnd, inner);
  if (p >= 0) p = r.close(p, end, n);
  return p === n ? r : undefined;
}

/**
 * Embedded certificates seen, by {@link fingerprint}, oldest first; a hit changes nothing (no
 * reordering), so a fleet within the bound churns nothing. Each entry keeps the parsed fields,
 * and once asked for the `X509Certificate` and public key, about 5 KB in all: what lets the
 * identity path verify a device's chain once. Past the bound every check-in of a fleet larger
 * than it misses, parses and builds those again (measured in process with 5,000 devices in turn:
 * 234 µs a signature check at 1,024 entries against 33 µs within the bound, and the native
 * memory of the certificates built per miss raised resident memory by 200 MB).
 */
const recent = new Map<number, CertInfo>();
/** Default of {@link setEmbeddedCertificateCacheSize}: enough for most fleets, about 80 MB full. */
export const EMBEDDED_CERTIFICATE_CACHE_DEFAULT = 16_384;
let recentMax = EMBEDDED_CERTIFICATE_CACHE_DEFAULT;

/**
 * Sets how many embedded certificates (device identities) are kept parsed, process-wide; the
 * daemon's `--identity-cache`. Should exceed the number of devices checking in; entries past a
 * smaller bound go, oldest first. Throws TypeError unless `entries` is a positive integer.
 */
export function setEmbeddedCertificateCacheSize(entries: number): void {
  if (!Number.isInteger(entries) || entries <= 0)
    throw new TypeError('the certificate cache size must be a positive integer');
  recentMax = entries;
  for (const key of recent.keys()) {
    if (recent.size <= recentMax) break;
    recent.delete(key);
  }
}

/** How many embedded certificates are kept now (for tests and metrics). */
export function embeddedCertificateCacheCount(): number {
  return recent.size;
}

/** 32 bits of a certificate: its length and last octets (its issuer's signature). */
function fingerprint(der: Buffer, start: number, end: number): number {
  return (der.readUInt32BE(end - 4) ^ (end - start)) >>> 0;
}

/**
 * The {@link CertInfo} of the embedded certificate at `[start, end)` of `der`: a hit in a small
 * map keyed by a fingerprint and confirmed by comparing all the bytes, else `certInfoFromDer`.
 * Throws `ERR_CERT_FORMAT` as `certInfoFromDer` does.
 */
function embeddedCertificate(der: Buffer, start: number, end: number): CertInfo {
  const key = end - start >= 4 ? fingerprint(der, start, end) : -1;
  const hit = recent.get(key);
  if (hit !== undefined && hit.der.length === end - start && hit.der.compare(der, start, end) === 0)
    return hit;
  const info = certInfoFromDer(der.subarray(start, end));
  if (recent.size >= recentMax) recent.delete(recent.keys().next().value as number);
  recent.set(key, info);
  return info;
}

/**
 * The {@link CertInfo}s of a message's embedded certificates, in order. Throws `ERR_CERT_FORMAT`
 * when one is not a certificate, as `verifyCms` does.
 */
export function detachedCertificates(signed: DetachedSignedData): CertInfo[] {
  const out: CertInfo[] = [];
  const { der, certificates } = signed;
  for (let i = 0; i < certificates.length; i += 2)
    out.push(embeddedCertificate(der, certificates[i] as number, certificates[i + 1] as number));
  return out;
}

/** Whether `bytes` are the octets `[start, end)` of `der` (a loop: the fields compared are short). */
function sameBytes(
  bytes: Uint8Array | undefined,
  der: Buffer,
  start: number,
  end: number,
): boolean {
  if (bytes?.length !== end - start) return false;
  let diff = 0;
  for (let i = 0; i < bytes.length; i++) diff |= (bytes[i] as number) ^ (der[start + i] as number);
  return diff === 0;
}

/** Whether the SignerInfo names `cert` (issuer and serial, or subjectKeyIdentifier). */
function names(signed: DetachedSignedData, cert: CertInfo): boolean {
  const { der, idStart, idEnd } = signed;
  if (signed.byKeyId) return sameBytes(cert.subjectKeyId, der, idStart, idEnd);
  return (
    sameBytes(cert.serial, der, idStart, idEnd) &&
    sameBytes(cert.issuer, der, signed.issuerStart, signed.issuerEnd)
  );
}

/** The first of `pool` that the SignerInfo names, as `verifyCms` finds it; `undefined` if none. */
export function findDetachedSigner(
  signed: DetachedSignedData,
  pool: readonly CertInfo[],
): CertInfo | undefined {
  for (const c of pool) if (names(signed, c)) return c;
  return undefined;
}

/**
 * The signer as `verifyCms` finds it in the embedded certificates then `extra`, without building
 * the pool: every embedded certificate is still read, so one that is not a certificate throws
 * `ERR_CERT_FORMAT` as in {@link detachedCertificates}. `undefined` when none is named.
 */
export function findEmbeddedSigner(
  signed: DetachedSignedData,
  extra: readonly CertInfo[],
): CertInfo | undefined {
  const { der, certificates } = signed;
  let found: CertInfo | undefined;
  for (let i = 0; i < certificates.length; i += 2) {
    const c = embeddedCertificate(der, certificates[i] as number, certificates[i + 1] as number);
    if (found === undefined && names(signed, c)) found = c;
  }
  return found ?? findDetachedSigner(signed, extra);
}

/** Keys OpenSSL decoded itself, by signer certificate (see {@link rememberKey}). */
const decodedKeys = new WeakMap<CertInfo, KeyObject>();

/** The key to verify `signer`'s signatures with: the remembered one, else `publicKey`. */
function verificationKey(signer: CertInfo): KeyObject {
  return decodedKeys.get(signer) ?? signer.publicKey;
}

/**
 * After a first good RSA signature, remembers the X509Certificate's key for the signer (the
 * caller builds that certificate anyway): OpenSSL decoded it itself, so each later verification
 * does less work than with the key built from a JWK (a legacy key handed to the provider on every
 * use). Only then: a bad signature must not cost a certificate parse.
 */
function rememberKey(signer: CertInfo, keyType: 'rsa' | 'ec'): void {
  if (keyType !== 'rsa' || decodedKeys.has(signer)) return;
  try {
    const key = signer.x509.publicKey;
    if (key.asymmetricKeyType === 'rsa') decodedKeys.set(signer, key);
  } catch {
    // the caller reads the certificate next and reports it
  }
}

function signatureError(message: string): CryptoError {
  return new CryptoError('ERR_CMS_SIGNATURE', message);
}

/**
 * Whether the 32 octets at `at` of `der` are the SHA-256 of `content` (no early exit). The digest
 * is taken as `binary` (latin1) text, one character per octet: a third of the cost of a new Buffer.
 */
function digestMatches(der: Buffer, at: number, content: Uint8Array): boolean {
  const digest = hash('sha256', content, 'binary');
  let diff = digest.length ^ SHA256_LENGTH;
  for (let i = 0; i < SHA256_LENGTH; i++) diff |= (der[at + i] as number) ^ digest.charCodeAt(i);
  return diff === 0;
}

/**
 * Verifies the signature over the signed attributes re-tagged as a SET, in place and restored.
 * The two views are made on the ArrayBuffer directly: `subarray` goes through the species
 * constructor and reads `buffer` once per view.
 */
function signatureVerifies(signed: DetachedSignedData, key: KeyObject): boolean {
  const { der, attributesStart: s, signatureStart } = signed;
  const memory = der.buffer;
  const offset = der.byteOffset;
  der[s] = 0x31;
  try {
    return verify(
      'sha256',
      new Uint8Array(memory, offset + s, signed.attributesEnd - s),
      key,
      new Uint8Array(memory, offset + signatureStart, signed.signatureEnd - signatureStart),
    );
  } catch {
    return false; // malformed signature encodings (e.g. bad ECDSA DER) are just bad signatures
  } finally {
    der[s] = 0xa0;
  }
}

/**
 * Checks that `signer`'s key made the signature and that the messageDigest attribute is the
 * SHA-256 of `content` (the content type was checked while reading). Throws `ERR_CMS_SIGNATURE`
 * with `verifyCms`'s messages when the key type, the digest or the signature does not match.
 */
export function verifyDetachedSignedData(
  signed: DetachedSignedData,
  signer: CertInfo,
  content: Uint8Array,
): void {
  const key = verificationKey(signer);
  if (key.asymmetricKeyType !== signed.keyType)
    throw signatureError('signature algorithm does not fit the key');
  if (!digestMatches(signed.der, signed.messageDigest, content))
    throw signatureError('content does not match the messageDigest attribute');
  if (!signatureVerifies(signed, key)) throw signatureError('signature does not verify');
  rememberKey(signer, signed.keyType);
}

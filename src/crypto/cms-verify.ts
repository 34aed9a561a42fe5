/**
 * CMS SignedData verification (RFC 5652 §5.6): SHA-1/SHA-2 digests, RSA PKCS#1 v1.5 and ECDSA,
 * with or without signed attributes, attached or detached content, BER indefinite lengths,
 * optional chain verification to given roots. Certificates are parsed once and cached.
 */
import { createHash, timingSafeEqual, verify, type X509Certificate } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { certInfo, certInfoFromDer, uncachedCertInfo, type CertInfo } from './cert-info.js';
import { checkValidity, verifyCertificateChain } from './chain.js';
import {
  parseSignedData,
  type ParsedSignedData,
  type ParsedSignerInfo,
  type SignerId,
} from './cms-parse.js';
import type { CmsAttribute } from './cms-sign.js';
import { contentOf, octetStringValue, readDer, Tag } from './der.js';
import type { CertificateInput } from './keys.js';
import { decodeOid, digestByOid, Oid, signatureAlgorithms, type DigestName } from './oids.js';

/** Options of {@link verifyCms}. */
export interface VerifyCmsOptions {
  /** The signed content, for a detached signature. */
  content?: Uint8Array;
  /** Trust anchors; when given, the signer must chain to one of them. */
  roots?: CertificateInput[];
  /** Extra untrusted certificates for path building (embedded ones are always used). */
  intermediates?: CertificateInput[];
  /** Time for validity checks; default now. Given without `roots`, the signer's dates are still checked. */
  at?: Date;
  /**
   * Keep the embedded certificates in the process-wide certificate cache (default true): right for
   * certificates that come back (a device's identity on every check-in), wasteful for one-off
   * ones (a SCEP request's transient certificate), which would only push reused entries out and
   * keep about 2 KB each alive for the next 1,024 messages.
   */
  cacheCertificates?: boolean;
}

/** The result of a successful {@link verifyCms}. */
export interface CmsVerification {
  /** The signed content (embedded, or the detached content given). */
  content: Buffer;
  /** The signer's certificate (built on first access). */
  signer: X509Certificate;
  /** The signer's fields and key, read without building an `X509Certificate`. */
  signerInfo: CertInfo;
  /** Every certificate embedded in the message (built on first access). */
  certificates: X509Certificate[];
  /** The signer's signed attributes (empty when it signed the content directly). */
  signedAttributes: CmsAttribute[];
  /** Digest name, e.g. `sha256`. */
  digestAlgorithm: string;
  /** The verified chain, leaf first, when `roots` were given. */
  chain?: X509Certificate[];
  /** The eContentType OID. */
  contentType: string;
}

function signatureError(message: string): CryptoError {
  return new CryptoError('ERR_CMS_SIGNATURE', message);
}

function matches(info: CertInfo, sid: SignerId): boolean {
  if ('subjectKeyId' in sid) return info.subjectKeyId?.equals(sid.subjectKeyId) === true;
  return info.serial.equals(sid.serial) && info.issuer.equals(sid.issuer);
}

function attributeValue(attrs: readonly CmsAttribute[], oid: string): Uint8Array {
  const found = attrs.filter((a) => a.oid === oid);
  const value = found[0]?.values[0];
  if (found.length !== 1 || found[0]?.values.length !== 1 || value === undefined) {
    throw signatureError(`signed attribute ${oid} must appear exactly once with one value`);
  }
  return value;
}

function checkSignedAttributes(si: ParsedSignerInfo, contentType: string, digest: Buffer): void {
  const typeValue = readDer(attributeValue(si.signedAttributes, Oid.contentType));
  if (typeValue.tag !== Tag.OID || decodeOid(contentOf(typeValue)) !== contentType) {
    throw signatureError('contentType attribute does not match the content');
  }
  const digestValue = readDer(attributeValue(si.signedAttributes, Oid.messageDigest));
  if (digestValue.tag !== Tag.OCTET_STRING) throw signatureError('bad messageDigest attribute');
  const expected = octetStringValue(digestValue);
  if (expected.length !== digest.length || !timingSafeEqual(expected, digest)) {
    throw signatureError('content does not match the messageDigest attribute');
  }
}

function verifySigner(
  si: ParsedSignerInfo,
  signer: CertInfo,
  contentType: string,
  content: Buffer,
): DigestName {
  const digest = digestByOid.get(si.digestAlgorithm);
  const sigAlg = signatureAlgorithms.get(si.signatureAlgorithm);
  if (digest === undefined || sigAlg === undefined) {
    throw new CryptoError('ERR_CMS_UNSUPPORTED', 'unsupported digest or signature algorithm', {
      detail: { digest: si.digestAlgorithm, signature: si.signatureAlgorithm },
    });
  }
  if (signer.publicKey.asymmetricKeyType !== sigAlg.key)
    throw signatureError('signature algorithm does not fit the key');
  let signed: Buffer = content;
  if (si.signedAttributesDer !== undefined) {
    checkSignedAttributes(si, contentType, createHash(digest).update(content).digest());
    signed = si.signedAttributesDer;
  }
  if (!safeVerify(sigAlg.digest ?? digest, signed, signer, si.signature)) {
    throw signatureError('signature does not verify');
  }
  return digest;
}

function safeVerify(
  digest: DigestName,
  data: Buffer,
  signer: CertInfo,
  signature: Buffer,
): boolean {
  try {
    return verify(digest, data, signer.publicKey, signature);
  } catch {
    return false; // malformed signature encodings (e.g. bad ECDSA DER) are just bad signatures
  }
}

function findSigner(sid: SignerId, certs: readonly CertInfo[]): CertInfo {
  const found = certs.find((c) => matches(c, sid));
  if (found === undefined)
    throw new CryptoError('ERR_CMS_SIGNATURE', 'signer certificate not found in the message');
  return found;
}

function contentOfMessage(parsed: ParsedSignedData, detached: Uint8Array | undefined): Buffer {
  if (detached !== undefined) {
    const given = Buffer.from(detached.buffer, detached.byteOffset, detached.length);
    if (parsed.content !== undefined && !parsed.content.equals(given)) {
      throw signatureError('embedded content differs from the content given');
    }
    return given;
  }
  if (parsed.content === undefined)
    throw new TypeError('verifyCms(): detached signature needs options.content');
  return parsed.content;
}

/**
 * A {@link CmsVerification} whose `X509Certificate`s are built on first read: OpenSSL 3 decodes
 * each certificate's key, about 140 µs per certificate (a class, so creating one stays cheap).
 */
class Verification implements CmsVerification {
  chain?: X509Certificate[];
  readonly #certInfos: readonly CertInfo[];
  #certificates: X509Certificate[] | undefined;

  constructor(
    readonly content: Buffer,
    readonly signerInfo: CertInfo,
    certInfos: readonly CertInfo[],
    readonly signedAttributes: CmsAttribute[],
    readonly digestAlgorithm: string,
    readonly contentType: string,
  ) {
    this.#certInfos = certInfos;
  }

  get signer(): X509Certificate {
    return this.signerInfo.x509;
  }

  get certificates(): X509Certificate[] {
    this.#certificates ??= this.#certInfos.map((c) => c.x509);
    return this.#certificates;
  }
}

/**
 * Verifies every SignerInfo of a DER/BER SignedData and returns the content and the (first)
 * signer's certificate. Throws `ERR_CMS_FORMAT`/`ERR_DER` on malformed input, `ERR_CMS_SIGNATURE`
 * when a digest or signature fails, `ERR_CMS_UNSUPPORTED` for unknown algorithms, and the
 * `ERR_CERT_*` codes of {@link verifyCertificateChain} when `roots` are given.
 */
export function verifyCms(der: Uint8Array, options: VerifyCmsOptions = {}): CmsVerification {
  return verifyParsedCms(parseSignedData(der), options);
}

/**
 * {@link verifyCms} of a SignedData already read with `parseSignedData`, for callers that read
 * its attributes first (SCEP), so the message is parsed once. Throws what `verifyCms` throws.
 */
export function verifyParsedCms(
  parsed: ParsedSignedData,
  options: VerifyCmsOptions = {},
): CmsVerification {
  if (parsed.signerInfos.length === 0)
    throw new CryptoError('ERR_CMS_FORMAT', 'SignedData has no signers');
  const content = contentOfMessage(parsed, options.content);
  const read = options.cacheCertificates === false ? uncachedCertInfo : certInfoFromDer;
  const certs = parsed.certificates.map((c) => read(c));
  const extra = (options.intermediates ?? []).map((c) => certInfo(c));
  let first: { signer: CertInfo; si: ParsedSignerInfo; digest: DigestName } | undefined;
  for (const si of parsed.signerInfos) {
    const signer = findSigner(si.sid, [...certs, ...extra]);
    const digest = verifySigner(si, signer, parsed.contentType, content);
    first ??= { signer, si, digest };
  }
  if (first === undefined) throw new CryptoError('ERR_CMS_FORMAT', 'SignedData has no signers');
  const result = new Verification(
    content,
    first.signer,
    certs,
    first.si.signedAttributes,
    first.digest,
    parsed.contentType,
  );
  if (options.roots !== undefined) {
    const intermediates = [...certs, ...extra].map((c) => c.x509);
    const chainOptions =
      options.at === undefined
        ? { roots: options.roots, intermediates }
        : { roots: options.roots, intermediates, at: options.at };
    result.chain = verifyCertificateChain(first.signer.x509, chainOptions);
  } else if (options.at !== undefined) {
    checkValidity(first.signer.x509, options.at);
  }
  return result;
}

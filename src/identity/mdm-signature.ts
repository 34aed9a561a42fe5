/**
 * The `Mdm-Signature` header: a base64 CMS SignedData, detached, over the exact HTTP body,
 * signed by the device identity key with its certificate embedded. Devices set it when the
 * enrollment profile has `SignMessage: true`, so a TLS-terminating proxy need not forward the
 * client certificate. See Apple's MDM payload (`SignMessage`) documentation.
 */
import type { X509Certificate } from 'node:crypto';
import { certInfo, certInfoFromDer, type CertInfo } from '../crypto/cert-info.js';
import {
  checkValidity,
  verifyCertificateChain,
  verifyCertificateChainOnce,
} from '../crypto/chain.js';
import {
  detachedCertificates,
  findEmbeddedSigner,
  readDetachedSignedData,
  verifyDetachedSignedData,
  type DetachedSignedData,
} from '../crypto/cms-detached.js';
import { parseSignedData, type ParsedSignedData, type SignerId } from '../crypto/cms-parse.js';
import { verifyParsedCms } from '../crypto/cms-verify.js';
import type { CertificateInput } from '../crypto/keys.js';
import { CryptoError } from '../errors.js';

/** Options of {@link verifyMdmSignature}. */
export interface MdmSignatureOptions {
  /** Trust anchors; when given, the signer must chain to one of them (strongly advised). */
  roots?: CertificateInput[];
  /** Extra untrusted certificates for path building. */
  intermediates?: readonly CertificateInput[];
  /** Time for validity checks; default now. */
  at?: Date;
}

/** Upper bound of a decoded header; a device's signature with its certificate is about 2-4 KB. */
const MAX_HEADER_LENGTH = 64 * 1024;
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}$/;

function notBase64(): CryptoError {
  return new CryptoError('ERR_CMS_FORMAT', 'Mdm-Signature is not base64');
}

/**
 * Where headers are decoded: allocating a Buffer per header costs more than decoding it. Only the
 * fast path reads these bytes (synchronously, keeping copies only); the full path gets its own copy.
 */
const scratch = Buffer.allocUnsafeSlow(12 * 1024);
/** Longest header text decoded in {@link scratch}: 4 characters make at most 3 octets. */
const SCRATCH_TEXT = (scratch.length / 3) * 4;

/**
 * Whether `text`, which node decoded to `decoded` octets, is plain base64 (what devices send),
 * told without a second pass over it: ASCII only (node would read the low octet of a wider
 * character), a multiple of four characters with at most two `=` at the end, no `-` or `_` (node
 * decodes base64url too), and as many octets as that length promises. Node skips any other
 * character, and each one skipped leaves fewer octets, so the count proves the rest are base64.
 */
function plainBase64(text: string, decoded: number): boolean {
  const n = text.length;
  if ((n & 3) !== 0) return false;
  const padding = text.charCodeAt(n - 1) !== 0x3d ? 0 : text.charCodeAt(n - 2) !== 0x3d ? 1 : 2;
  return (
    decoded === (n >> 2) * 3 - padding &&
    text.indexOf('-') < 0 &&
    text.indexOf('_') < 0 &&
    Buffer.byteLength(text, 'utf8') === n
  );
}

/**
 * The bytes of a header: in {@link scratch} (valid until the next call) when they fit, else new.
 * Throws `ERR_CMS_FORMAT` when the header is empty, too long or not base64.
 */
function decodeHeader(header: string): Buffer {
  const text = header.trim();
  if (text.length === 0 || text.length > MAX_HEADER_LENGTH) throw notBase64();
  const fits = text.length <= SCRATCH_TEXT;
  const der = fits
    ? scratch.subarray(0, scratch.write(text, 'base64'))
    : Buffer.from(text, 'base64');
  // Anything else (line breaks, no padding) is tested against the pattern.
  if (!plainBase64(text, der.length) && !BASE64.test(text)) throw notBase64();
  return der;
}

function certInfoOf(input: CertificateInput): CertInfo {
  return certInfo(input);
}

function matches(info: CertInfo, sid: SignerId): boolean {
  if ('subjectKeyId' in sid) return info.subjectKeyId?.equals(sid.subjectKeyId) === true;
  return info.serial.equals(sid.serial) && info.issuer.equals(sid.issuer);
}

/** The first signer's certificate, as `verifyCms` finds it; `undefined` when it is absent. */
function firstSigner(parsed: ParsedSignedData, pool: readonly CertInfo[]): CertInfo | undefined {
  const sid = parsed.signerInfos[0]?.sid;
  return sid === undefined ? undefined : pool.find((c) => matches(c, sid));
}

/** Checks the first signer's chain to `roots`, before anything is hashed. */
function checkSignerChain(
  parsed: ParsedSignedData,
  extra: readonly CertInfo[],
  options: MdmSignatureOptions & { roots: CertificateInput[] },
): void {
  const pool = [...parsed.certificates.map((der) => certInfoFromDer(der)), ...extra];
  const signer = firstSigner(parsed, pool);
  // Without a signer certificate verifyParsedCms throws, so skipping here skips nothing.
  if (signer === undefined) return;
  verifyCertificateChain(signer.x509, {
    roots: options.roots,
    intermediates: pool.map((c) => c.x509),
    ...(options.at === undefined ? {} : { at: options.at }),
  });
}

/**
 * The fast path ({@link readDetachedSignedData}) for a message in the shape devices send: the same
 * checks in the same order as the full path below, so the same result and the same errors.
 * Returns `undefined` when the signer is not among the certificates (the full path words that).
 */
function checkDetached(
  signed: DetachedSignedData,
  body: Uint8Array,
  extra: readonly CertInfo[],
  options: MdmSignatureOptions,
): X509Certificate | undefined {
  const signer = findEmbeddedSigner(signed, extra);
  if (signer === undefined) return undefined;
  if (options.roots !== undefined) {
    const pool = detachedCertificates(signed);
    for (const c of extra) pool.push(c);
    verifyCertificateChainOnce(signer.x509, {
      roots: options.roots,
      intermediates: pool.map((c) => c.x509),
      at: options.at ?? new Date(),
    });
  }
  verifyDetachedSignedData(signed, signer, body);
  if (options.at !== undefined) checkValidity(signer.x509, options.at);
  return signer.x509;
}

/**
 * Verifies an `Mdm-Signature` header value over `body` and returns the signer certificate,
 * synchronously. With `roots`, the signer's chain (embedded certificates and `intermediates` may
 * complete it) is checked before the body is hashed, so an untrusted signer costs no digest of a
 * large body. Throws what {@link verifyMdmSignature} rejects with.
 */
export function checkMdmSignature(
  header: string,
  body: Uint8Array,
  options: MdmSignatureOptions = {},
): X509Certificate {
  if (typeof header !== 'string') throw new TypeError('Mdm-Signature header must be a string');
  const der = decodeHeader(header);
  const extra = options.intermediates === undefined ? [] : options.intermediates.map(certInfoOf);
  const signed = readDetachedSignedData(der);
  const fast = signed === undefined ? undefined : checkDetached(signed, body, extra, options);
  if (fast !== undefined) return fast;
  const parsed = parseSignedData(Buffer.from(der));
  if (options.roots !== undefined)
    checkSignerChain(parsed, extra, { ...options, roots: options.roots });
  const verification = verifyParsedCms(parsed, {
    content: body,
    intermediates: extra.map((c) => c.x509),
    ...(options.at === undefined ? {} : { at: options.at }),
  });
  return verification.signer;
}

/**
 * Verifies an `Mdm-Signature` header value over `body` and resolves to the signer certificate
 * (the device identity). SHA-1 or SHA-2, RSA or ECDSA, BER or DER are accepted. Rejects with a
 * `CryptoError`: `ERR_CMS_FORMAT`/`ERR_DER` for a malformed header, `ERR_CMS_SIGNATURE` when the
 * body or signature does not match, `ERR_CERT_*` when `roots` are given and the chain fails (a
 * chain failure is found before the body is hashed).
 */
export function verifyMdmSignature(
  header: string,
  body: Uint8Array,
  options: MdmSignatureOptions = {},
): Promise<X509Certificate> {
  try {
    return Promise.resolve(checkMdmSignature(header, body, options));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

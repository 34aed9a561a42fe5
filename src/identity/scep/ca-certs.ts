/**
 * The GetCACert answer read the way Apple's SCEP client reads it (`SecSCEPValidateCACertMessage`
 * in SecSCEP.c, Apple's Security framework): each certificate is tried as the leaf of a chain
 * through the others; the certificate at the top of those chains (the root) must match the
 * profile's `CAFingerprint`, whose length picks the hash (16 bytes MD5, 20 bytes SHA-1, nothing
 * else); and the leaf that may both sign and encipher keys (the RA) is the one PKCSReq is
 * encrypted to and CertRep is signed by. See docs/scep.md, "CAFingerprint".
 */
import { createHash, X509Certificate } from 'node:crypto';
import { parseSignedData } from '../../crypto/cms-parse.js';
import { children, contentOf, readDer, Tag } from '../../crypto/der.js';
import { decodeOid, Oid } from '../../crypto/oids.js';
import { ScepError } from '../../errors.js';
import { ScepContentType } from './constants.js';

/** What a SCEP client takes from GetCACert. */
export interface ScepCaCertificates {
  /** Every certificate of the answer, in its order. */
  certificates: X509Certificate[];
  /** The top of the chains the certificates form: the root, whose hash `CAFingerprint` is. */
  root: X509Certificate;
  /** The certificate a PKCSReq is encrypted to: the RA, or the CA when it answered alone. */
  recipient: X509Certificate;
  /** The certificate a CertRep must be signed by. */
  signer: X509Certificate;
}

const DIGITAL_SIGNATURE = 0x80;
const KEY_ENCIPHERMENT = 0x20;

const fail = (message: string): ScepError => new ScepError('ERR_SCEP_MESSAGE', message);

/** The extension with `oid` of a certificate, as its extnValue content, or `undefined`. */
function extensionValue(der: Uint8Array, oid: string): Buffer | undefined {
  const [tbs] = children(readDer(der));
  if (tbs === undefined) throw fail('a certificate without tbsCertificate');
  const wrapper = children(tbs).find((t) => t.tag === 0xa3);
  if (wrapper === undefined) return undefined;
  const [list] = children(wrapper);
  if (list === undefined) return undefined;
  for (const ext of children(list)) {
    const parts = children(ext);
    const id = parts[0];
    const value = parts.at(-1);
    if (id?.tag === Tag.OID && decodeOid(contentOf(id)) === oid && value?.tag === Tag.OCTET_STRING)
      return contentOf(value);
  }
  return undefined;
}

/**
 * The first byte of a certificate's keyUsage bits (digitalSignature is 0x80, keyEncipherment
 * 0x20); 0 without the extension, as Apple's `SecCertificateGetKeyUsage` answers then.
 */
export function keyUsageByte(certificate: X509Certificate): number {
  const value = extensionValue(certificate.raw, Oid.keyUsage);
  if (value === undefined) return 0;
  const bits = readDer(value);
  if (bits.tag !== Tag.BIT_STRING) throw fail('keyUsage is not a BIT STRING');
  return contentOf(bits)[1] ?? 0;
}

function issues(issuer: X509Certificate, subject: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/** The chain from `leaf` up through `pool` (leaf first), as far as issuers are found. */
function chainFrom(leaf: X509Certificate, pool: readonly X509Certificate[]): X509Certificate[] {
  const chain = [leaf];
  for (;;) {
    const top = chain.at(-1) as X509Certificate;
    if (issues(top, top)) return chain;
    const next = pool.find((c) => !chain.includes(c) && issues(c, top));
    if (next === undefined) return chain;
    chain.push(next);
  }
}

/**
 * Checks `root` against a CAFingerprint the way Apple's client does: 16 bytes are an MD5, 20 a
 * SHA-1 of the DER certificate; any other length fails. Throws `ERR_SCEP_MESSAGE` on a mismatch.
 */
export function checkCaFingerprint(root: X509Certificate, fingerprint: Uint8Array): void {
  const algorithm = { 16: 'md5', 20: 'sha1' }[fingerprint.length];
  if (algorithm === undefined)
    throw fail(`a CAFingerprint of ${fingerprint.length} bytes is neither MD5 nor SHA-1`);
  const actual = createHash(algorithm).update(root.raw).digest();
  if (!actual.equals(Buffer.from(fingerprint)))
    throw fail('the CAFingerprint does not match the root of the GetCACert certificates');
}

/** The RA roles of the leaves, chosen as Apple's client chooses them (first of each kind). */
function pickResponders(leaves: readonly X509Certificate[]): {
  recipient: X509Certificate;
  signer: X509Certificate;
} {
  let both: X509Certificate | undefined;
  let encrypt: X509Certificate | undefined;
  let sign: X509Certificate | undefined;
  for (const leaf of leaves) {
    const usage = keyUsageByte(leaf);
    const canSign = (usage & DIGITAL_SIGNATURE) !== 0;
    const canEncrypt = (usage & KEY_ENCIPHERMENT) !== 0;
    if (canSign && canEncrypt) both ??= leaf;
    else if (canEncrypt) encrypt ??= leaf;
    else if (canSign) sign ??= leaf;
  }
  if (encrypt !== undefined && sign !== undefined) return { recipient: encrypt, signer: sign };
  if (both !== undefined) return { recipient: both, signer: both };
  throw fail('no RA certificate (keyUsage digitalSignature and keyEncipherment) in GetCACert');
}

function readRaAnswer(body: Uint8Array, fingerprint: Uint8Array | undefined): ScepCaCertificates {
  const certificates = parseSignedData(body).certificates.map((d) => new X509Certificate(d));
  let root: X509Certificate | undefined;
  const leaves: X509Certificate[] = [];
  for (const candidate of certificates) {
    const chain = chainFrom(candidate, certificates);
    if (chain.length < 2) continue;
    const top = chain.at(-1) as X509Certificate;
    if (root === undefined) {
      if (fingerprint !== undefined) checkCaFingerprint(top, fingerprint);
      root = top;
    } else if (!root.raw.equals(top.raw))
      throw fail('the GetCACert certificates do not chain to one root');
    leaves.push(candidate);
  }
  if (root === undefined) throw fail('the GetCACert certificates form no chain');
  return { certificates, root, ...pickResponders(leaves) };
}

/**
 * Reads a GetCACert answer by its content type, as Apple's SCEP client does, checking the root
 * against `caFingerprint` when given (the profile's CAFingerprint). A lone CA certificate is its
 * own root, recipient and signer. Throws `ERR_SCEP_MESSAGE` on an unknown content type, a
 * fingerprint of another length or value, certificates without one root, or no RA.
 */
export function readScepCaCertificates(
  body: Uint8Array,
  contentType: string,
  options: { caFingerprint?: Uint8Array } = {},
): ScepCaCertificates {
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  if (type === ScepContentType.caRaCert) return readRaAnswer(body, options.caFingerprint);
  if (type !== ScepContentType.caCert) throw fail(`unexpected GetCACert type ${String(type)}`);
  const ca = new X509Certificate(body);
  const root = chainFrom(ca, []).at(-1) as X509Certificate;
  if (options.caFingerprint !== undefined) checkCaFingerprint(root, options.caFingerprint);
  return { certificates: [ca], root, recipient: ca, signer: ca };
}

/**
 * PKCS#10 certification requests (RFC 2986): parse and verify (subject, public key,
 * challengePassword in any DirectoryString form, requested extensions), and create (for
 * clients, emulators and tests).
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import {
  bitString,
  integer,
  nullValue,
  oid,
  printableString,
  sequence,
  setOf,
  utf8String,
} from './der-write.js';
import { bytesOf, children, contentOf, readDer, stringValue, Tag, type Tlv } from './der.js';
import { extension, type RawExtension } from './extensions.js';
import { toPrivateKey, type PrivateKeyInput } from './keys.js';
import { decodeName, encodeName, formatName, type NameAttribute } from './name.js';
import { decodeOid, Oid, signatureAlgorithms } from './oids.js';
import { publicKeyDetails, publicKeyFromSpki } from './spki-key.js';

/** A parsed certification request. */
export interface ParsedCsr {
  der: Buffer;
  /** The SubjectPublicKeyInfo element, verbatim (what a certificate for this request carries). */
  spki: Buffer;
  /** `CN=...,O=...` in encoded order. */
  subject: string;
  subjectRdns: NameAttribute[];
  publicKey: KeyObject;
  keyType: 'rsa' | 'ec';
  /** RSA modulus bits, or EC curve bits. */
  keySize: number;
  /** EC curve name as node reports it, e.g. `prime256v1`. */
  curve?: string;
  challengePassword?: string;
  extensions: Array<{ oid: string; critical: boolean; value: Buffer }>;
  signatureValid: boolean;
}

/** A public key the caller has already decoded, with its SubjectPublicKeyInfo bytes. */
export interface KnownKey {
  spki: Buffer;
  publicKey: KeyObject;
}

/** Options of {@link parseCsr}. */
export interface ParseCsrOptions {
  /**
   * Reused when the request carries exactly this SubjectPublicKeyInfo: a SCEP client usually
   * signs its PKCSReq with the CSR's own key, which the message check has already decoded.
   */
  knownKey?: KnownKey;
}

const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

function csrError(message: string, cause?: unknown): CryptoError {
  return new CryptoError('ERR_CSR_FORMAT', message, cause === undefined ? {} : { cause });
}

function toDer(input: Uint8Array | string): Buffer {
  if (typeof input !== 'string') return Buffer.from(input);
  const m =
    /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(
      input,
    );
  if (!m) throw csrError('no CERTIFICATE REQUEST block in PEM text');
  return Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
}

function extensionsOf(value: Tlv): ParsedCsr['extensions'] {
  return children(value).map((ext) => {
    const parts = children(ext);
    const critical =
      parts.length === 3 && parts[1]?.tag === Tag.BOOLEAN && contentOf(parts[1])[0] !== 0;
    const v = parts[parts.length - 1];
    if (v?.tag !== Tag.OCTET_STRING) throw csrError('bad requested extension');
    return {
      oid: decodeOid(contentOf(parts[0] as Tlv)),
      critical,
      value: Buffer.from(contentOf(v)),
    };
  });
}

function readAttributes(
  attrs: Tlv | undefined,
  out: Pick<ParsedCsr, 'extensions'> & { challengePassword?: string },
): void {
  if (attrs === undefined) return;
  for (const attr of children(attrs)) {
    const [type, values] = children(attr);
    if (type?.tag !== Tag.OID || values?.tag !== Tag.SET) throw csrError('bad attribute');
    const [first] = children(values);
    if (first === undefined) continue;
    const id = decodeOid(contentOf(type));
    if (id === Oid.challengePassword) out.challengePassword = stringValue(first);
    else if (id === Oid.extensionRequest) out.extensions.push(...extensionsOf(first));
  }
}

function checkSignature(
  info: Tlv,
  sigAlg: Tlv | undefined,
  sig: Tlv | undefined,
  key: KeyObject,
): boolean {
  const [id] = sigAlg ? children(sigAlg) : [];
  if (id?.tag !== Tag.OID || sig?.tag !== Tag.BIT_STRING) return false;
  const alg = signatureAlgorithms.get(decodeOid(contentOf(id)));
  if (alg?.digest === undefined || alg.key !== key.asymmetricKeyType) return false;
  try {
    return verify(alg.digest, bytesOf(info), key, contentOf(sig).subarray(1));
  } catch {
    return false;
  }
}

/**
 * The key of `spki`: the known one when the bytes match, else built as a JWK from the DER
 * ({@link publicKeyFromSpki}, far cheaper than OpenSSL 3's decoder), else decoded by node.
 */
function publicKeyOf(spki: Buffer, known: KnownKey | undefined): KeyObject {
  if (known?.spki.equals(spki) === true) return known.publicKey;
  const fast = publicKeyFromSpki(spki);
  if (fast !== undefined) return fast;
  try {
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (cause) {
    throw csrError('unreadable public key', cause);
  }
}

function parse(der: Buffer, known: KnownKey | undefined): ParsedCsr {
  const root = readDer(der);
  const [info, sigAlg, sig] = children(root);
  if (info?.tag !== Tag.SEQUENCE) throw csrError('not a certification request');
  const [, subject, spkiTlv, attrs] = children(info);
  if (subject === undefined || spkiTlv?.tag !== Tag.SEQUENCE)
    throw csrError('request fields missing');
  const spki = bytesOf(spkiTlv);
  const publicKey = publicKeyOf(spki, known);
  const keyType = publicKey.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec')
    throw csrError(`unsupported key type ${String(keyType)}`);
  const details = publicKeyDetails(publicKey);
  const subjectRdns = decodeName(subject);
  const parsed: ParsedCsr = {
    der,
    spki,
    subject: formatName(subjectRdns),
    subjectRdns,
    publicKey,
    keyType,
    keySize:
      keyType === 'rsa' ? (details.modulusLength ?? 0) : (curveBits[details.namedCurve ?? ''] ?? 0),
    extensions: [],
    signatureValid: checkSignature(info, sigAlg, sig, publicKey),
  };
  if (keyType === 'ec' && details.namedCurve !== undefined) parsed.curve = details.namedCurve;
  readAttributes(attrs?.tag === 0xa0 ? attrs : undefined, parsed);
  return parsed;
}

/**
 * Parses a PKCS#10 request (DER or PEM) without requiring its signature to be valid (see
 * `signatureValid`). Throws `ERR_CSR_FORMAT` on anything that is not a readable request.
 */
export function parseCsr(input: Uint8Array | string, options: ParseCsrOptions = {}): ParsedCsr {
  const der = toDer(input);
  try {
    return parse(der, options.knownKey);
  } catch (cause) {
    if (cause instanceof CryptoError && cause.code === 'ERR_CSR_FORMAT') throw cause;
    throw csrError('malformed certification request', cause);
  }
}

/** Like {@link parseCsr}, and throws `ERR_CSR_SIGNATURE` unless the self-signature verifies. */
export function verifyCsr(input: Uint8Array | string, options: ParseCsrOptions = {}): ParsedCsr {
  const parsed = parseCsr(input, options);
  if (!parsed.signatureValid)
    throw new CryptoError('ERR_CSR_SIGNATURE', 'certification request signature does not verify');
  return parsed;
}

/** Options of {@link createCsr}. */
export interface CreateCsrOptions {
  subject: string | NameAttribute[];
  privateKey: PrivateKeyInput;
  challengePassword?: string;
  /** Encoding of the challenge; default `utf8`. */
  challengeEncoding?: 'utf8' | 'printable';
  extensions?: RawExtension[];
}

/**
 * Creates a DER PKCS#10 request signed with `privateKey` (SHA-256; RSA PKCS#1 v1.5 or ECDSA).
 * Throws `ERR_KEY_FORMAT` on an unreadable or unsupported key.
 */
export function createCsr(options: CreateCsrOptions): Buffer {
  const key = toPrivateKey(options.privateKey);
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const attrs: Buffer[] = [];
  if (options.challengePassword !== undefined) {
    const v =
      options.challengeEncoding === 'printable'
        ? printableString(options.challengePassword)
        : utf8String(options.challengePassword);
    attrs.push(sequence(oid(Oid.challengePassword), setOf(v)));
  }
  if (options.extensions?.length) {
    const exts = sequence(
      ...options.extensions.map((e) => extension(e.oid, e.critical === true, e.value)),
    );
    attrs.push(sequence(oid(Oid.extensionRequest), setOf(exts)));
  }
  const attrSet = setOf(...attrs);
  attrSet[0] = 0xa0;
  const info = sequence(integer(0), encodeName(options.subject), spki, attrSet);
  let alg: Buffer;
  if (key.asymmetricKeyType === 'rsa') alg = sequence(oid(Oid.sha256WithRsa), nullValue());
  else if (key.asymmetricKeyType === 'ec') alg = sequence(oid(Oid.ecdsaWithSha256));
  else
    throw new CryptoError(
      'ERR_KEY_FORMAT',
      `cannot sign a request with a ${String(key.asymmetricKeyType)} key`,
    );
  return sequence(info, alg, bitString(sign('sha256', info, key)));
}

/** PEM text (`CERTIFICATE REQUEST`, 64-column base64, as openssl writes it) of a DER request. */
export function csrToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.trimEnd()}\n-----END CERTIFICATE REQUEST-----\n`;
}

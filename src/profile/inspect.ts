/**
 * Inspecting any configuration profile: plain (XML or binary), signed, encrypted, or signed and
 * encrypted. Reports the signature (valid or not, and why), the signer, whether the chain is
 * trusted by given roots, and the profile, decrypted when a key is given.
 */
import type { X509Certificate } from 'node:crypto';
import { verifyCertificateChain } from '../crypto/chain.js';
import { parseSignedData } from '../crypto/cms-parse.js';
import { toCertificate, type CertificateInput, type PrivateKeyInput } from '../crypto/keys.js';
import { CryptoError } from '../errors.js';
import { PlistReal, type PlistDict } from '../protocol/plist.js';
import { decryptProfile, isEncryptedProfile } from './encrypt.js';
import { decodeProfile, looksLikePlist } from './sign.js';
import { verifyProfile } from './verify.js';

/** Options of {@link inspectProfile}. */
export interface InspectProfileOptions {
  /** The device key, to decrypt `EncryptedPayloadContent`. */
  privateKey?: PrivateKeyInput;
  /** The device certificate, to pick its recipient. */
  certificate?: CertificateInput;
  /** Trust anchors: when given, `signature.trusted` says whether the signer chains to one. */
  roots?: CertificateInput[];
}

/** The readable facts of one certificate. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
}

/** What the signature of a signed profile says. */
export interface SignatureReport {
  /** Whether the signature over the content verified. */
  valid: boolean;
  /** The error code when it did not (e.g. `ERR_CMS_SIGNATURE`). */
  error?: string;
  signer?: CertificateSummary;
  certificates: CertificateSummary[];
  /** Present when roots were given: whether the signer chains to one of them. */
  trusted?: boolean;
  /** The error code when it does not (e.g. `ERR_CERT_UNTRUSTED`). */
  trustError?: string;
  signingTime?: Date;
  digestAlgorithm?: string;
}

/** The result of {@link inspectProfile}. */
export interface ProfileInspection {
  /** Encoding of the (inner) property list. */
  encoding: 'xml' | 'binary';
  /** Present when the input was CMS-signed. */
  signature?: SignatureReport;
  encrypted: boolean;
  /** Whether encrypted payloads were opened with the given key. */
  decrypted: boolean;
  /** The profile, with `PayloadContent` restored when decrypted. */
  profile: PlistDict;
}

/** Summarises a certificate for people: names, serial, validity and SHA-256 fingerprint. */
export function summarizeCertificate(cert: X509Certificate): CertificateSummary {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
  };
}

const SIGNATURE_CODES = new Set(['ERR_CMS_SIGNATURE', 'ERR_CMS_UNSUPPORTED', 'ERR_CERT_FORMAT']);

function unverified(
  input: Uint8Array,
  error: CryptoError,
): { content: Buffer; report: SignatureReport } {
  const parsed = parseSignedData(input);
  if (parsed.content === undefined) throw error;
  return {
    content: parsed.content,
    report: {
      valid: false,
      error: error.code,
      certificates: parsed.certificates.map((der) => summarizeCertificate(toCertificate(der))),
    },
  };
}

function trustOf(signer: X509Certificate, certs: X509Certificate[], roots: CertificateInput[]) {
  try {
    verifyCertificateChain(signer, { roots, intermediates: certs });
    return { trusted: true };
  } catch (error) {
    if (error instanceof CryptoError) return { trusted: false, trustError: error.code };
    throw error;
  }
}

function readSigned(input: Uint8Array, roots: CertificateInput[] | undefined) {
  let verified;
  try {
    verified = verifyProfile(input);
  } catch (error) {
    if (error instanceof CryptoError && SIGNATURE_CODES.has(error.code))
      return unverified(input, error);
    throw error;
  }
  const report: SignatureReport = {
    valid: true,
    signer: summarizeCertificate(verified.signer),
    certificates: verified.certificates.map(summarizeCertificate),
    ...(roots === undefined ? {} : trustOf(verified.signer, verified.certificates, roots)),
    ...(verified.signingTime === undefined ? {} : { signingTime: verified.signingTime }),
    digestAlgorithm: verified.digestAlgorithm,
  };
  return { content: verified.content, report };
}

/**
 * Reads a profile in any of its forms and reports what it is. A bad signature does not throw:
 * it is reported in `signature` with the content still shown. Throws `PlistError`/`ProfileError`
 * when the (inner) bytes are not a profile, `CryptoError` when the input is neither a plist nor
 * CMS, or when a given key fails to decrypt.
 */
export function inspectProfile(
  input: Uint8Array,
  options: InspectProfileOptions = {},
): ProfileInspection {
  if (!(input instanceof Uint8Array)) throw new TypeError('inspectProfile: input must be bytes');
  let content: Uint8Array = input;
  let signature: SignatureReport | undefined;
  if (!looksLikePlist(input)) {
    const signed = readSigned(input, options.roots);
    content = signed.content;
    signature = signed.report;
  }
  let profile = decodeProfile(content);
  const encrypted = isEncryptedProfile(profile);
  const decrypt = encrypted && options.privateKey !== undefined;
  if (decrypt && options.privateKey !== undefined) {
    profile = decryptProfile(profile, {
      privateKey: options.privateKey,
      ...(options.certificate === undefined ? {} : { certificate: options.certificate }),
    });
  }
  return {
    encoding: looksBinary(content) ? 'binary' : 'xml',
    ...(signature === undefined ? {} : { signature }),
    encrypted,
    decrypted: decrypt,
    profile,
  };
}

function looksBinary(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 6)).toString('latin1') === 'bplist';
}

/** A JSON value. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Turns plist values (and the inspection around them) into plain JSON: data as base64, dates as
 * ISO 8601, integers beyond 2^53 as decimal strings, reals as numbers. `undefined` entries are
 * dropped. Throws `TypeError` on values JSON cannot represent (functions, symbols, cycles).
 */
export function toReadableJson(value: unknown, seen: Set<object> = new Set()): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (value instanceof PlistReal) return toReadableJson(value.value, seen);
  if (typeof value !== 'object')
    throw new TypeError(`toReadableJson: a ${typeof value} has no JSON form`);
  if (seen.has(value)) throw new TypeError('toReadableJson: the value is cyclic');
  seen.add(value);
  let out: JsonValue;
  if (Array.isArray(value)) out = value.map((v: unknown) => toReadableJson(v, seen));
  else {
    const dict: Record<string, JsonValue> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined)
        Object.defineProperty(dict, key, {
          value: toReadableJson(v, seen),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    out = dict;
  }
  seen.delete(value);
  return out;
}

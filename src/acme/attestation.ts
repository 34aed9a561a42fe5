/**
 * Apple's `device-attest-01` verification: the contract the ACME core calls. The verifier decodes
 * the attestation object (CBOR, format `apple`), verifies its `x5c` chain to the trust anchors,
 * checks the freshness code against the challenge token and the serial/UDID against the order's
 * identifier, and hands back the attested public key. This file holds the contract and Apple's
 * verifier ({@link createAppleAttestationVerifier}; {@link verifyDeviceAttestation} is it with the
 * default identifier check).
 */
import { createHash, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { verifyCertificateChain } from '../crypto/chain.js';
import { children, contentOf, expectTag, readDer, Tag } from '../crypto/der.js';
import { decodeOid } from '../crypto/oids.js';
import { AcmeError, CryptoError } from '../errors.js';
import { CborDecodeError, decodeCbor, type CborValue } from './attestation-cbor.js';

/** What a device-attest-01 response carries and what it must be checked against. */
export interface DeviceAttestationInput {
  /** The attestation object (CBOR), base64url-decoded from the challenge response's `attObj`. */
  attObj: Uint8Array;
  /** The challenge token the freshness code must echo (as Apple defines it). */
  token: string;
  /** The order's `permanent-identifier` value. */
  identifier: string;
  /** Anchors the `x5c` chain must end at (Apple's Enterprise Attestation Root by default). */
  trustAnchors: readonly X509Certificate[];
  now: Date;
}

/** What a verified attestation proves: the hardware-bound key and the device it lives in. */
export interface DeviceAttestationResult {
  /** The attested key: the CSR at finalize must carry exactly this key. */
  publicKey: KeyObject;
  /** The device serial number the attestation names, when it names one. */
  serial?: string;
  /** The device UDID the attestation names, when it names one. */
  udid?: string;
}

/**
 * Verifies a device attestation. Resolves what it proves, or rejects with {@link AcmeError}
 * `ERR_ACME_BAD_ATTESTATION` (a problem of type `badAttestationStatement`) for any attestation
 * that does not verify; any other rejection is a server fault (500).
 */
export type DeviceAttestationVerifier = (
  input: DeviceAttestationInput,
) => Promise<DeviceAttestationResult>;

/** Apple's attestation leaf extensions (DevicePropertiesAttestation OIDs). */
export const AppleAttestationOid = {
  serialNumber: '1.2.840.113635.100.8.9.1',
  udid: '1.2.840.113635.100.8.9.2',
  sepOsVersion: '1.2.840.113635.100.8.10.2',
  freshnessCode: '1.2.840.113635.100.8.11.1',
} as const;

/** The device a verified attestation names (either may be absent, as Apple documents). */
export interface AttestedDevice {
  serial?: string;
  udid?: string;
}

/**
 * Decides whether the order's identifier may be validated by an attestation of `device`. The
 * default ({@link identifierIsAttestedDevice}) requires the identifier to be the attested serial
 * or UDID; a deployment whose ClientIdentifier is a one-time opaque value passes its
 * `AcmeClientIdentifiers` check instead. A rejection is a server fault.
 */
export type AttestationIdentifierCheck = (
  identifier: string,
  device: AttestedDevice,
) => boolean | Promise<boolean>;

/** Options of {@link createAppleAttestationVerifier}. */
export interface AppleAttestationOptions {
  /** Default {@link identifierIsAttestedDevice}. */
  checkIdentifier?: AttestationIdentifierCheck;
  /** Most certificates in `x5c`; default 4. */
  maxChainLength?: number;
}

/** Largest attestation object accepted (Apple's are about 2-3 KB). */
export const MAX_ATTESTATION_OBJECT_BYTES = 32 * 1024;

const bad = (message: string): AcmeError => new AcmeError('ERR_ACME_BAD_ATTESTATION', message);

/** True when both strings are equal, compared in constant time for equal lengths. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The default identifier check: the order's identifier is the attested UDID or serial number
 * (Apple's ClientIdentifier set to the device's own identifier, as smallstep's step-ca expects).
 */
export function identifierIsAttestedDevice(identifier: string, device: AttestedDevice): boolean {
  const udid = device.udid !== undefined && sameText(identifier, device.udid);
  const serial = device.serial !== undefined && sameText(identifier, device.serial);
  return udid || serial;
}

/** The `x5c` certificates of an `apple` attestation object, leaf first. */
function x5cOf(attObj: Uint8Array, maxChain: number): X509Certificate[] {
  if (attObj.length === 0 || attObj.length > MAX_ATTESTATION_OBJECT_BYTES)
    throw bad('the attestation object is empty or too large');
  let root: CborValue;
  try {
    root = decodeCbor(attObj);
  } catch (error) {
    if (error instanceof CborDecodeError) throw bad(`attObj is not valid CBOR: ${error.message}`);
    throw error;
  }
  if (!(root instanceof Map)) throw bad('attObj must be a CBOR map');
  const fmt = root.get('fmt');
  if (fmt !== 'apple') throw bad('the attestation format must be "apple"');
  const stmt = root.get('attStmt');
  if (!(stmt instanceof Map)) throw bad('attStmt must be a map');
  const x5c = stmt.get('x5c');
  if (!Array.isArray(x5c) || x5c.length === 0) throw bad('attStmt.x5c must name certificates');
  if (x5c.length > maxChain) throw bad('attStmt.x5c is too long');
  return x5c.map((der) => {
    if (!(der instanceof Uint8Array)) throw bad('attStmt.x5c must hold DER byte strings');
    try {
      return new X509Certificate(Buffer.from(der));
    } catch {
      throw bad('attStmt.x5c holds a certificate that cannot be read');
    }
  });
}

/** The leaf's extensions by OID (extnValue contents). Duplicates are refused. */
function extensionsOf(leaf: X509Certificate): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  try {
    const tbs = children(readDer(leaf.raw))[0];
    const wrapped = tbs === undefined ? undefined : children(tbs).find((t) => t.tag === 0xa3);
    const list =
      wrapped === undefined ? [] : children(expectTag(children(wrapped)[0], 0x30, 'extensions'));
    for (const ext of list) {
      const parts = children(ext);
      const id = decodeOid(contentOf(expectTag(parts[0], Tag.OID, 'an extension OID')));
      const value = expectTag(parts[parts.length - 1], Tag.OCTET_STRING, 'extnValue');
      if (out.has(id)) throw bad(`the attestation repeats extension ${id}`);
      out.set(id, Buffer.from(contentOf(value)));
    }
  } catch (error) {
    if (error instanceof AcmeError) throw error;
    throw bad('the attestation certificate extensions cannot be read');
  }
  return out;
}

const STRING_TAGS = new Set<number>([Tag.UTF8_STRING, Tag.PRINTABLE_STRING, Tag.IA5_STRING]);

/**
 * The bytes of an extension value: Apple puts the raw value in extnValue; a value that is itself
 * one complete DER string or OCTET STRING element (as some implementations write) is unwrapped.
 */
function unwrapped(value: Buffer, tags: ReadonlySet<number>): Buffer {
  if (value.length < 2 || !tags.has(value[0] as number)) return value;
  try {
    const tlv = readDer(value);
    return tlv.constructed ? value : Buffer.from(contentOf(tlv));
  } catch {
    return value;
  }
}

function deviceString(value: Buffer | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const text = unwrapped(value, STRING_TAGS).toString('latin1');
  if (text === '') return undefined; // Apple leaves a property blank when it cannot verify it.
  if (!/^[\x21-\x7e]{1,128}$/.test(text)) throw bad(`the attested ${what} is not printable`);
  return text;
}

/** Throws unless the freshness code is the SHA-256 of the challenge token. */
function checkFreshness(value: Buffer | undefined, token: string): void {
  if (value === undefined) throw bad('the attestation has no freshness code');
  const code = unwrapped(value, new Set([Tag.OCTET_STRING]));
  const expected = createHash('sha256').update(token, 'utf8').digest();
  if (code.length !== expected.length || !timingSafeEqual(code, expected))
    throw bad('the freshness code does not match the challenge token');
}

/** Throws unless `key` is a Secure Enclave shaped key: EC P-256 or P-384. */
function checkKey(key: KeyObject): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || (curve !== 'prime256v1' && curve !== 'secp384r1'))
    throw bad('the attested key must be EC P-256 or P-384');
}

function checkChain(x5c: X509Certificate[], anchors: readonly X509Certificate[], now: Date) {
  const [leaf, ...rest] = x5c as [X509Certificate, ...X509Certificate[]];
  if (anchors.length === 0) throw bad('no attestation trust anchors are configured');
  if (leaf.ca) throw bad('the attestation leaf must not be a CA');
  try {
    verifyCertificateChain(leaf, {
      roots: [...anchors],
      intermediates: rest,
      at: now,
      maxDepth: 4,
    });
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    if (error.code === 'ERR_CERT_EXPIRED') throw bad('an attestation certificate has expired');
    if (error.code === 'ERR_CERT_NOT_YET_VALID')
      throw bad('an attestation certificate is not valid yet');
    throw bad('the attestation does not chain to a trusted root');
  }
  return leaf;
}

/**
 * Creates the verifier of Apple's `apple` attestation format: decodes the attestation object,
 * verifies `x5c` to the input's trust anchors at `now`, requires the freshness code
 * (1.2.840.113635.100.8.11.1) to be SHA-256 of the challenge token, reads the serial
 * (…8.9.1) and UDID (…8.9.2), runs `checkIdentifier`, and returns the leaf's key.
 */
export function createAppleAttestationVerifier(
  options: AppleAttestationOptions = {},
): DeviceAttestationVerifier {
  const checkIdentifier = options.checkIdentifier ?? identifierIsAttestedDevice;
  const maxChain = options.maxChainLength ?? 4;
  return async (input) => {
    const leaf = checkChain(x5cOf(input.attObj, maxChain), input.trustAnchors, input.now);
    const ext = extensionsOf(leaf);
    checkFreshness(ext.get(AppleAttestationOid.freshnessCode), input.token);
    const serial = deviceString(ext.get(AppleAttestationOid.serialNumber), 'serial number');
    const udid = deviceString(ext.get(AppleAttestationOid.udid), 'UDID');
    const device: AttestedDevice = {
      ...(serial === undefined ? {} : { serial }),
      ...(udid === undefined ? {} : { udid }),
    };
    if (!(await checkIdentifier(input.identifier, device)))
      throw bad('the attested device does not match the order identifier');
    const publicKey = leaf.publicKey;
    checkKey(publicKey);
    return { publicKey, ...device };
  };
}

const appleVerifier = createAppleAttestationVerifier();

/**
 * Apple's `apple` format verifier with the default identifier check (the identifier must be the
 * attested serial or UDID). Resolves what the attestation proves, or rejects with
 * `ERR_ACME_BAD_ATTESTATION`.
 */
export function verifyDeviceAttestation(
  input: DeviceAttestationInput,
): Promise<DeviceAttestationResult> {
  return appleVerifier(input);
}

/**
 * Certificate authorities and certificate issuance from options (subjects as text, default
 * extensions for an MDM identity), on the one certificate builder ({@link buildCertificate});
 * and subject UID lookup.
 */
import { createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { certInfo } from './cert-info.js';
import { buildCertificate, signatureAlgorithmFor } from './certificate-builder.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  extendedKeyUsageValue,
  extension,
  keyIdentifierOfSpki,
  keyUsageValue,
  subjectKeyIdentifierValue,
  subjectAltNameValue,
  type KeyUsage,
  type RawExtension,
  type SubjectAltName,
} from './extensions.js';
import { generateKeyPairOf, type CertificateInput, type KeyType } from './keys.js';
import { decodeName, encodeName, type NameAttribute } from './name.js';
import { Oid } from './oids.js';

/** Options of {@link createCertificateAuthority}. */
export interface CreateCaOptions {
  /** Subject, e.g. `CN=Orchard CA,O=Example`. */
  subject: string | NameAttribute[];
  /** Default `ec-p384`. */
  keyType?: KeyType;
  /** Default 3650. */
  validityDays?: number;
  /** Start of validity (minus one hour of clock-skew margin); default now. */
  now?: Date;
  /** Default keyCertSign, cRLSign, digitalSignature, plus keyEncipherment for RSA (a SCEP CA also decrypts). */
  keyUsage?: KeyUsage[];
  /** Signed by this CA instead of self-signed (an intermediate). */
  issuer?: { certificate: X509Certificate; privateKey: KeyObject };
  /** basicConstraints pathLenConstraint. */
  pathLength?: number;
}

/** Options of {@link issueCertificate}. */
export interface IssueCertificateOptions {
  publicKey: KeyObject;
  subject: string | NameAttribute[];
  issuer: { certificate: X509Certificate; privateKey: KeyObject };
  /** Default: 16 random bytes (≥ 64 bits of entropy), positive. */
  serialNumber?: Uint8Array | bigint;
  /** Default now minus one hour. */
  notBefore?: Date;
  /** Default notBefore plus 365 days. */
  notAfter?: Date;
  /** Default [clientAuth]; an empty array leaves the extension out. */
  extendedKeyUsage?: string[];
  /** Default [digitalSignature, keyEncipherment] (keyEncipherment only for RSA keys). */
  keyUsage?: KeyUsage[];
  isCa?: boolean;
  /** With `isCa`: how many CA certificates may follow this one in a path (0: it issues only leaves). */
  pathLength?: number;
  subjectAltNames?: SubjectAltName[];
  extraExtensions?: RawExtension[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Throws `ERR_KEY_FORMAT` unless `key` can sign certificates (RSA, EC P-256/P-384/P-521). */
function checkSigningKey(key: KeyObject): void {
  try {
    signatureAlgorithmFor(key);
  } catch {
    throw new CryptoError(
      'ERR_KEY_FORMAT',
      `cannot sign certificates with a ${String(key.asymmetricKeyType)} key`,
    );
  }
}

/** A random positive serial of 16 bytes, or the given one, as big-endian magnitude bytes. */
function serialBytes(serial: Uint8Array | bigint | undefined): Buffer {
  if (typeof serial === 'bigint') {
    if (serial <= 0n) throw new TypeError('serialNumber must be positive');
    const hex = serial.toString(16);
    return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  }
  const bytes = serial === undefined ? randomBytes(16) : Buffer.from(serial);
  if (serial === undefined) bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes;
}

function sign(options: {
  spki: Buffer;
  subject: string | NameAttribute[];
  issuer: { certificate?: X509Certificate; privateKey: KeyObject };
  serialNumber: Uint8Array | bigint | undefined;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}): X509Certificate {
  checkSigningKey(options.issuer.privateKey);
  const subjectName = encodeName(options.subject);
  const der = buildCertificate({
    serial: serialBytes(options.serialNumber),
    issuerName: options.issuer.certificate
      ? certInfo(options.issuer.certificate).subject
      : subjectName,
    subjectName,
    spki: options.spki,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    extensions: options.extensions,
    signingKey: options.issuer.privateKey,
  });
  return new X509Certificate(der);
}

function issuerKeyId(issuer: { certificate: X509Certificate }): Buffer | undefined {
  return certInfo(issuer.certificate).subjectKeyId;
}

/**
 * Creates a CA: a fresh key pair (default P-384) and a self-signed (or `issuer`-signed)
 * certificate with basicConstraints CA, key usage, SKI and AKI. Resolves to the certificate and
 * its private key; throws `TypeError` on bad options.
 */
export async function createCertificateAuthority(
  options: CreateCaOptions,
): Promise<{ certificate: X509Certificate; privateKey: KeyObject }> {
  const keyType = options.keyType ?? 'ec-p384';
  const { privateKey, publicKey } = await generateKeyPairOf(keyType);
  const now = options.now ?? new Date();
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const ski = keyIdentifierOfSpki(spki);
  const usage: KeyUsage[] = options.keyUsage ?? [
    'keyCertSign',
    'cRLSign',
    'digitalSignature',
    ...(keyType.startsWith('rsa') ? (['keyEncipherment'] as const) : []),
  ];
  const aki = options.issuer ? issuerKeyId(options.issuer) : ski;
  const certificate = sign({
    spki,
    subject: options.subject,
    issuer: options.issuer ?? { privateKey },
    serialNumber: undefined,
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + (options.validityDays ?? 3650) * DAY),
    extensions: [
      extension(Oid.basicConstraints, true, basicConstraintsValue(true, options.pathLength)),
      extension(Oid.keyUsage, true, keyUsageValue(usage)),
      ...keyIdExtensions(ski, aki),
    ],
  });
  return { certificate, privateKey };
}

/** The subject key identifier extension, and the authority one when the issuer has a key id. */
function keyIdExtensions(ski: Buffer, aki: Buffer | undefined): Buffer[] {
  const list = [extension(Oid.subjectKeyIdentifier, false, subjectKeyIdentifierValue(ski))];
  if (aki)
    list.push(extension(Oid.authorityKeyIdentifier, false, authorityKeyIdentifierValue(aki)));
  return list;
}

/**
 * Issues a certificate for `publicKey`, signed by `issuer`, with the extensions an MDM identity
 * needs by default (clientAuth, digitalSignature/keyEncipherment, SKI, AKI). Throws `TypeError`
 * on bad options, `ERR_KEY_FORMAT` when the issuer key cannot sign.
 */
export function issueCertificate(options: IssueCertificateOptions): Promise<X509Certificate> {
  // A promise (as when certificates were signed through WebCrypto): misuse rejects, never throws.
  return new Promise((resolve) => {
    resolve(issueNow(options));
  });
}

function issueNow(options: IssueCertificateOptions): X509Certificate {
  const notBefore = options.notBefore ?? new Date(Date.now() - HOUR);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * DAY);
  if (notAfter.getTime() <= notBefore.getTime())
    throw new TypeError('issueCertificate(): notAfter must follow notBefore');
  const isRsa = options.publicKey.asymmetricKeyType === 'rsa';
  const usage =
    options.keyUsage ?? (isRsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  const eku = options.extendedKeyUsage ?? [Oid.clientAuth];
  const publicKey =
    options.publicKey.type === 'private' ? createPublicKey(options.publicKey) : options.publicKey;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const ski = keyIdentifierOfSpki(spki);
  const aki = issuerKeyId(options.issuer);
  const extensions = [
    extension(
      Oid.basicConstraints,
      true,
      basicConstraintsValue(options.isCa === true, options.pathLength),
    ),
    extension(Oid.keyUsage, true, keyUsageValue(usage)),
    ...(eku.length > 0 ? [extension(Oid.extKeyUsage, false, extendedKeyUsageValue(eku))] : []),
    ...keyIdExtensions(ski, aki),
    ...(options.subjectAltNames?.length
      ? [extension(Oid.subjectAltName, false, subjectAltNameValue(options.subjectAltNames))]
      : []),
    ...(options.extraExtensions ?? []).map((e) => extension(e.oid, e.critical === true, e.value)),
  ];
  return sign({
    spki,
    subject: options.subject,
    issuer: options.issuer,
    serialNumber: options.serialNumber,
    notBefore,
    notAfter,
    extensions,
  });
}

/**
 * The subject's userId (UID, 0.9.2342.19200300.100.1.1) of a certificate, which for an APNs
 * certificate is its push topic. Returns `undefined` when absent; throws `ERR_CERT_FORMAT` on bad input.
 */
export function findSubjectUid(certificate: CertificateInput): string | undefined {
  return decodeName(certInfo(certificate).subject).find((a) => a.type === 'UID')?.value;
}

/** The subject of a certificate as attributes in encoded order. Throws `ERR_CERT_FORMAT` on bad input. */
export function subjectOf(certificate: CertificateInput): NameAttribute[] {
  return decodeName(certInfo(certificate).subject);
}

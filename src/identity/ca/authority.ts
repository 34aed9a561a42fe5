/**
 * The issuing certificate authority: checks a CSR against the policy, allocates a unique serial,
 * writes and signs the certificate, and records it; revocation and lookups for the MDM core.
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { certInfo } from '../../crypto/cert-info.js';
import type { ParsedCsr } from '../../crypto/csr.js';
import { buildCertificate } from '../../crypto/certificate-builder.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  extendedKeyUsageValue,
  extension,
  keyIdentifier,
  keyIdentifierOfSpki,
  keyUsageValue,
  subjectAltNameValue,
  subjectKeyIdentifierValue,
} from '../../crypto/extensions.js';
import { encodeName, formatName } from '../../crypto/name.js';
import { Oid } from '../../crypto/oids.js';
import { randomPoolBytes } from '../../crypto/random.js';
import { CertificateAuthorityError } from '../../errors.js';
import { checkRequest, resolvePolicy, type IssuancePolicyOptions } from './policy.js';
import { normaliseSerial, type CertificateStore, type IssuedCertificate } from './store.js';

/** A certificate with its private key. */
export interface KeyPairCertificate {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

/**
 * The CA's keys: the root (or an imported CA) and, optionally, an RA that decrypts and signs SCEP
 * and an issuing CA (an intermediate signed by the root) that signs the certificates.
 */
export interface CaMaterial {
  /** The root (or an imported CA). */
  certificate: X509Certificate;
  /**
   * The root's key. May be absent (kept offline) when an issuing CA and an RA do all the
   * per-enrollment work; it is then needed only to issue a new RA or issuing CA.
   */
  privateKey?: KeyObject;
  ra?: KeyPairCertificate;
  /** Signs the issued certificates instead of the root; must be a CA certificate the root signed. */
  issuer?: KeyPairCertificate;
  /**
   * Earlier issuing CAs: they sign nothing more, but what they signed still chains (and renews)
   * through them. Each must be a CA certificate the root signed.
   */
  retired?: X509Certificate[];
}

/** Dependencies of {@link createCa}. */
export interface CaDeps {
  material: CaMaterial;
  store: CertificateStore;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Random bytes for serials; default a pooled `crypto.randomFillSync`. */
  random?: (size: number) => Buffer;
}

/** What to issue: a CSR that already passed its signature check, and the enrollment it is for. */
export interface IssueRequest {
  csr: ParsedCsr;
  enrollmentId?: string;
  /** Serial of the certificate whose holder asked for this one (a RenewalReq's signer). */
  renewalOf?: string;
}

/** The certificate authority: issuance, revocation and lookups. */
export interface CertificateAuthority {
  /** The root: the trust anchor issued certificates chain to. */
  readonly certificate: X509Certificate;
  /** The certificate that signs issued certificates: the issuing CA when configured, else the root. */
  readonly issuer: X509Certificate;
  /** Certificates between an issued certificate and the root: the issuing CA and retired ones. */
  readonly intermediates: readonly X509Certificate[];
  readonly ra: KeyPairCertificate | undefined;
  /** The pair that decrypts SCEP requests and signs replies: the RA when configured, else the CA. */
  readonly responder: KeyPairCertificate;
  /** Issues and records a certificate. Throws `ERR_CA_POLICY` on refusal, `StorageError` on storage faults. */
  issue(request: IssueRequest): Promise<IssuedCertificate>;
  /**
   * Throws `ERR_CA_POLICY` when `issue` would refuse this CSR, without issuing anything: lets a
   * caller check before it spends something single-use, such as a one-time challenge.
   */
  checkPolicy(csr: ParsedCsr): void;
  /** Revokes `serial` (hex); throws `ERR_CA_NOT_FOUND` when this CA never issued it. */
  revoke(serial: string | bigint, reason?: string): Promise<void>;
  /** True when `serial` was issued here and revoked; false when not revoked or unknown. */
  isRevoked(serial: string | bigint): Promise<boolean>;
  /** The record of `serial`, or `undefined`. */
  findIssuedCertificate(serial: string | bigint): Promise<IssuedCertificate | undefined>;
}

const SERIAL_ATTEMPTS = 4;

/** Throws `TypeError` unless `issuing` is a CA certificate that `root` signed. */
function checkIssuingCa(issuing: X509Certificate, root: X509Certificate): void {
  if (!issuing.ca || !issuing.checkIssued(root) || !issuing.verify(root.publicKey))
    throw new TypeError(
      'createCa(): an issuing CA (current or retired) must be a CA certificate signed by the root',
    );
}

/** 16 random bytes with the top bit clear and the next set: positive, fixed length, 126 bits. */
function newSerial(random: (size: number) => Buffer): Buffer {
  const bytes = Buffer.from(random(16));
  if (bytes.length !== 16) throw new TypeError('random(16) must return 16 bytes');
  bytes[0] = ((bytes[0] as number) & 0x3f) | 0x40;
  return bytes;
}

/** A version 4 UUID from `random`: the id an issued certificate carries (RFC 9562). */
function newCertificateId(random: (size: number) => Buffer): string {
  const b = Buffer.from(random(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Creates the CA over `deps.store` with the given policy. Throws `TypeError` when a key does not
 * match its certificate, the issuing CA is not a CA certificate the root signed, the root key is
 * absent without an issuing CA and an RA, or the policy options are unsafe.
 */
export function createCa(
  deps: CaDeps,
  policyOptions: IssuancePolicyOptions = {},
): CertificateAuthority {
  const { material, store } = deps;
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? randomPoolBytes;
  const policy = resolvePolicy(policyOptions);
  const root = material.privateKey && {
    certificate: material.certificate,
    privateKey: material.privateKey,
  };
  if (root && !createPublicKey(root.privateKey).equals(root.certificate.publicKey))
    throw new TypeError('createCa(): the private key does not match the CA certificate');
  const signer = material.issuer ?? root;
  const responder = material.ra ?? root;
  if (signer === undefined || responder === undefined)
    throw new TypeError(
      'createCa(): without the root key, an issuing CA and an RA must do the per-enrollment work',
    );
  const signingKey = signer.privateKey;
  const ca = certInfo(signer.certificate);
  if (!createPublicKey(signer.privateKey).equals(ca.publicKey))
    throw new TypeError('createCa(): the issuing CA key does not match its certificate');
  const intermediates = [
    ...(material.issuer ? [material.issuer.certificate] : []),
    ...(material.retired ?? []),
  ];
  for (const c of intermediates) checkIssuingCa(c, material.certificate);
  const akid = extension(
    Oid.authorityKeyIdentifier,
    false,
    authorityKeyIdentifierValue(ca.subjectKeyId ?? keyIdentifier(ca.publicKey)),
  );
  const basic = extension(Oid.basicConstraints, true, basicConstraintsValue(false));
  const eku = policy.extendedKeyUsage.length
    ? [extension(Oid.extKeyUsage, false, extendedKeyUsageValue(policy.extendedKeyUsage))]
    : [];
  const caNotAfter = new Date(signer.certificate.validTo).getTime();
  const rsaUsage = extension(
    Oid.keyUsage,
    true,
    keyUsageValue(['digitalSignature', 'keyEncipherment']),
  );
  const ecUsage = extension(Oid.keyUsage, true, keyUsageValue(['digitalSignature']));

  function extensionsFor(rsa: boolean, spki: Buffer, certId: string): Buffer[] {
    const usage = rsa ? rsaUsage : ecUsage;
    const ski = keyIdentifierOfSpki(spki);
    const id = subjectAltNameValue([{ type: 'uri', value: `urn:uuid:${certId}` }]);
    return [
      extension(Oid.subjectAltName, false, id),
      basic,
      usage,
      ...eku,
      extension(Oid.subjectKeyIdentifier, false, subjectKeyIdentifierValue(ski)),
      akid,
    ];
  }

  async function issue(request: IssueRequest): Promise<IssuedCertificate> {
    const subject = checkRequest(policy, request.csr);
    const spki = request.csr.spki;
    const now = clock();
    const notBefore = new Date(now.getTime() - policy.backdateSeconds * 1000);
    const notAfter = new Date(
      Math.min(now.getTime() + policy.validityDays * 86_400_000, caNotAfter),
    );
    for (let attempt = 1; ; attempt++) {
      const serial = newSerial(random);
      // A fresh id per attempt, so no two records ever share one.
      const certId = newCertificateId(random);
      const fields = {
        issuerName: ca.subject,
        subjectName: encodeName(subject),
        spki,
        notBefore,
        notAfter,
        extensions: extensionsFor(request.csr.keyType === 'rsa', spki, certId),
        signingKey,
      };
      const record: IssuedCertificate = {
        serial: normaliseSerial(serial),
        subject: formatName(subject),
        notBefore,
        notAfter,
        issuedAt: now,
        der: buildCertificate({ ...fields, serial }),
        certId,
      };
      if (request.enrollmentId !== undefined) record.enrollmentId = request.enrollmentId;
      if (request.renewalOf !== undefined) record.renewalOf = normaliseSerial(request.renewalOf);
      try {
        await store.recordIssued(record);
        return record;
      } catch (error) {
        const conflict =
          error instanceof CertificateAuthorityError && error.code === 'ERR_CA_SERIAL_CONFLICT';
        if (!conflict || attempt >= SERIAL_ATTEMPTS) throw error;
      }
    }
  }

  return {
    certificate: material.certificate,
    issuer: signer.certificate,
    intermediates,
    ra: material.ra,
    responder,
    issue,
    checkPolicy(csr) {
      checkRequest(policy, csr);
    },
    async revoke(serial, reason) {
      const found = await store.revoke(normaliseSerial(serial), clock(), reason);
      if (!found) throw new CertificateAuthorityError('ERR_CA_NOT_FOUND', 'no such certificate');
    },
    async isRevoked(serial) {
      if (store.isRevoked !== undefined) return store.isRevoked(normaliseSerial(serial));
      const r = await store.findIssued(normaliseSerial(serial));
      return r?.revokedAt !== undefined;
    },
    findIssuedCertificate: (serial) => store.findIssued(normaliseSerial(serial)),
  };
}

/**
 * The issuing certificate authority: checks a CSR against the policy, allocates a unique serial,
 * writes and signs the certificate, and records it; revocation and lookups for the MDM core.
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { certInfo } from '../../crypto/cert-info.js';
import type { ParsedCsr } from '../../crypto/csr.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  extendedKeyUsageValue,
  extension,
  keyIdentifier,
  keyUsageValue,
} from '../../crypto/extensions.js';
import { encodeName, formatName } from '../../crypto/name.js';
import { Oid } from '../../crypto/oids.js';
import { randomPoolBytes } from '../../crypto/random.js';
import { CertificateAuthorityError } from '../../errors.js';
import { writeCertificate } from './certificate.js';
import { keyIdOfSpki, spkiOfCsr } from './spki.js';
import { checkRequest, resolvePolicy, type IssuancePolicyOptions } from './policy.js';
import { normaliseSerial, type CertificateStore, type IssuedCertificate } from './store.js';

/** A certificate with its private key. */
export interface KeyPairCertificate {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

/** The CA's keys: the issuing certificate and, optionally, an RA that decrypts and signs SCEP. */
export interface CaMaterial extends KeyPairCertificate {
  ra?: KeyPairCertificate;
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
}

/** The issuing CA. */
export interface CertificateAuthority {
  readonly certificate: X509Certificate;
  readonly ra: KeyPairCertificate | undefined;
  /** The pair that decrypts SCEP requests and signs replies: the RA when configured, else the CA. */
  readonly responder: KeyPairCertificate;
  /** Issues and records a certificate. Throws `ERR_CA_POLICY` on refusal, `StorageError` on storage faults. */
  issue(request: IssueRequest): Promise<IssuedCertificate>;
  /** Revokes `serial` (hex); throws `ERR_CA_NOT_FOUND` when this CA never issued it. */
  revoke(serial: string | bigint, reason?: string): Promise<void>;
  /** True when `serial` was issued here and revoked; false when not revoked or unknown. */
  isRevoked(serial: string | bigint): Promise<boolean>;
  /** The record of `serial`, or `undefined`. */
  findIssuedCertificate(serial: string | bigint): Promise<IssuedCertificate | undefined>;
}

const SERIAL_ATTEMPTS = 4;

/** 16 random bytes with the top bit clear and the next set: positive, fixed length, 126 bits. */
function newSerial(random: (size: number) => Buffer): Buffer {
  const bytes = Buffer.from(random(16));
  if (bytes.length !== 16) throw new TypeError('random(16) must return 16 bytes');
  bytes[0] = ((bytes[0] as number) & 0x3f) | 0x40;
  return bytes;
}

/**
 * Creates the issuing CA over `deps.store` with the given policy. Throws `TypeError` when the
 * material's key does not match its certificate or the policy options are unsafe.
 */
export function createCa(
  deps: CaDeps,
  policyOptions: IssuancePolicyOptions = {},
): CertificateAuthority {
  const { material, store } = deps;
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? randomPoolBytes;
  const policy = resolvePolicy(policyOptions);
  const ca = certInfo(material.certificate);
  if (!createPublicKey(material.privateKey).equals(ca.publicKey))
    throw new TypeError('createCa(): the private key does not match the CA certificate');
  const akid = extension(
    Oid.authorityKeyIdentifier,
    false,
    authorityKeyIdentifierValue(ca.subjectKeyId ?? keyIdentifier(ca.publicKey)),
  );
  const basic = extension(Oid.basicConstraints, true, basicConstraintsValue(false));
  const eku = policy.extendedKeyUsage.length
    ? [extension(Oid.extKeyUsage, false, extendedKeyUsageValue(policy.extendedKeyUsage))]
    : [];
  const caNotAfter = new Date(material.certificate.validTo).getTime();
  const rsaUsage = extension(
    Oid.keyUsage,
    true,
    keyUsageValue(['digitalSignature', 'keyEncipherment']),
  );
  const ecUsage = extension(Oid.keyUsage, true, keyUsageValue(['digitalSignature']));

  function extensionsFor(rsa: boolean, spki: Buffer): Buffer[] {
    const usage = rsa ? rsaUsage : ecUsage;
    const ski = keyIdOfSpki(spki);
    return [
      basic,
      usage,
      ...eku,
      extension(
        Oid.subjectKeyIdentifier,
        false,
        Buffer.concat([Buffer.from([4, ski.length]), ski]),
      ),
      akid,
    ];
  }

  async function issue(request: IssueRequest): Promise<IssuedCertificate> {
    const subject = checkRequest(policy, request.csr);
    const spki = spkiOfCsr(request.csr.der);
    const now = clock();
    const notBefore = new Date(now.getTime() - policy.backdateSeconds * 1000);
    const notAfter = new Date(
      Math.min(now.getTime() + policy.validityDays * 86_400_000, caNotAfter),
    );
    const fields = {
      issuerName: ca.subject,
      subjectName: encodeName(subject),
      spki,
      notBefore,
      notAfter,
      extensions: extensionsFor(request.csr.keyType === 'rsa', spki),
      signingKey: material.privateKey,
    };
    for (let attempt = 1; ; attempt++) {
      const serial = newSerial(random);
      const record: IssuedCertificate = {
        serial: normaliseSerial(serial),
        subject: formatName(subject),
        notBefore,
        notAfter,
        issuedAt: now,
        der: writeCertificate({ ...fields, serial }),
      };
      if (request.enrollmentId !== undefined) record.enrollmentId = request.enrollmentId;
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
    ra: material.ra,
    responder: material.ra ?? {
      certificate: material.certificate,
      privateKey: material.privateKey,
    },
    issue,
    async revoke(serial, reason) {
      const found = await store.revoke(normaliseSerial(serial), clock(), reason);
      if (!found) throw new CertificateAuthorityError('ERR_CA_NOT_FOUND', 'no such certificate');
    },
    async isRevoked(serial) {
      const r = await store.findIssued(normaliseSerial(serial));
      return r?.revokedAt !== undefined;
    },
    findIssuedCertificate: (serial) => store.findIssued(normaliseSerial(serial)),
  };
}

/**
 * The storage port of the certificate authority: issued-certificate records, revocation and
 * serial uniqueness. A memory implementation lives here; SQLite is in `./sqlite.ts`.
 */
import { CertificateAuthorityError } from '../../errors.js';

/** One certificate the CA issued. Stores keep serials as {@link normaliseSerial} spells them. */
export interface IssuedCertificate {
  serial: string;
  /** Subject as `CN=...,O=...` in encoded order. */
  subject: string;
  /**
   * What the certificate was issued for, when the challenge named it: an enrollment link
   * (`enrollment-token:<id>` in the daemon) or, for an identity renewal, `renewalTarget(deviceId)`
   * of `withCertAuth`'s module.
   */
  enrollmentId?: string;
  /**
   * A random id (a version 4 UUID: 122 random bits) the certificate carries as the URI
   * `urn:uuid:<certId>` in its subjectAltName. Public, like the certificate: never a secret.
   */
  certId?: string;
  /** Serial of the certificate that signed the RenewalReq this one answered. */
  renewalOf?: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
  /** DER of the certificate. */
  der: Buffer;
  /** Set once revoked. */
  revokedAt?: Date;
  revocationReason?: string;
}

/** Filters of {@link CertificateStore.listIssued}. */
export interface ListIssuedOptions {
  enrollmentId?: string;
  /** Page size; default 100. */
  limit?: number;
  /** Serial to continue after (keyset pagination, serial order). */
  after?: string;
}

/**
 * Where the CA keeps what it issued. `recordIssued` must fail with `ERR_CA_SERIAL_CONFLICT`
 * when the serial exists, atomically, so two issuers can never hand out the same serial.
 */
export interface CertificateStore {
  /** Records an issued certificate; throws `ERR_CA_SERIAL_CONFLICT` on a duplicate serial. */
  recordIssued(record: IssuedCertificate): Promise<void>;
  /** The record of `serial`, or `undefined`. */
  findIssued(serial: string): Promise<IssuedCertificate | undefined>;
  /** Marks `serial` revoked; resolves false when it is unknown, true otherwise (idempotent). */
  revoke(serial: string, at: Date, reason?: string): Promise<boolean>;
  /** Records in serial order. */
  listIssued(options?: ListIssuedOptions): Promise<IssuedCertificate[]>;
  /** Number of issued certificates. */
  countIssued(): Promise<number>;
}

/** Normalises a serial given as hex text, bytes or bigint to lowercase hex without leading zeros. */
export function normaliseSerial(serial: string | bigint | Uint8Array): string {
  let hex: string;
  if (typeof serial === 'bigint') hex = serial.toString(16);
  else if (typeof serial === 'string') hex = serial.trim().toLowerCase().replace(/[:\s]/g, '');
  else hex = Buffer.from(serial).toString('hex');
  if (!/^[0-9a-f]+$/.test(hex)) throw new TypeError(`not a hex serial number: ${String(serial)}`);
  hex = hex.replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

function copy(record: IssuedCertificate): IssuedCertificate {
  return { ...record, der: Buffer.from(record.der) };
}

/** A {@link CertificateStore} in memory, for tests and embedders without a database. */
export function createMemoryCertificateStore(): CertificateStore {
  const records = new Map<string, IssuedCertificate>();
  return {
    recordIssued(given) {
      const record = { ...given, serial: normaliseSerial(given.serial) };
      if (records.has(record.serial)) {
        return Promise.reject(
          new CertificateAuthorityError('ERR_CA_SERIAL_CONFLICT', 'serial number already issued'),
        );
      }
      records.set(record.serial, copy(record));
      return Promise.resolve();
    },
    findIssued(serial) {
      const r = records.get(normaliseSerial(serial));
      return Promise.resolve(r ? copy(r) : undefined);
    },
    revoke(serial, at, reason) {
      const r = records.get(normaliseSerial(serial));
      if (r === undefined) return Promise.resolve(false);
      if (r.revokedAt === undefined) {
        r.revokedAt = at;
        if (reason !== undefined) r.revocationReason = reason;
      }
      return Promise.resolve(true);
    },
    listIssued(options = {}) {
      const limit = options.limit ?? 100;
      const out = [...records.values()]
        .filter(
          (r) => options.enrollmentId === undefined || r.enrollmentId === options.enrollmentId,
        )
        .filter((r) => options.after === undefined || compareSerials(r.serial, options.after) > 0)
        .sort((a, b) => compareSerials(a.serial, b.serial))
        .slice(0, limit)
        .map(copy);
      return Promise.resolve(out);
    },
    countIssued() {
      return Promise.resolve(records.size);
    },
  };
}

/** Orders hex serials numerically (shorter is smaller; equal lengths compare as text). */
export function compareSerials(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The certificate authority's records: serial spelling and order, and a memory implementation of
 * its storage port ({@link CertificateStore}, defined with every port in `storage/ports.ts`; the
 * SQLite one is `storage/sqlite/ca.ts`).
 */
import { CertificateAuthorityError } from '../../errors.js';
import type { CertificateStore, IssuedCertificate } from '../../storage/ports.js';

export type {
  CertificateStore,
  IssuedCertificate,
  ListIssuedOptions,
} from '../../storage/ports.js';

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

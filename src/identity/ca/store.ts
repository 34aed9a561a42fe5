/**
 * The certificate authority's records: serial spelling and order. Its storage port
 * (`CertificateStore`) is defined with every port in `storage/ports.ts`, implemented in
 * `storage/memory/ca.ts` and `storage/sqlite/ca.ts`.
 */

export type {
  CertificateStore,
  IssuedCertificate,
  ListIssuedOptions,
} from '../../storage/ports.js';

const NORMAL = /^(?:0|[1-9a-f][0-9a-f]*)$/;

/** Normalises a serial given as hex text, bytes or bigint to lowercase hex without leading zeros. */
export function normaliseSerial(serial: string | bigint | Uint8Array): string {
  // Already normal (what the CA writes and every store keeps): the common case, on every issue.
  if (typeof serial === 'string' && NORMAL.test(serial)) return serial;
  let hex: string;
  if (typeof serial === 'bigint') hex = serial.toString(16);
  else if (typeof serial === 'string') hex = serial.trim().toLowerCase().replace(/[:\s]/g, '');
  else hex = Buffer.from(serial).toString('hex');
  if (!/^[0-9a-f]+$/.test(hex)) throw new TypeError(`not a hex serial number: ${String(serial)}`);
  hex = hex.replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

/** Orders hex serials numerically (shorter is smaller; equal lengths compare as text). */
export function compareSerials(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

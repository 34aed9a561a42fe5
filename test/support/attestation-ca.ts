/**
 * A TEST device attestation CA shaped like Apple's: a P-384 root ("Apple Enterprise Attestation
 * Root CA" stand-in) → a P-256 intermediate → a leaf for the device's key, with Apple's
 * DevicePropertiesAttestation extensions (serial 1.2.840.113635.100.8.9.1, UDID …8.9.2, sepOS
 * version …8.10.2 and the freshness code …8.11.1 = SHA-256 of the challenge token, each a raw
 * extnValue as Apple writes them). It builds `apple` attestation objects (CBOR) for
 * device-attest-01. Never trusted outside tests: a daemon trusts it only when handed its root.
 *
 *   const ca = await attestationCa();
 *   const attObj = ca.attest({ key, token, serial: 'C02TEST', udid: 'UDID-1' });
 */
import { createHash, createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { AppleAttestationOid } from '../../src/acme/attestation.js';
import { encodeCbor } from '../../src/acme/attestation-cbor.js';
import { createCertificateAuthority, issueCertificate } from '../../src/crypto/index.js';
import { printableString, octetString } from '../../src/crypto/der-write.js';

/** A CA certificate with its key. */
export interface TestCa {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

/** What goes into one attestation. */
export interface AttestOptions {
  /** The device's (hardware-bound) key; its public half is attested. */
  key: KeyObject;
  /** The challenge token; the freshness code is its SHA-256. `freshness` overrides the code. */
  token: string;
  serial?: string | undefined;
  udid?: string | undefined;
  /** Raw freshness code bytes instead of SHA-256(token); `null` leaves the extension out. */
  freshness?: Uint8Array | null;
  /** Leaf validity; default an hour ago to a day ahead. */
  notBefore?: Date;
  notAfter?: Date;
  /** `der` writes values as DER elements (PrintableString, OCTET STRING) instead of raw bytes. */
  encoding?: 'raw' | 'der';
  /** Signs the leaf with this CA instead of the intermediate (e.g. another root). */
  issuer?: TestCa;
  /** Leave the intermediate out of x5c. */
  omitIntermediate?: boolean;
}

/** The test attestation CA. */
export interface AttestationCa {
  root: TestCa;
  intermediate: TestCa;
  /** The leaf certificate for `options` (DER). */
  leaf(options: AttestOptions): Promise<Buffer>;
  /** An `apple` attestation object (CBOR) for `options`. */
  attest(options: AttestOptions): Promise<Buffer>;
}

const HOUR = 3_600_000;

function value(bytes: Buffer, encoding: AttestOptions['encoding'], kind: 'text' | 'octets') {
  if (encoding !== 'der') return bytes;
  return kind === 'text' ? printableString(bytes.toString('latin1')) : octetString(bytes);
}

/** The attestation extensions of a leaf. */
function extensions(o: AttestOptions) {
  const list: { oid: string; value: Uint8Array }[] = [];
  const text = (s: string) => value(Buffer.from(s, 'latin1'), o.encoding, 'text');
  if (o.serial !== undefined)
    list.push({ oid: AppleAttestationOid.serialNumber, value: text(o.serial) });
  if (o.udid !== undefined) list.push({ oid: AppleAttestationOid.udid, value: text(o.udid) });
  list.push({ oid: AppleAttestationOid.sepOsVersion, value: text('23.4') });
  if (o.freshness !== null) {
    const code = o.freshness ?? createHash('sha256').update(o.token, 'utf8').digest();
    list.push({
      oid: AppleAttestationOid.freshnessCode,
      value: value(Buffer.from(code), o.encoding, 'octets'),
    });
  }
  return list;
}

/**
 * Creates a test attestation CA (fresh keys). `validityDays` bounds the root and intermediate.
 */
export async function attestationCa(validityDays = 3650): Promise<AttestationCa> {
  const root = await createCertificateAuthority({
    subject: 'CN=Apple Enterprise Attestation Root CA (TEST),O=Orchard Tests,C=US',
    keyType: 'ec-p384',
    validityDays,
  });
  const intermediate = await createCertificateAuthority({
    subject: 'CN=Enterprise Attestation Sub CA 1 (TEST),O=Orchard Tests,C=US',
    keyType: 'ec-p256',
    validityDays,
    issuer: root,
    pathLength: 0,
  });
  const leaf = async (o: AttestOptions): Promise<Buffer> => {
    const notBefore = o.notBefore ?? new Date(Date.now() - HOUR);
    const cert = await issueCertificate({
      publicKey: o.key.type === 'private' ? createPublicKey(o.key) : o.key,
      subject: `CN=${createHash('sha256').update(o.token).digest('hex').slice(0, 32)}`,
      issuer: o.issuer ?? intermediate,
      notBefore,
      notAfter: o.notAfter ?? new Date(notBefore.getTime() + 25 * HOUR),
      extendedKeyUsage: [],
      keyUsage: ['digitalSignature'],
      extraExtensions: extensions(o),
    });
    return cert.raw;
  };
  return {
    root,
    intermediate,
    leaf,
    async attest(o) {
      const x5c = [await leaf(o)];
      if (o.omitIntermediate !== true && o.issuer === undefined)
        x5c.push(intermediate.certificate.raw);
      return encodeCbor(
        new Map<string, unknown>([
          ['fmt', 'apple'],
          ['attStmt', new Map([['x5c', x5c]])],
          ['authData', Buffer.alloc(37)],
        ]),
      );
    },
  };
}

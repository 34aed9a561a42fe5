/**
 * A throwaway PKI for the APNs mock: a CA, a TLS server certificate for 127.0.0.1 and push
 * certificates whose subject UID is the topic, as Apple issues them. Dates are free so expired
 * and soon-expiring certificates can be made. Also used by bench/push.bench.ts.
 */
import { generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate } from '../../src/crypto/certificate-builder.js';
import {
  basicConstraintsValue,
  extension,
  subjectAltNameValue,
} from '../../src/crypto/extensions.js';
import { encodeName, type NameAttribute } from '../../src/crypto/name.js';
import { Oid } from '../../src/crypto/oids.js';

const DAY = 86_400_000;

/** A certificate and its key, both PEM. */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** The mock's PKI: `ca` signs the server and every push certificate. */
export interface ApnsTestPki {
  ca: PemPair;
  server: PemPair;
  caKey: KeyObject;
}

const CA_NAME = 'CN=Orchard Test APNs CA';
let serial = 1;

function issue(
  ca: KeyObject | undefined,
  subject: string | NameAttribute[],
  opts: { notBefore: Date; notAfter: Date; rsa?: boolean; extensions?: Buffer[] },
): { pair: PemPair; key: KeyObject } {
  const { privateKey, publicKey } =
    opts.rsa === true
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = buildCertificate({
    serial: Buffer.from((serial++).toString(16).padStart(4, '0'), 'hex'),
    issuerName: encodeName(ca === undefined ? subject : CA_NAME),
    subjectName: encodeName(subject),
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    extensions: opts.extensions ?? [],
    signingKey: ca ?? privateKey,
  });
  return {
    pair: {
      certPem: new X509Certificate(der).toString(),
      keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    },
    key: privateKey,
  };
}

/** Creates a CA and a server certificate for `127.0.0.1` / `localhost`. */
export function createApnsTestPki(): Promise<ApnsTestPki> {
  const now = Date.now();
  const ca = issue(undefined, CA_NAME, {
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [extension(Oid.basicConstraints, true, basicConstraintsValue(true))],
  });
  const server = issue(ca.key, 'CN=127.0.0.1', {
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [
      extension(
        Oid.subjectAltName,
        false,
        subjectAltNameValue([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      ),
    ],
  });
  return Promise.resolve({ ca: ca.pair, server: server.pair, caKey: ca.key });
}

/** Options of {@link issuePushCertificate}. */
export interface PushCertOptions {
  topic?: string | undefined;
  /** Validity relative to now, in days; defaults -1 .. +365. */
  fromDays?: number;
  toDays?: number;
  /** RSA 2048 instead of P-256 (what Apple issues). */
  rsa?: boolean;
  now?: number;
}

/** Issues a push certificate with subject `UID=<topic>, CN=APSP:...` signed by the test CA. */
export function issuePushCertificate(
  pki: ApnsTestPki,
  options: PushCertOptions = {},
): Promise<PemPair> {
  const now = options.now ?? Date.now();
  const subject: NameAttribute[] = [];
  if (options.topic !== undefined) subject.push({ type: 'UID', value: options.topic });
  subject.push(
    { type: 'CN', value: `APSP:${options.topic ?? 'none'}` },
    { type: 'C', value: 'US' },
  );
  const issued = issue(pki.caKey, subject, {
    notBefore: new Date(now + (options.fromDays ?? -1) * DAY),
    notAfter: new Date(now + (options.toDays ?? 365) * DAY),
    rsa: options.rsa ?? false,
  });
  return Promise.resolve(issued.pair);
}

/** A fresh topic in Apple's MDM form. */
export function newTopic(): string {
  return `com.apple.mgmt.External.${randomUUID()}`;
}

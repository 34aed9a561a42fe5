/**
 * A throwaway PKI for the APNs mock: a CA, a TLS server certificate for 127.0.0.1 and push
 * certificates whose subject UID is the topic, as Apple issues them. Dates are free so expired
 * and soon-expiring certificates can be made. Also used by bench/push.bench.ts.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const subtle = webcrypto.subtle;
x509.cryptoProvider.set(webcrypto as never);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
const UID = '0.9.2342.19200300.100.1.1';
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
  caKeys: CryptoKeyPair;
}

let serial = 1;

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

async function issue(
  ca: { keys: CryptoKeyPair; name: string } | undefined,
  subject: x509.JsonName | string,
  opts: { notBefore: Date; notAfter: Date; rsa?: boolean; extensions?: x509.Extension[] },
): Promise<{ pair: PemPair; keys: CryptoKeyPair; name: string }> {
  const alg = opts.rsa === true ? RSA : EC;
  const keys = await subtle.generateKey(alg, true, ['sign', 'verify']);
  const name = new x509.Name(subject).toString();
  const signer = ca?.keys ?? keys;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, '0'),
    subject: name,
    issuer: ca?.name ?? name,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey: keys.publicKey as never,
    signingKey: signer.privateKey as never,
    signingAlgorithm: signer.privateKey.algorithm as never,
    extensions: opts.extensions ?? [],
  });
  return {
    pair: { certPem: `${cert.toString('pem').trimEnd()}\n`, keyPem: await keyPem(keys.privateKey) },
    keys,
    name,
  };
}

/** Creates a CA and a server certificate for `127.0.0.1` / `localhost`. */
export async function createApnsTestPki(): Promise<ApnsTestPki> {
  const now = Date.now();
  const ca = await issue(undefined, 'CN=Orchard Test APNs CA', {
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const server = await issue({ keys: ca.keys, name: ca.name }, 'CN=127.0.0.1', {
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  return { ca: ca.pair, server: server.pair, caKeys: ca.keys };
}

/** Options of {@link issuePushCertificate}. */
export interface PushCertOptions {
  topic?: string | undefined;
  /** Validity relative to now, in days; defaults -1 .. +365. */
  fromDays?: number;
  toDays?: number;
  /** RSA 2048 instead of P-256 (what Apple issues; needed for PKCS#12 through node-forge). */
  rsa?: boolean;
  now?: number;
}

/** Issues a push certificate with subject `UID=<topic>, CN=APSP:...` signed by the test CA. */
export async function issuePushCertificate(
  pki: ApnsTestPki,
  options: PushCertOptions = {},
): Promise<PemPair> {
  const now = options.now ?? Date.now();
  const subject: x509.JsonName = [];
  if (options.topic !== undefined) subject.push({ [UID]: [options.topic] });
  subject.push({ CN: [`APSP:${options.topic ?? 'none'}`] }, { C: ['US'] });
  const issued = await issue({ keys: pki.caKeys, name: 'CN=Orchard Test APNs CA' }, subject, {
    notBefore: new Date(now + (options.fromDays ?? -1) * DAY),
    notAfter: new Date(now + (options.toDays ?? 365) * DAY),
    rsa: options.rsa ?? false,
  });
  return issued.pair;
}

/** A fresh topic in Apple's MDM form. */
export function newTopic(): string {
  return `com.apple.mgmt.External.${webcrypto.randomUUID()}`;
}

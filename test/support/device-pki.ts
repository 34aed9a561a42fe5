/**
 * A tiny test PKI for the device emulator: a CA and device identity certificates with real
 * P-256 keys, issued with @peculiar/x509 so tests do not depend on our own certificate code.
 */
import 'reflect-metadata';
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/** A CA that can issue device certificates. */
export interface TestCa {
  certificate: X509Certificate;
  keys: CryptoKeyPair;
  name: string;
}

/** A certificate with its private key. */
export interface TestIdentity {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

let serial = 1;

async function toKeyObject(key: CryptoKey): Promise<KeyObject> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
}

/** Creates a self-signed CA valid from `at - 1 day` for ten years. */
export async function createTestCa(name = 'Orchard Test CA', at = new Date()): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    name: `CN=${name}`,
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + 3650 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: new X509Certificate(Buffer.from(cert.rawData)), keys, name };
}

/** Issues a device identity certificate (P-256) from `ca`, valid for `days` from `at - 1 day`. */
export async function issueDeviceIdentity(
  ca: TestCa,
  subject: string,
  options: { at?: Date; days?: number } = {},
): Promise<TestIdentity> {
  const at = options.at ?? new Date();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject: `CN=${subject}`,
    issuer: `CN=${ca.name}`,
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + (options.days ?? 365) * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return {
    certificate: new X509Certificate(Buffer.from(cert.rawData)),
    privateKey: await toKeyObject(keys.privateKey),
  };
}

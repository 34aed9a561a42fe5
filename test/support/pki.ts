/**
 * Test PKI built with Orchard's own crypto core: CAs and leaf identities with real keys, each
 * returned with PEM text for the openssl CLI. `testPki()` memoises one set per test worker, so
 * suites share keys instead of generating RSA keys again.
 *
 *   const pki = await testPki();
 *   signCms(body, { certificate: pki.rsaLeaf.certificate, privateKey: pki.rsaLeaf.privateKey });
 *   const leaf = await makeLeaf(pki.rsaCa, { subject: 'CN=other', keyType: 'ec-p256' });
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import {
  createCertificateAuthority,
  generateKeyPairOf,
  issueCertificate,
  privateKeyToPem,
  type KeyType,
  type KeyUsage,
} from '../../src/crypto/index.js';

/** A certificate with its private key, as objects and as PEM. */
export interface TestIdentity {
  certificate: X509Certificate;
  privateKey: KeyObject;
  certPem: string;
  keyPem: string;
}

/** Options of {@link makeCa}. */
export interface MakeCaOptions {
  subject?: string;
  /** Default `rsa-2048` (fast). */
  keyType?: KeyType;
  now?: Date;
  validityDays?: number;
  /** Makes an intermediate signed by this CA. */
  issuer?: TestIdentity;
}

/** Options of {@link makeLeaf}. */
export interface MakeLeafOptions {
  subject?: string;
  /** Default `rsa-2048`. */
  keyType?: KeyType;
  /** Reuse this key instead of generating one. */
  privateKey?: KeyObject;
  notBefore?: Date;
  notAfter?: Date;
  extendedKeyUsage?: string[];
  keyUsage?: KeyUsage[];
  serialNumber?: bigint;
}

function identity(certificate: X509Certificate, privateKey: KeyObject): TestIdentity {
  return {
    certificate,
    privateKey,
    certPem: certificate.toString(),
    keyPem: privateKeyToPem(privateKey),
  };
}

/** Creates a CA (self-signed, or an intermediate when `issuer` is given). */
export async function makeCa(options: MakeCaOptions = {}): Promise<TestIdentity> {
  const ca = await createCertificateAuthority({
    subject: options.subject ?? 'CN=Orchard Test CA,O=Orchard',
    keyType: options.keyType ?? 'rsa-2048',
    ...(options.now ? { now: options.now } : {}),
    ...(options.validityDays === undefined ? {} : { validityDays: options.validityDays }),
    ...(options.issuer ? { issuer: options.issuer } : {}),
  });
  return identity(ca.certificate, ca.privateKey);
}

/** Issues a leaf identity from `ca` (clientAuth, digitalSignature/keyEncipherment by default). */
export async function makeLeaf(
  ca: TestIdentity,
  options: MakeLeafOptions = {},
): Promise<TestIdentity> {
  const privateKey =
    options.privateKey ?? (await generateKeyPairOf(options.keyType ?? 'rsa-2048')).privateKey;
  const certificate = await issueCertificate({
    publicKey: createPublicKey(privateKey),
    subject: options.subject ?? 'CN=Orchard Test Device',
    issuer: { certificate: ca.certificate, privateKey: ca.privateKey },
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
    ...(options.notAfter ? { notAfter: options.notAfter } : {}),
    ...(options.extendedKeyUsage ? { extendedKeyUsage: options.extendedKeyUsage } : {}),
    ...(options.keyUsage ? { keyUsage: options.keyUsage } : {}),
    ...(options.serialNumber === undefined ? {} : { serialNumber: options.serialNumber }),
  });
  return identity(certificate, privateKey);
}

/** The shared set: RSA and EC roots, an intermediate, and leaves under each. */
export interface TestPki {
  rsaCa: TestIdentity;
  ecCa: TestIdentity;
  intermediate: TestIdentity;
  rsaLeaf: TestIdentity;
  ecLeaf: TestIdentity;
  p384Leaf: TestIdentity;
  /** Issued by `intermediate`. */
  chainedLeaf: TestIdentity;
  /** A self-signed identity that chains to nothing. */
  stranger: TestIdentity;
}

let shared: Promise<TestPki> | undefined;

async function build(): Promise<TestPki> {
  const [rsaCa, ecCa, stranger] = await Promise.all([
    makeCa({ subject: 'CN=Orchard Test RSA Root,O=Orchard' }),
    makeCa({ subject: 'CN=Orchard Test EC Root,O=Orchard', keyType: 'ec-p256' }),
    makeCa({ subject: 'CN=Stranger,O=Elsewhere' }),
  ]);
  const intermediate = await makeCa({
    subject: 'CN=Orchard Test Intermediate,O=Orchard',
    issuer: rsaCa,
    keyType: 'ec-p384',
  });
  const [rsaLeaf, ecLeaf, p384Leaf, chainedLeaf] = await Promise.all([
    makeLeaf(rsaCa, { subject: 'CN=rsa-device,O=Orchard' }),
    makeLeaf(ecCa, { subject: 'CN=ec-device,O=Orchard', keyType: 'ec-p256' }),
    makeLeaf(ecCa, { subject: 'CN=p384-device,O=Orchard', keyType: 'ec-p384' }),
    makeLeaf(intermediate, { subject: 'CN=chained-device,O=Orchard' }),
  ]);
  return { rsaCa, ecCa, intermediate, rsaLeaf, ecLeaf, p384Leaf, chainedLeaf, stranger };
}

/** The memoised shared test PKI (built once per worker, about a second). */
export function testPki(): Promise<TestPki> {
  shared ??= build();
  return shared;
}

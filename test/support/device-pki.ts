/**
 * A tiny test PKI for the device emulator: a CA and device identity certificates with real
 * P-256 keys, written with the crypto core's one certificate builder (whose output the openssl
 * and pkijs tests in test/crypto check independently).
 */
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate } from '../../src/crypto/certificate-builder.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  extension,
  keyIdentifier,
  keyUsageValue,
  subjectKeyIdentifierValue,
} from '../../src/crypto/extensions.js';
import { encodeName } from '../../src/crypto/name.js';
import { Oid } from '../../src/crypto/oids.js';

const DAY = 86_400_000;

/** A CA that can issue device certificates. */
export interface TestCa {
  certificate: X509Certificate;
  privateKey: KeyObject;
  name: string;
}

/** A certificate with its private key. */
export interface TestIdentity {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

let serial = 1;

/** The next serial, as big-endian bytes. */
function nextSerial(): Buffer {
  const hex = (serial++).toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

function p256(): { privateKey: KeyObject; spki: Buffer; keyId: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    keyId: keyIdentifier(publicKey),
  };
}

/** Creates a self-signed CA valid from `at - 1 day` for ten years (or `options.days`). */
export function createTestCa(
  name = 'Orchard Test CA',
  at = new Date(),
  options: { days?: number } = {},
): Promise<TestCa> {
  const key = p256();
  const subject = encodeName(`CN=${name}`);
  const der = buildCertificate({
    serial: nextSerial(),
    issuerName: subject,
    subjectName: subject,
    spki: key.spki,
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + (options.days ?? 3650) * DAY),
    extensions: [
      extension(Oid.basicConstraints, true, basicConstraintsValue(true)),
      extension(Oid.keyUsage, true, keyUsageValue(['keyCertSign', 'cRLSign'])),
      extension(Oid.subjectKeyIdentifier, false, subjectKeyIdentifierValue(key.keyId)),
    ],
    signingKey: key.privateKey,
  });
  return Promise.resolve({
    certificate: new X509Certificate(der),
    privateKey: key.privateKey,
    name,
  });
}

/** Issues a device identity certificate (P-256) from `ca`, valid for `days` from `at - 1 day`. */
export function issueDeviceIdentity(
  ca: TestCa,
  subject: string,
  options: { at?: Date; days?: number } = {},
): Promise<TestIdentity> {
  const at = options.at ?? new Date();
  const key = p256();
  const der = buildCertificate({
    serial: nextSerial(),
    issuerName: encodeName(`CN=${ca.name}`),
    subjectName: encodeName(`CN=${subject}`),
    spki: key.spki,
    notBefore: new Date(at.getTime() - DAY),
    notAfter: new Date(at.getTime() + (options.days ?? 365) * DAY),
    extensions: [
      extension(Oid.basicConstraints, true, basicConstraintsValue(false)),
      extension(Oid.keyUsage, true, keyUsageValue(['digitalSignature'])),
      extension(
        Oid.authorityKeyIdentifier,
        false,
        authorityKeyIdentifierValue(keyIdentifier(createPublicKey(ca.privateKey))),
      ),
    ],
    signingKey: ca.privateKey,
  });
  return Promise.resolve({ certificate: new X509Certificate(der), privateKey: key.privateKey });
}

/**
 * PKCS#12 import through node-forge (the one place forge is used: node:crypto has no PKCS#12
 * reader), handing back node objects: the key as `KeyObject`, the certificate whose public key
 * matches it, and the other certificates as its chain. EC keys and certificates pass through as
 * raw DER.
 */
import type Forge from 'node-forge';
import { createPublicKey, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { CryptoError } from '../errors.js';

let loaded: typeof Forge | undefined;

/**
 * node-forge, loaded on the first PKCS#12 read: a daemon reads one only when an operator gives it
 * a push certificate as .p12, and forge costs about 1.3 MB of heap once loaded.
 */
function forge(): typeof Forge {
  loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge;
  return loaded;
}

/** The contents of a PKCS#12 file. */
export interface Pkcs12Contents {
  certificate: X509Certificate;
  privateKey: KeyObject;
  chain: X509Certificate[];
}

interface Bag {
  key?: Forge.pki.PrivateKey | null;
  cert?: Forge.pki.Certificate | null;
  asn1?: Forge.asn1.Asn1;
}

function pkcs12Error(message: string, cause?: unknown): CryptoError {
  return new CryptoError('ERR_PKCS12', message, cause === undefined ? {} : { cause });
}

function derOf(asn1: Forge.asn1.Asn1): Buffer {
  return Buffer.from(forge().asn1.toDer(asn1).getBytes(), 'binary');
}

function bagsOf(p12: Forge.pkcs12.Pkcs12Pfx, type: string): Bag[] {
  return (p12.getBags({ bagType: type })[type] ?? []) as Bag[];
}

function keyOf(p12: Forge.pkcs12.Pkcs12Pfx): KeyObject {
  const bags = [
    ...bagsOf(p12, forge().pki.oids.pkcs8ShroudedKeyBag ?? ''),
    ...bagsOf(p12, forge().pki.oids.keyBag ?? ''),
  ];
  const bag = bags[0];
  if (bag === undefined) throw pkcs12Error('no private key in the PKCS#12 file');
  if (bags.length > 1) throw pkcs12Error('more than one private key in the PKCS#12 file');
  const info = bag.key
    ? forge().pki.wrapRsaPrivateKey(forge().pki.privateKeyToAsn1(bag.key))
    : bag.asn1;
  if (info === undefined) throw pkcs12Error('unreadable private key');
  return createPrivateKey({ key: derOf(info), format: 'der', type: 'pkcs8' });
}

function certificatesOf(p12: Forge.pkcs12.Pkcs12Pfx): X509Certificate[] {
  return bagsOf(p12, forge().pki.oids.certBag ?? '').map((bag) => {
    const asn1 = bag.cert ? forge().pki.certificateToAsn1(bag.cert) : bag.asn1;
    if (asn1 === undefined) throw pkcs12Error('unreadable certificate');
    return new X509Certificate(derOf(asn1));
  });
}

/** The key and certificates of a PKCS#12 file, as stored (see {@link readPkcs12}). */
export interface Pkcs12Bags {
  privateKey: KeyObject;
  /** Every certificate, in file order. */
  certificates: X509Certificate[];
}

/**
 * Reads the one private key and every certificate of a PKCS#12 (.p12/.pfx) file, without
 * pairing them. Throws `ERR_PKCS12` on a wrong password (the cause says `Invalid password`), no
 * key or more than one, or malformed input.
 */
export function readPkcs12(data: Uint8Array, password: string): Pkcs12Bags {
  try {
    const asn1 = forge().asn1.fromDer(
      forge().util.createBuffer(Buffer.from(data).toString('binary')),
    );
    const p12 = forge().pkcs12.pkcs12FromAsn1(asn1, true, password);
    return { privateKey: keyOf(p12), certificates: certificatesOf(p12) };
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw pkcs12Error('could not read the PKCS#12 file (wrong password or malformed)', cause);
  }
}

/**
 * Reads a PKCS#12 (.p12/.pfx) file. Returns the certificate matching the private key, the key,
 * and the remaining certificates as `chain`. Throws `ERR_PKCS12` on a wrong password, a missing
 * key or certificate, or malformed input.
 */
export function importPkcs12(data: Uint8Array, password: string): Pkcs12Contents {
  const { privateKey, certificates } = readPkcs12(data, password);
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const index = certificates.findIndex((c) =>
    c.publicKey.export({ format: 'der', type: 'spki' }).equals(spki),
  );
  const certificate = certificates[index];
  if (certificate === undefined) throw pkcs12Error('no certificate matches the private key');
  return { certificate, privateKey, chain: certificates.filter((_, i) => i !== index) };
}

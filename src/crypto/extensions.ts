/**
 * DER values of the X.509 extensions Orchard issues (RFC 5280 §4.2): basic constraints, key
 * usage, extended key usage, key identifiers, subject alternative names.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { children, contentOf, readDer, Tag } from './der.js';
import {
  contextConstructed,
  contextPrimitive,
  integer,
  octetString,
  oid,
  sequence,
  tlv,
} from './der-write.js';

/** Key usage bits Orchard sets. */
export type KeyUsage =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

/** One subject alternative name. */
export interface SubjectAltName {
  type: 'dns' | 'email' | 'uri' | 'ip';
  value: string;
}

/** An extension to add verbatim: `value` is the DER inside the extnValue OCTET STRING. */
export interface RawExtension {
  oid: string;
  critical?: boolean;
  value: Uint8Array;
}

const keyUsageBits: Record<KeyUsage, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
};

/** KeyUsage BIT STRING (DER: trailing zero bits dropped). Throws `TypeError` on unknown names. */
export function keyUsageValue(usages: readonly KeyUsage[]): Buffer {
  let byte = 0;
  let highest = -1;
  for (const u of usages) {
    const bit = keyUsageBits[u] as number | undefined;
    if (bit === undefined) throw new TypeError(`unknown key usage ${u as string}`);
    byte |= 0x80 >> bit;
    highest = Math.max(highest, bit);
  }
  if (highest < 0) throw new TypeError('key usage needs at least one bit');
  return tlv(0x03, Buffer.from([7 - highest, byte]));
}

/** BasicConstraints value. */
export function basicConstraintsValue(ca: boolean, pathLength?: number): Buffer {
  if (!ca) return sequence();
  return pathLength === undefined
    ? sequence(Buffer.from([0x01, 0x01, 0xff]))
    : sequence(Buffer.from([0x01, 0x01, 0xff]), integer(pathLength));
}

/** ExtKeyUsageSyntax value from dotted OIDs. */
export function extendedKeyUsageValue(oids: readonly string[]): Buffer {
  return sequence(...oids.map((o) => oid(o)));
}

/** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return keyIdentifierOfSpki(publicKey.export({ format: 'der', type: 'spki' }));
}

/**
 * {@link keyIdentifier} of a DER SubjectPublicKeyInfo, so an issuer never needs a `KeyObject`
 * for it. Throws `TypeError` when `spki` is not one.
 */
export function keyIdentifierOfSpki(spki: Uint8Array): Buffer {
  const bits = children(readDer(spki))[1];
  if (bits?.tag !== Tag.BIT_STRING)
    throw new TypeError('keyIdentifier(): not a SubjectPublicKeyInfo');
  return createHash('sha1').update(contentOf(bits).subarray(1)).digest();
}

/** SubjectKeyIdentifier value: the key identifier as an OCTET STRING. */
export function subjectKeyIdentifierValue(keyId: Uint8Array): Buffer {
  return octetString(keyId);
}

/** AuthorityKeyIdentifier value holding only the key identifier. */
export function authorityKeyIdentifierValue(keyId: Uint8Array): Buffer {
  return sequence(contextPrimitive(0, keyId));
}

/** SubjectAltName value. Throws `TypeError` on a bad IP address. */
export function subjectAltNameValue(names: readonly SubjectAltName[]): Buffer {
  return sequence(
    ...names.map((n) => {
      switch (n.type) {
        case 'email':
          return contextPrimitive(1, Buffer.from(n.value, 'latin1'));
        case 'dns':
          return contextPrimitive(2, Buffer.from(n.value, 'latin1'));
        case 'uri':
          return contextPrimitive(6, Buffer.from(n.value, 'latin1'));
        case 'ip':
          return contextPrimitive(7, ipBytes(n.value));
        default:
          throw new TypeError(`unknown subject alternative name type ${String(n.type)}`);
      }
    }),
  );
}

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v !== 6) throw new TypeError(`bad IP address ${ip}`);
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Wraps an extension value as a complete Extension element. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? sequence(oid(id), Buffer.from([0x01, 0x01, 0xff]), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** `[0]` helper re-exported for CSR attributes. */
export const explicit0 = (content: Uint8Array): Buffer => contextConstructed(0, content);

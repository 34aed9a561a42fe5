/**
 * Object identifiers used by Orchard's CMS and X.509 code, and a cached OID codec.
 */
import { CryptoError } from '../errors.js';

/** Well-known object identifiers (dotted form). */
export const Oid = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  challengePassword: '1.2.840.113549.1.9.7',
  extensionRequest: '1.2.840.113549.1.9.14',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  desEde3Cbc: '1.2.840.113549.3.7',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  userId: '0.9.2342.19200300.100.1.1',
} as const;

/** Digest names Orchard signs and verifies with. */
export type DigestName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** Digest algorithm OID → node digest name. */
export const digestByOid: ReadonlyMap<string, DigestName> = new Map([
  [Oid.sha1, 'sha1'],
  [Oid.sha256, 'sha256'],
  [Oid.sha384, 'sha384'],
  [Oid.sha512, 'sha512'],
]);

/** Node digest name → digest algorithm OID. */
export const oidByDigest: Readonly<Record<DigestName, string>> = {
  sha1: Oid.sha1,
  sha256: Oid.sha256,
  sha384: Oid.sha384,
  sha512: Oid.sha512,
};

/** Signature algorithm OID → implied digest (undefined for rsaEncryption / ecPublicKey). */
export const signatureAlgorithms: ReadonlyMap<string, { key: 'rsa' | 'ec'; digest?: DigestName }> =
  new Map([
    [Oid.rsaEncryption, { key: 'rsa' }],
    [Oid.sha1WithRsa, { key: 'rsa', digest: 'sha1' }],
    [Oid.sha256WithRsa, { key: 'rsa', digest: 'sha256' }],
    [Oid.sha384WithRsa, { key: 'rsa', digest: 'sha384' }],
    [Oid.sha512WithRsa, { key: 'rsa', digest: 'sha512' }],
    [Oid.ecPublicKey, { key: 'ec' }],
    [Oid.ecdsaWithSha1, { key: 'ec', digest: 'sha1' }],
    [Oid.ecdsaWithSha256, { key: 'ec', digest: 'sha256' }],
    [Oid.ecdsaWithSha384, { key: 'ec', digest: 'sha384' }],
    [Oid.ecdsaWithSha512, { key: 'ec', digest: 'sha512' }],
  ]);

/** Short attribute-type names used in distinguished names. */
export const nameTypes: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'street'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'title'],
  ['2.5.4.42', 'GN'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['1.2.840.113549.1.9.1', 'E'],
]);

const encodeCache = new Map<string, Buffer>();
const decodeCache = new Map<string, string>();
const CACHE_LIMIT = 512;

/** Encodes a dotted OID as a complete DER element (cached; treat the result as read-only). */
export function encodeOid(dotted: string): Buffer {
  const hit = encodeCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new TypeError(`encodeOid(): bad OID ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || (arcs[0] as bigint) > 2n)
    throw new TypeError(`encodeOid(): bad OID ${dotted}`);
  const body: number[] = [];
  const first = (arcs[0] as bigint) * 40n + (arcs[1] as bigint);
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    let v = arc >> 7n;
    while (v > 0n) {
      chunk.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    body.push(...chunk);
  }
  const out = Buffer.from([0x06, body.length, ...body]);
  if (encodeCache.size < CACHE_LIMIT) encodeCache.set(dotted, out);
  return out;
}

/** Decodes OID content octets to dotted text (cached). Throws `ERR_DER` on malformed content. */
export function decodeOid(content: Uint8Array): string {
  const key = Buffer.from(content.buffer, content.byteOffset, content.length).toString('latin1');
  const hit = decodeCache.get(key);
  if (hit !== undefined) return hit;
  if (
    content.length === 0 ||
    content.length > 64 ||
    ((content[content.length - 1] as number) & 0x80) !== 0
  ) {
    throw new CryptoError('ERR_DER', 'malformed object identifier');
  }
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of content) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs[0] as bigint;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  const dotted = [...head, ...arcs.slice(1)].join('.');
  if (decodeCache.size < CACHE_LIMIT) decodeCache.set(key, dotted);
  return dotted;
}

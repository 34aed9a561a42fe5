/**
 * The CertRep writer of a responder: the parts of a signed CertRep that never change for one
 * responder and digest (the certificate set, the signer's name and serial, the algorithm
 * identifiers, the constant attributes) are encoded once; each reply only encodes its
 * transaction ID, nonces, time and digest, signs, and writes the message into one buffer. Its
 * output is byte for byte what `writePkiMessage` writes (a property test holds it to that).
 */
import { createHash, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { certInfo } from '../../crypto/cert-info.js';
import {
  algorithm,
  integer,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  setOf,
  time,
  tlv,
} from '../../crypto/der-write.js';
import { Oid, oidByDigest, type DigestName } from '../../crypto/oids.js';
import { randomPoolBytes } from '../../crypto/random.js';
import { FailInfo, MessageType, PkiStatus, ScepOid } from './constants.js';
import type { FailInfoName } from './constants.js';

/** The fields of one CertRep. */
export interface CertRepFields {
  transactionId: string;
  recipientNonce?: Uint8Array;
  /** Default: 16 random bytes. */
  senderNonce?: Uint8Array;
  pkiStatus: 'SUCCESS' | 'FAILURE' | 'PENDING';
  failInfo?: FailInfoName;
  /** The EnvelopedData of a SUCCESS; empty otherwise. */
  content: Uint8Array;
  digest: DigestName;
  signingTime: Date;
}

/** Writes and signs a CertRep (DER ContentInfo). */
export type CertRepWriter = (fields: CertRepFields) => Buffer;

const attribute = (type: string, value: Uint8Array): Buffer => sequence(oid(type), setOf(value));

/** Attributes whose encoding is the same in every CertRep. */
const CONTENT_TYPE = attribute(Oid.contentType, oid(Oid.data));
const MESSAGE_TYPE = attribute(ScepOid.messageType, printableString(String(MessageType.CertRep)));
const STATUS = Object.fromEntries(
  Object.entries(PkiStatus).map(([k, v]) => [
    k,
    attribute(ScepOid.pkiStatus, printableString(String(v))),
  ]),
) as Record<keyof typeof PkiStatus, Buffer>;
const FAIL_INFO = Object.fromEntries(
  Object.entries(FailInfo).map(([k, v]) => [
    k,
    attribute(ScepOid.failInfo, printableString(String(v))),
  ]),
) as Record<FailInfoName, Buffer>;
const VERSION_1 = integer(1);
const SIGNED_DATA = oid(Oid.signedData);
const DATA = oid(Oid.data);
const RSA_ALGORITHM = algorithm(Oid.rsaEncryption, nullValue());

function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  return length < 0x10000 ? 4 : 5;
}

/** Writes an identifier octet and a length at `pos`; returns the position after them. */
function putHeader(out: Buffer, pos: number, tag: number, length: number): number {
  out[pos++] = tag;
  if (length < 0x80) out[pos++] = length;
  else {
    const n = headerLength(length) - 2;
    out[pos++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) out[pos++] = (length >>> (8 * i)) & 0xff;
  }
  return pos;
}

const sized = (content: number): number => headerLength(content) + content;

/** Concatenates `parts` into `out` at `pos`; returns the position after them. */
function put(out: Buffer, pos: number, ...parts: Uint8Array[]): number {
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return pos;
}

/**
 * The CertRep writer for an RSA responder, or `undefined` for another key type (the caller then
 * writes with `writePkiMessage`). Per digest, the fixed parts are encoded on first use.
 */
export function createCertRepWriter(
  certificate: X509Certificate,
  privateKey: KeyObject,
): CertRepWriter | undefined {
  if (privateKey.asymmetricKeyType !== 'rsa') return undefined;
  const info = certInfo(certificate);
  const certs = tlv(0xa0, info.der);
  const sid = sequence(info.issuer, tlv(0x02, info.serial));
  const digestAlgorithms = new Map<DigestName, { alg: Buffer; set: Buffer }>();
  const algorithmsOf = (digest: DigestName): { alg: Buffer; set: Buffer } => {
    let a = digestAlgorithms.get(digest);
    if (a === undefined) {
      const alg = algorithm(oidByDigest[digest]);
      a = { alg, set: setOf(alg) };
      digestAlgorithms.set(digest, a);
    }
    return a;
  };

  return (f) => {
    const digest = createHash(f.digest).update(f.content).digest();
    const attrs = [
      CONTENT_TYPE,
      attribute(Oid.messageDigest, octetString(digest)),
      attribute(Oid.signingTime, time(f.signingTime)),
      MESSAGE_TYPE,
      attribute(ScepOid.transactionId, printableString(f.transactionId)),
      attribute(ScepOid.senderNonce, octetString(f.senderNonce ?? randomPoolBytes(16))),
    ];
    if (f.recipientNonce !== undefined)
      attrs.push(attribute(ScepOid.recipientNonce, octetString(f.recipientNonce)));
    attrs.push(STATUS[f.pkiStatus]);
    if (f.failInfo !== undefined) attrs.push(FAIL_INFO[f.failInfo]);
    const set = setOf(...attrs);
    const signature = sign(f.digest, set, privateKey);
    set[0] = 0xa0;
    const { alg, set: algSet } = algorithmsOf(f.digest);
    // Content lengths from the inside out, then one buffer written from the outside in.
    const siContent =
      VERSION_1.length + sid.length + alg.length + set.length + RSA_ALGORITHM.length;
    const siAll = siContent + sized(signature.length);
    const octets = sized(f.content.length);
    const encap = DATA.length + sized(octets);
    const sd = VERSION_1.length + algSet.length + sized(encap) + certs.length + sized(sized(siAll));
    const ci = SIGNED_DATA.length + sized(sized(sd));
    const out = Buffer.allocUnsafe(sized(ci));
    let pos = putHeader(out, 0, 0x30, ci);
    pos = put(out, pos, SIGNED_DATA);
    pos = putHeader(out, pos, 0xa0, sized(sd));
    pos = putHeader(out, pos, 0x30, sd);
    pos = put(out, pos, VERSION_1, algSet);
    pos = putHeader(out, pos, 0x30, encap);
    pos = put(out, pos, DATA);
    pos = putHeader(out, pos, 0xa0, octets);
    pos = putHeader(out, pos, 0x04, f.content.length);
    pos = put(out, pos, f.content, certs);
    pos = putHeader(out, pos, 0x31, sized(siAll));
    pos = putHeader(out, pos, 0x30, siAll);
    pos = put(out, pos, VERSION_1, sid, alg, set, RSA_ALGORITHM);
    pos = putHeader(out, pos, 0x04, signature.length);
    put(out, pos, signature);
    return out;
  };
}

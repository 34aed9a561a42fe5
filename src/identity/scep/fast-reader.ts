/**
 * An offset-based reader for the one pkiMessage shape SCEP clients send: a definite-length DER
 * ContentInfo with one SignedData, one signer named by issuer and serial, signed attributes and
 * the content inside. It finds the fields by walking offsets (no element tree, no attribute
 * objects, OIDs compared as bytes) and verifies the signature as `verifyParsedCms` does. It only
 * ever answers for a message that reads and verifies completely; anything else (BER, another
 * shape, a duplicate or malformed attribute, a bad signature) is `undefined`, and the caller
 * reads the message with the full parser, which gives the error. A property test holds it to the
 * full parser's result.
 */
import { createHash, timingSafeEqual, verify } from 'node:crypto';
import { uncachedCertInfo, type CertInfo } from '../../crypto/cert-info.js';
import { timeValue, type Tlv } from '../../crypto/der.js';
import {
  decodeOid,
  digestByOid,
  encodeOid,
  Oid,
  signatureAlgorithms,
  type DigestName,
} from '../../crypto/oids.js';
import { ScepOid } from './constants.js';
import { Cursor, UNUSUAL } from './der-cursor.js';

/** What the fast reader found; the caller turns it into a `PkiMessage`. */
export interface FastPkiMessage {
  messageType: number;
  transactionId: string;
  senderNonce: Buffer | undefined;
  recipientNonce: Buffer | undefined;
  signingTime: Date | undefined;
  digest: DigestName;
  signerInfo: CertInfo;
  content: Buffer;
}

/** The content octets of an OID element, as a latin1 string (a cheap map key). */
const oidKey = (dotted: string): string => encodeOid(dotted).subarray(2).toString('latin1');

const enum Attr {
  contentType,
  messageDigest,
  signingTime,
  messageType,
  transactionId,
  senderNonce,
  recipientNonce,
  /** pkiStatus and failInfo: a request carries neither; a reply is left to the full parser. */
  reply,
}

const ATTRIBUTES: ReadonlyMap<string, Attr> = new Map([
  [oidKey(Oid.contentType), Attr.contentType],
  [oidKey(Oid.messageDigest), Attr.messageDigest],
  [oidKey(Oid.signingTime), Attr.signingTime],
  [oidKey(ScepOid.messageType), Attr.messageType],
  [oidKey(ScepOid.transactionId), Attr.transactionId],
  [oidKey(ScepOid.senderNonce), Attr.senderNonce],
  [oidKey(ScepOid.recipientNonce), Attr.recipientNonce],
  [oidKey(ScepOid.pkiStatus), Attr.reply],
  [oidKey(ScepOid.failInfo), Attr.reply],
]);

const SIGNED_DATA = encodeOid(Oid.signedData);
const DATA = encodeOid(Oid.data);
const MAX_TRANSACTION_ID = 256;

/** The OID of an AlgorithmIdentifier (its parameters may be anything). */
function algorithmOid(c: Cursor): string {
  const alg = c.next(0x30).inner();
  const oid = alg.next(0x06);
  const id = decodeOid(oid.content());
  while (!alg.done) alg.skip();
  return id;
}

/** The one value of an attribute's SET, as a cursor positioned on it. */
function onlyValue(set: Cursor): Cursor {
  const values = set.inner();
  const first = values.pos;
  values.skip();
  if (!values.done) throw UNUSUAL;
  values.pos = first;
  return values;
}

function printable(c: Cursor): string {
  c.next(0x13);
  if (!c.done) throw UNUSUAL;
  return c.buf.toString('utf8', c.start, c.end);
}

function octets(c: Cursor): Buffer {
  const v = c.next(0x04).content();
  if (!c.done) throw UNUSUAL;
  return v;
}

interface Attributes {
  contentType?: Buffer;
  messageDigest?: Buffer;
  signingTime?: Date;
  messageType?: string;
  transactionId?: string;
  senderNonce?: Buffer;
  recipientNonce?: Buffer;
}

/** Reads one known attribute's single value into `out`; a second occurrence is unusual. */
function readAttribute(kind: Attr, value: Cursor, out: Attributes): void {
  switch (kind) {
    case Attr.contentType:
      if (out.contentType !== undefined) throw UNUSUAL;
      out.contentType = value.next(0x06).content();
      if (!value.done) throw UNUSUAL;
      return;
    case Attr.messageDigest:
      if (out.messageDigest !== undefined) throw UNUSUAL;
      out.messageDigest = octets(value);
      return;
    case Attr.signingTime: {
      if (out.signingTime !== undefined) throw UNUSUAL;
      const tag = value.peek();
      if (tag !== 0x17 && tag !== 0x18) throw UNUSUAL;
      const start = value.pos;
      value.next(tag);
      if (!value.done) throw UNUSUAL;
      const tlv: Tlv = {
        buf: value.buf,
        tag,
        tagNumber: tag,
        constructed: false,
        start,
        contentStart: value.start,
        contentEnd: value.end,
        end: value.end,
        indefinite: false,
        depth: 0,
      };
      out.signingTime = timeValue(tlv);
      return;
    }
    case Attr.messageType:
      if (out.messageType !== undefined) throw UNUSUAL;
      out.messageType = printable(value);
      return;
    case Attr.transactionId:
      if (out.transactionId !== undefined) throw UNUSUAL;
      out.transactionId = printable(value);
      return;
    case Attr.senderNonce:
      if (out.senderNonce !== undefined) throw UNUSUAL;
      out.senderNonce = octets(value);
      return;
    case Attr.recipientNonce:
      if (out.recipientNonce !== undefined) throw UNUSUAL;
      out.recipientNonce = octets(value);
      return;
    default:
      throw UNUSUAL;
  }
}

/** A well-formed OID content, as `decodeOid` requires (unknown attributes are not decoded). */
function checkOidContent(c: Cursor): void {
  const n = c.end - c.start;
  if (n === 0 || n > 64 || ((c.buf[c.end - 1] as number) & 0x80) !== 0) throw UNUSUAL;
}

function readAttributes(attrs: Cursor): Attributes {
  const out: Attributes = {};
  while (!attrs.done) {
    const attr = attrs.next(0x30).inner();
    attr.next(0x06);
    checkOidContent(attr);
    const kind = ATTRIBUTES.get(attr.buf.toString('latin1', attr.start, attr.end));
    attr.next(0x31);
    if (!attr.done) throw UNUSUAL;
    if (kind === undefined) {
      const values = attr.inner();
      while (!values.done) values.skip();
    } else readAttribute(kind, onlyValue(attr), out);
  }
  return out;
}

interface SignerFields {
  issuer: Buffer;
  serial: Buffer;
  digestOid: string;
  attributes: Attributes;
  /** The signed attributes as the signature covers them (re-tagged SET, a copy). */
  signedAttributes: Buffer;
  signatureOid: string;
  signature: Buffer;
}

function readSignerInfo(c: Cursor): SignerFields {
  const si = c.next(0x30).inner();
  si.next(0x02);
  if (si.end - si.start !== 1 || si.buf[si.start] !== 1) throw UNUSUAL;
  const sid = si.next(0x30).inner();
  const issuerStart = sid.pos;
  const issuer = sid.next(0x30).element(issuerStart);
  const serial = sid.next(0x02).content();
  if (!sid.done) throw UNUSUAL;
  const digestOid = algorithmOid(si);
  const attrsStart = si.pos;
  si.next(0xa0);
  const attributes = readAttributes(si.inner());
  const signedAttributes = Buffer.from(si.element(attrsStart));
  signedAttributes[0] = 0x31;
  const signatureOid = algorithmOid(si);
  const signature = si.next(0x04).content();
  if (!si.done) throw UNUSUAL;
  return { issuer, serial, digestOid, attributes, signedAttributes, signatureOid, signature };
}

interface SignedFields {
  content: Buffer;
  certificates: Buffer[];
  signer: SignerFields;
}

function readSignedData(der: Uint8Array): SignedFields {
  const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.length);
  const top = new Cursor(buf, 0, buf.length);
  const info = top.next(0x30).inner();
  if (!top.done) throw UNUSUAL;
  const typeAt = info.pos;
  if (!info.next(0x06).element(typeAt).equals(SIGNED_DATA)) throw UNUSUAL;
  const wrapper = info.next(0xa0).inner();
  if (!info.done) throw UNUSUAL;
  const sd = wrapper.next(0x30).inner();
  if (!wrapper.done) throw UNUSUAL;
  sd.next(0x02);
  if (sd.end - sd.start !== 1 || sd.buf[sd.start] !== 1) throw UNUSUAL;
  const digests = sd.next(0x31).inner();
  while (!digests.done) algorithmOid(digests);
  const encap = sd.next(0x30).inner();
  const eTypeAt = encap.pos;
  if (!encap.next(0x06).element(eTypeAt).equals(DATA)) throw UNUSUAL;
  const eContent = encap.next(0xa0).inner();
  if (!encap.done) throw UNUSUAL;
  const content = eContent.next(0x04).content();
  if (!eContent.done) throw UNUSUAL;
  const certs = sd.next(0xa0).inner();
  const certificates: Buffer[] = [];
  while (!certs.done) {
    const from = certs.pos;
    certificates.push(certs.next(0x30).element(from));
  }
  const signers = sd.next(0x31).inner();
  if (!sd.done) throw UNUSUAL;
  const signer = readSignerInfo(signers);
  if (!signers.done) throw UNUSUAL;
  return { content, certificates, signer };
}

/** Verifies as `verifyParsedCms` does; any failure is left to it, for its error. */
function verifySigner(fields: SignedFields): { signer: CertInfo; digest: DigestName } {
  const si = fields.signer;
  const digest = digestByOid.get(si.digestOid);
  const sigAlg = signatureAlgorithms.get(si.signatureOid);
  if (digest === undefined || sigAlg === undefined) throw UNUSUAL;
  const certs = fields.certificates.map((c) => uncachedCertInfo(c));
  const signer = certs.find((c) => c.serial.equals(si.serial) && c.issuer.equals(si.issuer));
  if (signer === undefined || signer.publicKey.asymmetricKeyType !== sigAlg.key) throw UNUSUAL;
  const { contentType, messageDigest } = si.attributes;
  if (contentType === undefined || !DATA.subarray(2).equals(contentType)) throw UNUSUAL;
  const hash = createHash(digest).update(fields.content).digest();
  if (messageDigest?.length !== hash.length || !timingSafeEqual(messageDigest, hash)) throw UNUSUAL;
  if (!verify(sigAlg.digest ?? digest, si.signedAttributes, signer.publicKey, si.signature))
    throw UNUSUAL;
  return { signer, digest };
}

/**
 * Reads and verifies a pkiMessage of the usual shape, or answers `undefined` for anything else
 * (another shape, BER, pkiStatus or failInfo present, a missing or malformed SCEP attribute, a
 * signature or digest that does not verify). Never throws.
 */
export function readPkiMessageFast(der: Uint8Array): FastPkiMessage | undefined {
  try {
    const fields = readSignedData(der);
    const a = fields.signer.attributes;
    if (a.messageType === undefined || a.transactionId === undefined) return undefined;
    const messageType = Number(a.messageType);
    const idLength = a.transactionId.length;
    if (!Number.isInteger(messageType) || idLength === 0 || idLength > MAX_TRANSACTION_ID)
      return undefined;
    const { signer, digest } = verifySigner(fields);
    return {
      messageType,
      transactionId: a.transactionId,
      senderNonce: a.senderNonce,
      recipientNonce: a.recipientNonce,
      signingTime: a.signingTime,
      digest,
      signerInfo: signer,
      content: fields.content,
    };
  } catch {
    return undefined; // unusual shape, bad certificate or key, bad signature: the full parser decides
  }
}

/**
 * Reading CMS ContentInfo and SignedData (RFC 5652 §5) into offsets and small values, BER
 * indefinite lengths included. Structure problems throw `ERR_CMS_FORMAT`; byte-level ones `ERR_DER`.
 */
import { CryptoError } from '../errors.js';
import { tlv as encodeTlv } from './der-write.js';
import {
  bytesOf,
  children,
  contentOf,
  octetStringValue,
  readDer,
  smallIntegerValue,
  Tag,
  type Tlv,
} from './der.js';
import type { CmsAttribute } from './cms-sign.js';
import { decodeOid, Oid } from './oids.js';

/** How a SignerInfo or RecipientInfo names its certificate. */
export type SignerId = { issuer: Buffer; serial: Buffer } | { subjectKeyId: Buffer };

/** One SignerInfo, as read. */
export interface ParsedSignerInfo {
  version: number;
  sid: SignerId;
  digestAlgorithm: string;
  /** The signed attributes re-tagged as SET (the bytes the signature covers), when present. */
  signedAttributesDer: Buffer | undefined;
  signedAttributes: CmsAttribute[];
  signatureAlgorithm: string;
  signature: Buffer;
}

/** A SignedData, as read. */
export interface ParsedSignedData {
  version: number;
  digestAlgorithms: string[];
  contentType: string;
  /** The encapsulated content; `undefined` when detached. */
  content: Buffer | undefined;
  /** DER of each embedded X.509 certificate (other certificate choices are skipped). */
  certificates: Buffer[];
  signerInfos: ParsedSignerInfo[];
}

/** Throws `ERR_CMS_FORMAT` with `message`. */
export function formatError(message: string, cause?: unknown): CryptoError {
  return new CryptoError('ERR_CMS_FORMAT', message, cause === undefined ? {} : { cause });
}

/** Reads the OID of an element that must be an OBJECT IDENTIFIER. */
export function oidOf(t: Tlv | undefined, what: string): string {
  if (t?.tag !== Tag.OID) throw formatError(`expected ${what}`);
  return decodeOid(contentOf(t));
}

/** Reads an AlgorithmIdentifier: its OID and its parameters element, if any. */
export function algorithmOf(
  t: Tlv | undefined,
  what: string,
): { oid: string; parameters: Tlv | undefined } {
  if (t?.tag !== Tag.SEQUENCE) throw formatError(`expected ${what}`);
  const [id, parameters] = children(t);
  return { oid: oidOf(id, what), parameters };
}

/**
 * Reads a ContentInfo and returns its content type and the `[0] EXPLICIT` content element.
 * Throws `ERR_CMS_FORMAT` when the input is not a ContentInfo.
 */
export function readContentInfo(der: Uint8Array): { contentType: string; content: Tlv } {
  const root = readDer(der);
  if (root.tag !== Tag.SEQUENCE) throw formatError('not a CMS ContentInfo');
  const [type, wrapper] = children(root);
  const contentType = oidOf(type, 'ContentInfo contentType');
  if (wrapper?.tag !== 0xa0) throw formatError('ContentInfo has no content');
  const [content] = children(wrapper);
  if (content === undefined) throw formatError('ContentInfo content is empty');
  return { contentType, content };
}

/** Reads a SignerIdentifier / RecipientIdentifier (issuerAndSerialNumber or `[0]` subjectKeyIdentifier). */
export function signerIdOf(t: Tlv | undefined): SignerId {
  if (t?.tag === Tag.SEQUENCE) {
    const [issuer, serial] = children(t);
    if (issuer?.tag !== Tag.SEQUENCE || serial?.tag !== Tag.INTEGER)
      throw formatError('bad IssuerAndSerialNumber');
    return { issuer: bytesOf(issuer), serial: contentOf(serial) };
  }
  if (t?.tag === 0x80) return { subjectKeyId: contentOf(t) };
  throw formatError('bad signer identifier');
}

function attributesOf(t: Tlv): CmsAttribute[] {
  return children(t).map((a) => {
    if (a.tag !== Tag.SEQUENCE) throw formatError('bad attribute');
    const [type, values] = children(a);
    if (values?.tag !== Tag.SET) throw formatError('bad attribute values');
    return { oid: oidOf(type, 'attribute type'), values: children(values).map((v) => bytesOf(v)) };
  });
}

function signedAttributesDerOf(t: Tlv): Buffer {
  if (!t.indefinite) {
    const copy = Buffer.from(bytesOf(t));
    copy[0] = Tag.SET;
    return copy;
  }
  return encodeTlv(Tag.SET, ...children(t).map((c) => bytesOf(c)));
}

function signerInfoOf(t: Tlv): ParsedSignerInfo {
  if (t.tag !== Tag.SEQUENCE) throw formatError('bad SignerInfo');
  const parts = children(t);
  const [version, sid, digestAlg] = parts;
  if (version?.tag !== Tag.INTEGER) throw formatError('bad SignerInfo version');
  let i = 3;
  let attrs: Tlv | undefined;
  if (parts[i]?.tag === 0xa0) attrs = parts[i++];
  const sigAlg = algorithmOf(parts[i++], 'signatureAlgorithm');
  const signature = parts[i];
  if (signature?.tag !== Tag.OCTET_STRING && signature?.tag !== 0x24)
    throw formatError('bad signature');
  return {
    version: smallIntegerValue(version),
    sid: signerIdOf(sid),
    digestAlgorithm: algorithmOf(digestAlg, 'digestAlgorithm').oid,
    signedAttributesDer: attrs ? signedAttributesDerOf(attrs) : undefined,
    signedAttributes: attrs ? attributesOf(attrs) : [],
    signatureAlgorithm: sigAlg.oid,
    signature: octetStringValue(signature),
  };
}

function encapsulatedOf(t: Tlv | undefined): { contentType: string; content: Buffer | undefined } {
  if (t?.tag !== Tag.SEQUENCE) throw formatError('bad EncapsulatedContentInfo');
  const [type, wrapper] = children(t);
  const contentType = oidOf(type, 'eContentType');
  if (wrapper === undefined) return { contentType, content: undefined };
  if (wrapper.tag !== 0xa0) throw formatError('bad eContent');
  const [inner] = children(wrapper);
  if (inner === undefined) return { contentType, content: Buffer.alloc(0) };
  if ((inner.tag & 0xdf) !== Tag.OCTET_STRING) throw formatError('eContent is not an OCTET STRING');
  return { contentType, content: octetStringValue(inner) };
}

/**
 * Parses a DER or BER ContentInfo holding SignedData. Throws `ERR_CMS_FORMAT` when the input
 * is another content type or malformed, `ERR_DER` on broken encodings.
 */
export function parseSignedData(der: Uint8Array): ParsedSignedData {
  const { contentType, content } = readContentInfo(der);
  if (contentType !== Oid.signedData)
    throw formatError(`content type ${contentType} is not SignedData`);
  if (content.tag !== Tag.SEQUENCE) throw formatError('bad SignedData');
  const parts = children(content);
  const [version, digestAlgs, encap] = parts;
  if (version?.tag !== Tag.INTEGER || digestAlgs?.tag !== Tag.SET)
    throw formatError('bad SignedData header');
  const certificates: Buffer[] = [];
  let i = 3;
  if (parts[i]?.tag === 0xa0) {
    for (const c of children(parts[i] as Tlv))
      if (c.tag === Tag.SEQUENCE) certificates.push(bytesOf(c));
    i++;
  }
  if (parts[i]?.tag === 0xa1) i++;
  const signers = parts[i];
  if (signers?.tag !== Tag.SET || i !== parts.length - 1)
    throw formatError('bad SignedData signerInfos');
  const encapsulated = encapsulatedOf(encap);
  return {
    version: smallIntegerValue(version),
    digestAlgorithms: children(digestAlgs).map((a) => algorithmOf(a, 'digestAlgorithm').oid),
    contentType: encapsulated.contentType,
    content: encapsulated.content,
    certificates,
    signerInfos: children(signers).map(signerInfoOf),
  };
}

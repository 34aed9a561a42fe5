/**
 * SCEP pkiMessages (RFC 8894 §3): reading the signed attributes and verifying the signature of a
 * request or reply, and writing one. The signature check is kept apart from attribute reading, so
 * a request with a bad signature can still be answered with a FAILURE that names its transaction.
 */
import { X509Certificate } from 'node:crypto';
import type { CertInfo } from '../../crypto/cert-info.js';
import { randomPoolBytes } from '../../crypto/random.js';
import { parseSignedData, type ParsedSignedData } from '../../crypto/cms-parse.js';
import { signCms, type CmsAttribute } from '../../crypto/cms-sign.js';
import { verifyParsedCms } from '../../crypto/cms-verify.js';
import {
  integer,
  octetString,
  oid,
  printableString,
  sequence,
  setOf,
  tlv,
} from '../../crypto/der-write.js';
import { octetStringValue, readDer, stringValue, Tag, timeValue } from '../../crypto/der.js';
import type { CertificateInput, PrivateKeyInput } from '../../crypto/keys.js';
import { digestByOid, Oid, type DigestName } from '../../crypto/oids.js';
import { CryptoError, ScepError } from '../../errors.js';
import { readPkiMessageFast, type FastPkiMessage } from './fast-reader.js';
import {
  FailInfo,
  PkiStatus,
  ScepOid,
  type FailInfoName,
  type PkiStatusName,
} from './constants.js';

/** The SCEP attributes of a pkiMessage and, when it verified, its signer and content. */
export interface PkiMessage {
  messageType: number;
  transactionId: string;
  senderNonce: Buffer | undefined;
  recipientNonce: Buffer | undefined;
  pkiStatus: PkiStatusName | undefined;
  failInfo: FailInfoName | undefined;
  signingTime: Date | undefined;
  /** Digest algorithm of the first signer, `undefined` when unsupported. */
  digest: DigestName | undefined;
  /** The result of verifying the signature against the embedded signer certificate. */
  verified:
    | {
        ok: true;
        /** The signer's certificate, built on first access. */
        signer: X509Certificate;
        /** The signer's fields and key, without an `X509Certificate`. */
        signerInfo: CertInfo;
        content: Buffer;
      }
    | { ok: false; error: CryptoError };
}

const MAX_TRANSACTION_ID = 256;

function messageError(message: string, cause?: unknown): ScepError {
  return new ScepError('ERR_SCEP_MESSAGE', message, cause === undefined ? {} : { cause });
}

/**
 * The signed attributes by type, read in one pass: the value of each type that appears once
 * with one value, `null` for a type that appears again or with another number of values.
 */
type AttributeIndex = ReadonlyMap<string, Uint8Array | null>;

function indexAttributes(attrs: readonly CmsAttribute[]): AttributeIndex {
  const index = new Map<string, Uint8Array | null>();
  for (const a of attrs)
    index.set(a.oid, index.has(a.oid) || a.values.length !== 1 ? null : (a.values[0] ?? null));
  return index;
}

function single(attrs: AttributeIndex, oid: string): Uint8Array | undefined {
  const v = attrs.get(oid);
  if (v === null) throw messageError(`attribute ${oid} must appear once with one value`);
  return v;
}

function text(attrs: AttributeIndex, oid: string): string | undefined {
  const v = single(attrs, oid);
  return v === undefined ? undefined : stringValue(readDer(v));
}

function bytes(attrs: AttributeIndex, oid: string): Buffer | undefined {
  const v = single(attrs, oid);
  if (v === undefined) return undefined;
  const t = readDer(v);
  if (t.tag !== Tag.OCTET_STRING) throw messageError(`attribute ${oid} is not an OCTET STRING`);
  return octetStringValue(t);
}

const namesByValue = new WeakMap<object, ReadonlyMap<number, string>>();

function nameOf<T extends Record<string, number>>(
  table: T,
  value: string | undefined,
): keyof T | undefined {
  if (value === undefined) return undefined;
  let names = namesByValue.get(table);
  if (names === undefined) {
    const byValue = new Map<number, string>();
    for (const [k, v] of Object.entries(table)) if (!byValue.has(v)) byValue.set(v, k);
    names = byValue;
    namesByValue.set(table, names);
  }
  const hit = names.get(Number(value));
  if (hit === undefined || !/^\d+$/.test(value)) throw messageError(`unknown value ${value}`);
  return hit;
}

function verify(parsed: ParsedSignedData): PkiMessage['verified'] {
  // A detached signature has nothing to verify against here (verifyParsedCms would throw a
  // TypeError, API misuse, for what is only a malformed message).
  if (parsed.content === undefined)
    return { ok: false, error: new CryptoError('ERR_CMS_FORMAT', 'a pkiMessage has content') };
  try {
    // A request's signer is a one-off transient certificate (or, for renewal, one seen once a
    // year): caching it would only evict the device identities the check-in path reuses.
    const v = verifyParsedCms(parsed, { cacheCertificates: false });
    return {
      ok: true,
      get signer() {
        return v.signer;
      },
      signerInfo: v.signerInfo,
      content: v.content,
    };
  } catch (error) {
    if (error instanceof CryptoError) return { ok: false, error };
    throw error;
  }
}

/** A verified message from the fast reader, in the shape of the full one's. */
function fromFast(m: FastPkiMessage): PkiMessage {
  const { signerInfo, content } = m;
  return {
    messageType: m.messageType,
    transactionId: m.transactionId,
    senderNonce: m.senderNonce,
    recipientNonce: m.recipientNonce,
    pkiStatus: undefined,
    failInfo: undefined,
    signingTime: m.signingTime,
    digest: m.digest,
    verified: {
      ok: true,
      get signer() {
        return signerInfo.x509;
      },
      signerInfo,
      content,
    },
  };
}

/**
 * Reads a pkiMessage (DER or BER SignedData). Throws `ERR_SCEP_MESSAGE` when the SCEP attributes
 * are missing or malformed and `ERR_CMS_FORMAT`/`ERR_DER` when it is not a SignedData; a bad
 * signature does not throw but is reported in `verified`. The usual shape is read by offsets
 * (`readPkiMessageFast`), anything else by {@link readPkiMessageFull}.
 */
export function readPkiMessage(der: Uint8Array): PkiMessage {
  const fast = readPkiMessageFast(der);
  return fast === undefined ? readPkiMessageFull(der) : fromFast(fast);
}

/**
 * {@link readPkiMessage} with the full CMS parser only, for every shape (the fast reader's
 * reference in tests). Throws what `readPkiMessage` throws.
 */
export function readPkiMessageFull(der: Uint8Array): PkiMessage {
  const parsed = parseSignedData(der);
  const si = parsed.signerInfos[0];
  if (si === undefined || parsed.signerInfos.length !== 1)
    throw messageError('a pkiMessage has exactly one signer');
  const attrs = indexAttributes(si.signedAttributes);
  let messageType: number;
  let transactionId: string | undefined;
  let signingTime: Date | undefined;
  try {
    messageType = Number(text(attrs, ScepOid.messageType) ?? 'NaN');
    transactionId = text(attrs, ScepOid.transactionId);
    const st = single(attrs, Oid.signingTime);
    signingTime = st === undefined ? undefined : timeValue(readDer(st));
  } catch (cause) {
    if (cause instanceof ScepError) throw cause;
    throw messageError('malformed SCEP attribute', cause);
  }
  if (!Number.isInteger(messageType)) throw messageError('messageType missing');
  if (
    transactionId === undefined ||
    transactionId.length === 0 ||
    transactionId.length > MAX_TRANSACTION_ID
  )
    throw messageError('transactionID missing or too long');
  return {
    messageType,
    transactionId,
    senderNonce: bytes(attrs, ScepOid.senderNonce),
    recipientNonce: bytes(attrs, ScepOid.recipientNonce),
    pkiStatus: nameOf(PkiStatus, text(attrs, ScepOid.pkiStatus)),
    failInfo: nameOf(FailInfo, text(attrs, ScepOid.failInfo)),
    signingTime,
    digest: digestByOid.get(si.digestAlgorithm),
    verified: verify(parsed),
  };
}

/** version 1, no digest algorithms, id-data without content: the fixed start of certs-only. */
const CERTS_ONLY_HEAD = Buffer.concat([integer(1), setOf(), sequence(oid(Oid.data))]);
const EMPTY_SET = setOf();

/**
 * A degenerate certs-only SignedData (the content of a SUCCESS CertRep) written straight from
 * DER, without parsing the certificates again. The first certificate stays first.
 */
export function certsOnly(certificates: readonly Uint8Array[]): Buffer {
  const set = tlv(0xa0, ...certificates);
  const signedData = sequence(CERTS_ONLY_HEAD, set, EMPTY_SET);
  return sequence(oid(Oid.signedData), tlv(0xa0, signedData));
}

/** Fields of {@link writePkiMessage}. */
export interface WritePkiMessageOptions {
  messageType: number;
  transactionId: string;
  /** Default: 16 random bytes. */
  senderNonce?: Uint8Array;
  recipientNonce?: Uint8Array;
  pkiStatus?: PkiStatusName;
  failInfo?: FailInfoName;
  /** The signed content: an EnvelopedData, or empty for FAILURE and PENDING replies. */
  content: Uint8Array;
  certificate: CertificateInput;
  privateKey: PrivateKeyInput;
  /** Default `sha256`. */
  digest?: DigestName;
  /** Default now; `false` omits it. */
  signingTime?: Date | false;
}

/** Writes and signs a pkiMessage. Throws the errors of `signCms` on unusable keys. */
export function writePkiMessage(options: WritePkiMessageOptions): Buffer {
  const attrs: CmsAttribute[] = [
    { oid: ScepOid.messageType, values: [printableString(String(options.messageType))] },
    { oid: ScepOid.transactionId, values: [printableString(options.transactionId)] },
    { oid: ScepOid.senderNonce, values: [octetString(options.senderNonce ?? randomPoolBytes(16))] },
  ];
  if (options.recipientNonce !== undefined)
    attrs.push({ oid: ScepOid.recipientNonce, values: [octetString(options.recipientNonce)] });
  if (options.pkiStatus !== undefined)
    attrs.push({
      oid: ScepOid.pkiStatus,
      values: [printableString(String(PkiStatus[options.pkiStatus]))],
    });
  if (options.failInfo !== undefined)
    attrs.push({
      oid: ScepOid.failInfo,
      values: [printableString(String(FailInfo[options.failInfo]))],
    });
  return signCms(options.content, {
    certificate: options.certificate,
    privateKey: options.privateKey,
    digest: options.digest ?? 'sha256',
    signedAttributes: attrs,
    signingTime: options.signingTime ?? new Date(),
  });
}

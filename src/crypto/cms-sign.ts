/**
 * CMS SignedData creation (RFC 5652 §5): attached or detached content, RSA PKCS#1 v1.5 or
 * ECDSA, signed attributes, the signer's chain included; and the degenerate certs-only form
 * SCEP uses. Written with our DER writer so signing costs little more than the signature.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { certInfo, type CertInfo } from './cert-info.js';
import {
  algorithm,
  flatten,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  setOf,
  time,
  tlv,
  tlvParts,
  type Parts,
} from './der-write.js';
import { Tag } from './der.js';
import { toPrivateKey, type CertificateInput, type PrivateKeyInput } from './keys.js';
import { Oid, oidByDigest, type DigestName } from './oids.js';

/** One CMS attribute; `values` are complete DER encodings. */
export interface CmsAttribute {
  oid: string;
  values: Uint8Array[];
}

/** Options of {@link signCms}. */
export interface SignCmsOptions {
  certificate: CertificateInput;
  privateKey: PrivateKeyInput;
  /** Intermediate certificates to embed beside the signer's (the root may be left out). */
  chain?: CertificateInput[];
  /** Leave the content out (the verifier gets it another way, e.g. the HTTP body). */
  detached?: boolean;
  /** Digest algorithm; default `sha256`. */
  digest?: DigestName;
  /** Extra signed attributes (contentType, messageDigest and signingTime are added for you). */
  signedAttributes?: CmsAttribute[];
  /** Signing time attribute; default now, `false` to omit it. */
  signingTime?: Date | false;
  /** Sign the content itself with no signed attributes at all (old-style PKCS#7). */
  noAttributes?: boolean;
  /** eContentType; default id-data. */
  contentType?: string;
}

const VERSION_1 = integer(1);
const VERSION_3 = integer(3);

/** Encodes one Attribute. */
export function encodeAttribute(attribute: CmsAttribute): Buffer {
  return sequence(oid(attribute.oid), setOf(...attribute.values));
}

const RSA_ALGORITHM = algorithm(Oid.rsaEncryption, nullValue());
const EC_ALGORITHMS: Record<DigestName, Buffer> = {
  sha1: algorithm(Oid.ecdsaWithSha1),
  sha256: algorithm(Oid.ecdsaWithSha256),
  sha384: algorithm(Oid.ecdsaWithSha384),
  sha512: algorithm(Oid.ecdsaWithSha512),
};
/** The digest AlgorithmIdentifiers, written once (shared: copied into each message, never changed). */
const DIGEST_ALGORITHMS = Object.fromEntries(
  Object.entries(oidByDigest).map(([name, id]) => [name, algorithm(id)]),
) as Record<DigestName, Buffer>;

function signatureAlgorithm(key: KeyObject, digest: DigestName): { id: Buffer; key: 'rsa' | 'ec' } {
  if (key.asymmetricKeyType === 'rsa') return { id: RSA_ALGORITHM, key: 'rsa' };
  if (key.asymmetricKeyType === 'ec') return { id: EC_ALGORITHMS[digest], key: 'ec' };
  throw new CryptoError(
    'ERR_CMS_UNSUPPORTED',
    `cannot sign with a ${String(key.asymmetricKeyType)} key`,
  );
}

function signedAttributesOf(
  content: Uint8Array,
  options: SignCmsOptions,
  digest: DigestName,
): Buffer {
  const attrs: Buffer[] = [
    encodeAttribute({ oid: Oid.contentType, values: [oid(options.contentType ?? Oid.data)] }),
    encodeAttribute({
      oid: Oid.messageDigest,
      values: [octetString(createHash(digest).update(content).digest())],
    }),
  ];
  if (options.signingTime !== false) {
    attrs.push(
      encodeAttribute({ oid: Oid.signingTime, values: [time(options.signingTime ?? new Date())] }),
    );
  }
  for (const a of options.signedAttributes ?? []) {
    if (a.oid === Oid.contentType || a.oid === Oid.messageDigest) {
      throw new TypeError(`signCms(): attribute ${a.oid} is computed and cannot be given`);
    }
    attrs.push(encodeAttribute(a));
  }
  return setOf(...attrs);
}

/** Encodes a CertificateSet `[0] IMPLICIT`, without duplicates, in DER order. */
function certificateSet(infos: readonly CertInfo[]): Buffer {
  const ders: Buffer[] = [];
  for (const info of infos) if (!ders.some((d) => d.equals(info.der))) ders.push(info.der);
  const set = setOf(...ders);
  set[0] = 0xa0;
  return set;
}

function contentInfo(signedData: Parts): Buffer {
  return flatten(tlvParts(Tag.SEQUENCE, oid(Oid.signedData), tlvParts(0xa0, signedData)));
}

/**
 * Signs `content` and returns a DER ContentInfo holding SignedData, with the signer's
 * certificate and `chain` embedded. Throws `ERR_CMS_UNSUPPORTED` for key types other than
 * RSA and EC, `ERR_KEY_FORMAT`/`ERR_CERT_FORMAT` on unreadable inputs.
 */
export function signCms(content: Uint8Array, options: SignCmsOptions): Buffer {
  const digest = options.digest ?? 'sha256';
  if (!(digest in oidByDigest))
    throw new TypeError(`signCms(): unknown digest ${digest as string}`);
  const signer = certInfo(options.certificate);
  const key = toPrivateKey(options.privateKey);
  const alg = signatureAlgorithm(key, digest);
  const digestAlg = DIGEST_ALGORITHMS[digest];
  let signerParts: Buffer[];
  if (options.noAttributes === true) {
    const signature = sign(digest, content, key);
    signerParts = [alg.id, octetString(signature)];
  } else {
    const attrs = signedAttributesOf(content, options, digest);
    const signature = sign(digest, attrs, key);
    attrs[0] = 0xa0;
    signerParts = [attrs, alg.id, octetString(signature)];
  }
  const sid = sequence(signer.issuer, tlv(0x02, signer.serial));
  const signerInfo = sequence(VERSION_1, sid, digestAlg, ...signerParts);
  const eContentType = options.contentType ?? Oid.data;
  const encap =
    options.detached === true
      ? sequence(oid(eContentType))
      : tlvParts(
          Tag.SEQUENCE,
          oid(eContentType),
          tlvParts(0xa0, tlvParts(Tag.OCTET_STRING, content)),
        );
  const certs = certificateSet([signer, ...(options.chain ?? []).map((c) => certInfo(c))]);
  const version = eContentType === Oid.data ? VERSION_1 : VERSION_3;
  return contentInfo(
    tlvParts(Tag.SEQUENCE, version, setOf(digestAlg), encap, certs, setOf(signerInfo)),
  );
}

/**
 * A degenerate SignedData holding only certificates and no signers (PKCS#7 "certs-only"), as
 * SCEP GetCACert and CertRep use. Throws `TypeError` on an empty list, `ERR_CERT_FORMAT` on bad input.
 */
export function createCertsOnlyCms(certs: CertificateInput[]): Buffer {
  if (certs.length === 0)
    throw new TypeError('createCertsOnlyCms(): at least one certificate is needed');
  const set = certificateSet(certs.map((c) => certInfo(c)));
  return contentInfo(
    tlvParts(Tag.SEQUENCE, VERSION_1, setOf(), sequence(oid(Oid.data)), set, setOf()),
  );
}

/**
 * Reading the CSR of a PKCSReq when its key is already known: most clients sign the request with
 * the CSR's own key, so when the SubjectPublicKeyInfo bytes equal the signer's, the signer's
 * decoded key is reused instead of decoding the same key again (OpenSSL 3 key decoding costs as
 * much as the rest of the request parsing). Anything unusual falls back to the crypto core.
 */
import { verify, type KeyObject } from 'node:crypto';
import { parseCsr, type ParsedCsr } from '../../crypto/csr.js';
import { bytesOf, children, contentOf, readDer, stringValue, Tag } from '../../crypto/der.js';
import { decodeName, formatName } from '../../crypto/name.js';
import { decodeOid, Oid, signatureAlgorithms } from '../../crypto/oids.js';

const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

/** The signer's key and SPKI, as the PKCSReq check already has them. */
export interface KnownKey {
  spki: Buffer;
  publicKey: KeyObject;
}

function challengeOf(attrs: ReturnType<typeof readDer> | undefined): string | undefined | null {
  if (attrs === undefined) return undefined;
  let challenge: string | undefined;
  for (const attr of children(attrs)) {
    const [type, values] = children(attr);
    if (type?.tag !== Tag.OID || values?.tag !== Tag.SET) return null;
    const id = decodeOid(contentOf(type));
    if (id === Oid.extensionRequest) return null; // extensions: let the core parse them
    const [first] = children(values);
    if (id === Oid.challengePassword && first !== undefined) challenge = stringValue(first);
  }
  return challenge;
}

/**
 * Parses a PKCS#10 request like `parseCsr`, reusing `known.publicKey` when the request carries
 * the same SubjectPublicKeyInfo. Throws `ERR_CSR_FORMAT` on malformed input.
 */
export function readCsr(der: Buffer, known: KnownKey | undefined): ParsedCsr {
  try {
    const [info, sigAlg, sig] = children(readDer(der));
    const [, subject, spki, attrs] = info?.tag === Tag.SEQUENCE ? children(info) : [];
    const [algId] = sigAlg?.tag === Tag.SEQUENCE ? children(sigAlg) : [];
    if (info === undefined || subject === undefined || spki === undefined || algId?.tag !== Tag.OID)
      return parseCsr(der);
    if (known === undefined || !bytesOf(spki).equals(known.spki) || sig?.tag !== Tag.BIT_STRING)
      return parseCsr(der);
    const challenge = challengeOf(attrs?.tag === 0xa0 ? attrs : undefined);
    const alg = signatureAlgorithms.get(decodeOid(contentOf(algId)));
    const key = known.publicKey;
    const keyType = key.asymmetricKeyType;
    if (challenge === null || alg?.digest === undefined || (keyType !== 'rsa' && keyType !== 'ec'))
      return parseCsr(der);
    const details = key.asymmetricKeyDetails ?? {};
    const subjectRdns = decodeName(subject);
    const parsed: ParsedCsr = {
      der,
      subject: formatName(subjectRdns),
      subjectRdns,
      publicKey: key,
      keyType,
      keySize:
        keyType === 'rsa'
          ? (details.modulusLength ?? 0)
          : (curveBits[details.namedCurve ?? ''] ?? 0),
      extensions: [],
      signatureValid:
        alg.key === keyType && verify(alg.digest, bytesOf(info), key, contentOf(sig).subarray(1)),
    };
    if (keyType === 'ec' && details.namedCurve !== undefined) parsed.curve = details.namedCurve;
    if (challenge !== undefined) parsed.challengePassword = challenge;
    return parsed;
  } catch {
    return parseCsr(der);
  }
}

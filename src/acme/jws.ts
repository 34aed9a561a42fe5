/**
 * The JWS layer of ACME (RFC 8555 section 6.2): a flattened JWS in `application/jose+json`, its
 * protected header (`alg`, `nonce`, `url`, and `jwk` or `kid`), the account key it names, and
 * the signature, checked with `jose`. Pure: no store, no clock; the nonce is checked by the
 * caller after the signature, so a forged request cannot spend a client's nonce.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AcmeError } from '../errors.js';

/** JWS algorithms accepted for account keys. */
export const ACME_ALGORITHMS = ['ES256', 'ES384', 'RS256'] as const;

/** One of {@link ACME_ALGORITHMS}. */
export type AcmeAlgorithm = (typeof ACME_ALGORITHMS)[number];

/** A flattened JWS as it arrives. */
export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

/** The protected header fields ACME reads. */
export interface AcmeProtectedHeader {
  alg: AcmeAlgorithm;
  url: string;
  nonce?: string;
  kid?: string;
  jwk?: JsonWebKey;
}

/** A public key from a JWK: the key, its public JWK (canonical members) and its thumbprint. */
export interface AccountKey {
  key: KeyObject;
  jwk: JsonWebKey;
  thumbprint: string;
}

const malformed = (message: string): AcmeError => new AcmeError('ERR_ACME_MALFORMED', message);

/** `jose`, loaded with the first ACME request: a daemon that serves none never holds it. */
let joseModule: Promise<typeof import('jose')> | undefined;
const jose = (): Promise<typeof import('jose')> => (joseModule ??= import('jose'));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function b64urlJson(text: string, what: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw malformed(`${what} is not base64url`);
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw malformed(`${what} is not JSON`);
  }
}

/** Parses a request body as a flattened JWS. Throws `ERR_ACME_MALFORMED` otherwise. */
export function parseJws(body: Uint8Array): FlattenedJws {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  } catch {
    throw malformed('the body is not JSON');
  }
  if (!isRecord(value)) throw malformed('the body is not a flattened JWS');
  const { protected: p, payload, signature } = value;
  if (typeof p !== 'string' || typeof payload !== 'string' || typeof signature !== 'string')
    throw malformed('the body is not a flattened JWS');
  if ('header' in value || 'signatures' in value)
    throw malformed('only a flattened JWS with a protected header is accepted');
  return { protected: p, payload, signature };
}

/**
 * Decodes and checks the protected header: a known `alg`, a string `url`, and exactly one of
 * `jwk` and `kid`. Throws `ERR_ACME_BAD_SIGNATURE_ALGORITHM` or `ERR_ACME_MALFORMED`.
 */
export function protectedHeader(jws: FlattenedJws): AcmeProtectedHeader {
  const h = b64urlJson(jws.protected, 'the protected header');
  if (!isRecord(h)) throw malformed('the protected header is not an object');
  if (typeof h.alg !== 'string' || !(ACME_ALGORITHMS as readonly string[]).includes(h.alg))
    throw new AcmeError('ERR_ACME_BAD_SIGNATURE_ALGORITHM', 'the JWS algorithm is not accepted');
  if (typeof h.url !== 'string') throw malformed('the protected header has no url');
  if ((h.jwk === undefined) === (h.kid === undefined))
    throw malformed('the protected header must carry exactly one of jwk and kid');
  if (h.kid !== undefined && typeof h.kid !== 'string') throw malformed('kid is not a string');
  if (h.jwk !== undefined && !isRecord(h.jwk)) throw malformed('jwk is not an object');
  if (h.nonce !== undefined && typeof h.nonce !== 'string')
    throw malformed('nonce is not a string');
  if (h.crit !== undefined) throw malformed('no critical header parameter is understood');
  return h as unknown as AcmeProtectedHeader;
}

/** Throws `ERR_ACME_BAD_PUBLIC_KEY` unless `key` fits `alg` (P-256, P-384, RSA of 2048-8192 bits). */
function checkKeyFitsAlg(key: KeyObject, alg: AcmeAlgorithm): void {
  const d = key.asymmetricKeyDetails ?? {};
  const fits =
    alg === 'RS256'
      ? key.asymmetricKeyType === 'rsa' &&
        (d.modulusLength ?? 0) >= 2048 &&
        (d.modulusLength ?? 0) <= 8192
      : key.asymmetricKeyType === 'ec' &&
        d.namedCurve === (alg === 'ES256' ? 'prime256v1' : 'secp384r1');
  if (!fits) throw new AcmeError('ERR_ACME_BAD_PUBLIC_KEY', `the key does not fit ${alg}`);
}

/**
 * The public key of a JWK for `alg`. Throws `ERR_ACME_MALFORMED` for a JWK that is not a public
 * key (a private member included) and `ERR_ACME_BAD_PUBLIC_KEY` for one that does not fit `alg`.
 */
export async function accountKeyOf(jwk: unknown, alg: AcmeAlgorithm): Promise<AccountKey> {
  if (!isRecord(jwk) || 'd' in jwk || 'p' in jwk) throw malformed('jwk is not a public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    throw new AcmeError('ERR_ACME_BAD_PUBLIC_KEY', 'jwk is not a usable public key');
  }
  checkKeyFitsAlg(key, alg);
  const canonical = key.export({ format: 'jwk' });
  const { calculateJwkThumbprint } = await jose();
  const thumbprint = await calculateJwkThumbprint(canonical, 'sha256');
  return { key, jwk: canonical, thumbprint };
}

/**
 * Verifies the signature of `jws` with `key` under `alg` and returns the payload bytes (empty for
 * POST-as-GET). Throws `ERR_ACME_MALFORMED` when it does not verify.
 */
export async function verifyJws(
  jws: FlattenedJws,
  key: KeyObject,
  alg: AcmeAlgorithm,
): Promise<Uint8Array> {
  const { flattenedVerify } = await jose();
  try {
    const { payload } = await flattenedVerify(jws, key, { algorithms: [alg] });
    return payload;
  } catch {
    throw malformed('the JWS signature does not verify');
  }
}

/**
 * The payload as a JSON object, or `undefined` for an empty payload (POST-as-GET). Throws
 * `ERR_ACME_MALFORMED` for anything else.
 */
export function payloadObject(payload: Uint8Array): Record<string, unknown> | undefined {
  if (payload.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
  } catch {
    throw malformed('the payload is not JSON');
  }
  if (!isRecord(value)) throw malformed('the payload is not a JSON object');
  return value;
}

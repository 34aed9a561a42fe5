/**
 * A small ACME client for tests (RFC 8555 over fetch, JWS by `jose`): directory, nonces (kept
 * from each response's Replay-Nonce, retried once on badNonce like real clients), accounts, key
 * change, orders, challenges, finalize and download. `signJws` and `postRaw` let a test craft
 * the malformed requests a real client never sends.
 *
 *   const client = await acmeTestClient(directoryUrl);
 *   await client.newAccount();
 *   const order = await client.newOrder('client-1');
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, FlattenedSign, type FlattenedJWS, type JWK } from 'jose';

/** An account key pair with its JWS algorithm. */
export interface AcmeKey {
  alg: 'ES256' | 'ES384' | 'RS256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh key for `alg`. */
export function acmeKey(alg: AcmeKey['alg'] = 'ES256'): AcmeKey {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' });
  return { alg, ...pair };
}

/** A response as the tests read it. */
export interface AcmeResponse {
  status: number;
  headers: Headers;
  /** The JSON body (a resource or a problem document), when it is JSON. */
  json: Record<string, unknown> & { type?: string; status?: string | number };
  text: string;
}

/** What goes into a JWS protected header besides `alg`. */
export interface JwsHeaderOptions {
  url: string;
  nonce?: string;
  /** Account URL; without it the public key goes in as `jwk`. */
  kid?: string;
  /** Extra or overriding header fields (to craft bad requests). */
  extra?: Record<string, unknown>;
}

/** Signs `payload` (an object, or `''` for POST-as-GET) as a flattened JWS with `key`. */
export async function signJws(
  key: AcmeKey,
  payload: unknown,
  h: JwsHeaderOptions,
): Promise<FlattenedJWS> {
  const header: Record<string, unknown> = { alg: key.alg, url: h.url };
  if (h.nonce !== undefined) header.nonce = h.nonce;
  if (h.kid === undefined) header.jwk = await exportJWK(key.publicKey);
  else header.kid = h.kid;
  Object.assign(header, h.extra ?? {});
  const bytes = payload === '' ? new Uint8Array(0) : Buffer.from(JSON.stringify(payload));
  return new FlattenedSign(bytes).setProtectedHeader(header).sign(key.privateKey);
}

async function read(res: Response): Promise<AcmeResponse> {
  const text = await res.text();
  let json: AcmeResponse['json'] = {};
  try {
    json = JSON.parse(text) as AcmeResponse['json'];
  } catch {
    // A PEM chain or an empty body.
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Posts `body` as-is to `url` with `contentType` (default `application/jose+json`). */
export async function postRaw(
  url: string,
  body: string | Uint8Array,
  contentType = 'application/jose+json',
): Promise<AcmeResponse> {
  return read(await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body }));
}

/** The ACME test client over one directory and one account key. */
export interface AcmeTestClient {
  readonly directory: Record<string, string>;
  key: AcmeKey;
  /** The account URL, once `newAccount` ran. */
  kid: string | undefined;
  /** POSTs done (each retry counts). */
  posts: number;
  nonce(): Promise<string>;
  /** Signs and posts; with `jwk: true` the key goes in the header instead of `kid`. */
  post(
    url: string,
    payload: unknown,
    options?: { jwk?: boolean; nonce?: string },
  ): Promise<AcmeResponse>;
  newAccount(payload?: Record<string, unknown>): Promise<AcmeResponse>;
  newOrder(value: string, type?: string): Promise<AcmeResponse>;
  /** Forgets any kept nonce, so the next post fetches one. */
  dropNonce(): void;
}

/** A client of the ACME server at `directoryUrl`. */
export async function acmeTestClient(
  directoryUrl: string,
  key: AcmeKey = acmeKey(),
): Promise<AcmeTestClient> {
  const directory = (await (await fetch(directoryUrl)).json()) as Record<string, string>;
  let kept: string | undefined;
  const keep = (res: AcmeResponse): AcmeResponse => {
    kept = res.headers.get('replay-nonce') ?? undefined;
    return res;
  };
  const client: AcmeTestClient = {
    directory,
    key,
    kid: undefined,
    posts: 0,
    async nonce() {
      const res = await fetch(directory.newNonce ?? '', { method: 'HEAD' });
      return res.headers.get('replay-nonce') ?? '';
    },
    async post(url, payload, options = {}) {
      for (let attempt = 0; ; attempt++) {
        const nonce =
          options.nonce !== undefined && attempt === 0
            ? options.nonce
            : (kept ?? (await client.nonce()));
        kept = undefined;
        const kid = options.jwk === true ? undefined : client.kid;
        const jws = await signJws(client.key, payload, { url, nonce, ...(kid ? { kid } : {}) });
        client.posts += 1;
        const res = keep(await postRaw(url, JSON.stringify(jws)));
        if (res.json.type !== 'urn:ietf:params:acme:error:badNonce' || attempt >= 1) return res;
      }
    },
    async newAccount(payload = { termsOfServiceAgreed: true }) {
      const res = await client.post(directory.newAccount ?? '', payload, { jwk: true });
      if (res.status < 300) client.kid = res.headers.get('location') ?? undefined;
      return res;
    },
    newOrder(value, type = 'permanent-identifier') {
      return client.post(directory.newOrder ?? '', { identifiers: [{ type, value }] });
    },
    dropNonce() {
      kept = undefined;
    },
  };
  return client;
}

/** The public JWK of `key` (for `attestKey` and `oldKey`). */
export function publicJwk(key: KeyObject): Promise<JWK> {
  return exportJWK(key);
}

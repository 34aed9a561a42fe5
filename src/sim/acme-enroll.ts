/**
 * What a device does with a `com.apple.security.acme` payload: an ES256 account, a new order for
 * its ClientIdentifier as `permanent-identifier`, the device-attest-01 challenge answered with an
 * attestation of its key, finalize with a CSR for that key, and the certificate download
 * (RFC 8555; JWS with node:crypto only). The attestation comes from `attest`: Apple's servers on
 * a device, a test attestation CA in tests.
 */
import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { createCsr } from '../crypto/csr.js';
import { ProtocolError } from '../errors.js';

/** The payload keys the simulator acts on. */
export interface SimAcmePayload {
  DirectoryURL: string;
  ClientIdentifier: string;
}

/** Options of {@link acmeEnroll}. */
export interface AcmeEnrollOptions {
  fetch?: typeof fetch;
  /** The identity key (the simulator's hardware-bound-like P-256 or P-384 key). */
  key: KeyObject;
  /** The attestation object (CBOR) of `key` for the challenge `token`. */
  attest: (token: string) => Promise<Uint8Array>;
  /** Certificate subject; default `CN=Orchard device`. */
  subject?: string;
}

interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

function fail(step: string, reply: Reply): never {
  throw new ProtocolError(
    'ERR_ENDPOINT',
    `ACME ${step} failed with ${String(reply.status)}: ${reply.text.slice(0, 200)}`,
  );
}

const b64 = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

/**
 * Runs the ACME flow of `payload` and resolves the issued certificate (the leaf of the chain).
 * Rejects with ProtocolError when the server refuses a step.
 */
export async function acmeEnroll(
  payload: SimAcmePayload,
  options: AcmeEnrollOptions,
): Promise<X509Certificate> {
  const fetchFn = options.fetch ?? fetch;
  const account = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = account.publicKey.export({ format: 'jwk' });
  const dirReply = await fetchFn(payload.DirectoryURL);
  const directory = (await dirReply.json()) as Record<string, string>;
  let nonce: string | undefined;
  const session = { kid: undefined as string | undefined };
  const post = async (url: string, body: unknown): Promise<Reply> => {
    if (nonce === undefined) {
      const res = await fetchFn(directory.newNonce ?? '', { method: 'HEAD' });
      nonce = res.headers.get('replay-nonce') ?? '';
    }
    const header = {
      alg: 'ES256',
      nonce,
      url,
      ...(session.kid === undefined ? { jwk } : { kid: session.kid }),
    };
    const protectedB64 = b64(JSON.stringify(header));
    const payloadB64 = body === '' ? '' : b64(JSON.stringify(body));
    const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), {
      key: account.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/jose+json' },
      body: JSON.stringify({
        protected: protectedB64,
        payload: payloadB64,
        signature: b64(signature),
      }),
    });
    nonce = res.headers.get('replay-nonce') ?? undefined;
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // A PEM chain.
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  const acct = await post(directory.newAccount ?? '', { termsOfServiceAgreed: true });
  if (acct.status >= 300) fail('new-account', acct);
  session.kid = acct.headers.get('location') ?? '';
  const order = await post(directory.newOrder ?? '', {
    identifiers: [{ type: 'permanent-identifier', value: payload.ClientIdentifier }],
  });
  if (order.status !== 201) fail('new-order', order);
  const orderUrl = order.headers.get('location') ?? '';
  const authz = await post((order.json.authorizations as string[])[0] ?? '', '');
  const challenges = (authz.json.challenges ?? []) as {
    type: string;
    url: string;
    token: string;
  }[];
  const chall = challenges.find((c) => c.type === 'device-attest-01');
  if (chall === undefined) fail('authorization (no device-attest-01)', authz);
  const attObj = await options.attest(chall.token);
  const answered = await post(chall.url, { attObj: b64(attObj) });
  if (answered.json.status !== 'valid') fail('device-attest-01', answered);
  const ready = await post(orderUrl, '');
  const csr = createCsr({
    subject: options.subject ?? 'CN=Orchard device',
    privateKey: options.key,
  });
  const done = await post(ready.json.finalize as string, { csr: b64(csr) });
  if (done.json.status !== 'valid') fail('finalize', done);
  const pem = await post(done.json.certificate as string, '');
  if (pem.status !== 200) fail('certificate download', pem);
  const first = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem.text)?.[0];
  if (first === undefined) fail('certificate download (no PEM)', pem);
  return new X509Certificate(first);
}

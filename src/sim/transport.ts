/**
 * The simulated device's HTTP side: XML plist bodies PUT to the check-in and server URLs, each
 * signed with `Mdm-Signature` (detached CMS over the body with the device identity), timed.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { signCms } from '../crypto/cms-sign.js';
import { ProtocolError } from '../errors.js';
import { isDict } from '../protocol/checkin.js';
import { decodePlist, encodePlist, type PlistDict, type PlistValue } from '../protocol/plist.js';

/** The identity a device signs with. */
export interface SimIdentity {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

/** One round trip's answer: the status, the body decoded when it is a plist, and its duration. */
export interface SimExchange {
  status: number;
  body: PlistDict | undefined;
  latencyMs: number;
  /** Set when the body is neither empty nor a plist dictionary. */
  undecodable?: boolean;
  /** Set when the request was sent a second time after a connection reset (see {@link sendSigned}). */
  retried?: boolean;
}

/** Error codes of a connection closed under a request before any answer: reset, broken pipe, closed. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * Whether `error` (a fetch rejection) is a connection closed under the request before any answer,
 * as when a client reuses a kept-alive connection the server has just timed out.
 */
export function isConnectionReset(error: unknown): boolean {
  // Duck-typed: errors from another realm (node's fetch under a test VM) fail `instanceof Error`.
  const { cause } = (error ?? {}) as { cause?: unknown };
  const { code } = (cause ?? {}) as { code?: unknown };
  return typeof code === 'string' && RESET_CODES.has(code);
}

/** The `Mdm-Signature` header value of `body`: a detached CMS signature by `identity`, base64. */
export function mdmSignature(body: Uint8Array, identity: SimIdentity): string {
  const signature = signCms(body, {
    certificate: identity.certificate,
    privateKey: identity.privateKey,
    detached: true,
  });
  return signature.toString('base64');
}

/**
 * Sends `message` to `url` as a device would; never throws on HTTP statuses, only on network
 * failures. A connection reset before any answer is retried once at once, as Apple's HTTP stack
 * retries a request that met a stale kept-alive connection (the exchange says `retried`); a
 * second failure throws.
 */
export async function sendSigned(
  fetchFn: typeof fetch,
  url: string,
  message: PlistDict,
  identity: SimIdentity,
  contentType: string,
): Promise<SimExchange> {
  const body = encodePlist(message, { format: 'xml' });
  const headers = { 'content-type': contentType, 'mdm-signature': mdmSignature(body, identity) };
  const send = (): Promise<Response> => fetchFn(url, { method: 'PUT', headers, body });
  const started = performance.now();
  let retried = false;
  let res: Response;
  try {
    res = await send();
  } catch (error) {
    if (!isConnectionReset(error)) throw error;
    retried = true;
    res = await send();
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const exchange = {
    status: res.status,
    latencyMs: performance.now() - started,
    ...(retried ? { retried } : {}),
  };
  if (bytes.length === 0) return { ...exchange, body: undefined };
  try {
    const decoded: PlistValue = decodePlist(bytes);
    if (isDict(decoded)) return { ...exchange, body: decoded };
  } catch {
    // An error page or a truncated body: reported as undecodable below.
  }
  return { ...exchange, body: undefined, undecodable: true };
}

/** Sends a check-in message; throws `ProtocolError` `ERR_ENDPOINT` unless the server answers 200. */
export async function sendCheckin(
  fetchFn: typeof fetch,
  url: string,
  message: PlistDict,
  identity: SimIdentity,
): Promise<void> {
  const res = await sendSigned(fetchFn, url, message, identity, CHECKIN_CONTENT_TYPE);
  if (res.status !== 200) {
    const what = typeof message.MessageType === 'string' ? message.MessageType : 'check-in';
    throw new ProtocolError('ERR_ENDPOINT', `${what} answered ${res.status}`);
  }
}

/** The content type of check-in messages. */
export const CHECKIN_CONTENT_TYPE = 'application/x-apple-aspen-mdm-checkin';
/** The content type of command reports. */
export const REPORT_CONTENT_TYPE = 'application/x-apple-aspen-mdm';

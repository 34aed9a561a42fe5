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

/** Sends `message` to `url` as a device would; never throws on HTTP statuses, only on network failures. */
export async function sendSigned(
  fetchFn: typeof fetch,
  url: string,
  message: PlistDict,
  identity: SimIdentity,
  contentType: string,
): Promise<SimExchange> {
  const body = encodePlist(message, { format: 'xml' });
  const started = performance.now();
  const res = await fetchFn(url, {
    method: 'PUT',
    headers: { 'content-type': contentType, 'mdm-signature': mdmSignature(body, identity) },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const latencyMs = performance.now() - started;
  if (bytes.length === 0) return { status: res.status, body: undefined, latencyMs };
  try {
    const decoded: PlistValue = decodePlist(bytes);
    if (isDict(decoded)) return { status: res.status, body: decoded, latencyMs };
  } catch {
    // An error page or a truncated body: reported as undecodable below.
  }
  return { status: res.status, body: undefined, latencyMs, undecodable: true };
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

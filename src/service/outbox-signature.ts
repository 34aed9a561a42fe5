/**
 * Webhook signatures. Each delivery carries `Orchard-Signature: t=<unix seconds>,v1=<hex>`, the
 * HMAC-SHA256 under the shared secret of `<t>.<body>`, so a receiver can check both origin
 * and freshness.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the signature header. */
export const SIGNATURE_HEADER = 'Orchard-Signature';

function checkSecret(secret: string | Uint8Array): void {
  if (secret.length === 0) throw new TypeError('webhook secret must not be empty');
}

function hmacHex(
  secret: string | Uint8Array,
  timestamp: number,
  body: string | Uint8Array,
): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return mac.digest('hex');
}

/**
 * The `Orchard-Signature` value for `body` sent at `timestamp` (unix seconds). Throws TypeError
 * on an empty secret or a timestamp that is not a non-negative integer.
 */
export function signWebhook(
  body: string | Uint8Array,
  secret: string | Uint8Array,
  timestamp: number,
): string {
  checkSecret(secret);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('timestamp must be non-negative integer seconds');
  }
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

/** Name of the header NanoMDM's `-webhook-hmac-key` adds, sent beside ours in the `nanomdm` format. */
export const NANOMDM_HMAC_HEADER = 'X-Hmac-Signature';

/**
 * The `X-Hmac-Signature` value of `body`: standard base64 of HMAC-SHA256 under the secret, as
 * NanoMDM computes it. It has no timestamp, so unlike `Orchard-Signature` it does not show a
 * replayed delivery. Throws TypeError on an empty secret.
 */
export function nanoMdmHmac(body: string | Uint8Array, secret: string | Uint8Array): string {
  checkSecret(secret);
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** Options of {@link verifyWebhookSignature}. */
export interface VerifyWebhookOptions {
  /** Largest accepted age (or clock skew) in seconds; default 300. */
  toleranceSec?: number;
  /** The receiver's clock; default `() => new Date()`. */
  clock?: () => Date;
}

function parseHeader(header: string): { t: number; v1: string[] } | undefined {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) v1.push(value);
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}

/**
 * For receivers: true when `header` holds a `v1` HMAC of `body` under `secret` with a timestamp
 * within the tolerance; false for a malformed, stale or wrong signature (never throws on bad
 * input; TypeError on an empty secret). Several `v1` values are allowed, for secret rotation.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string | Uint8Array,
  secret: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): boolean {
  checkSecret(secret);
  if (header === undefined) return false;
  const parsed = parseHeader(header);
  if (parsed === undefined) return false;
  const now = Math.floor((options.clock ?? (() => new Date()))().getTime() / 1000);
  if (Math.abs(now - parsed.t) > (options.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(hmacHex(secret, parsed.t, body), 'hex');
  return parsed.v1.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
}

/** One webhook delivery attempt, and the retry schedule after a failed one. */
import type { OutboxEntry } from '../storage/ports.js';
import {
  NANOMDM_HMAC_HEADER,
  SIGNATURE_HEADER,
  nanoMdmHmac,
  signWebhook,
} from './outbox-signature.js';

/**
 * The shape of webhook events: Orchard's own, or MicroMDM/NanoMDM's (whose deliveries also carry
 * NanoMDM's `X-Hmac-Signature` and content type).
 */
export type WebhookFormat = 'orchard' | 'nanomdm';

/** What one attempt came to. `error` never contains the URL or the secret. */
export interface DeliveryOutcome {
  ok: boolean;
  error?: string;
  /** From a `Retry-After` header on a failure, in ms. */
  retryAfterMs?: number;
}

/** What {@link deliverEntry} needs. */
export interface DeliveryTarget {
  url: string;
  secret: string | Uint8Array;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
  clock: () => Date;
  /** Aborts the request early (worker shutdown). */
  signal?: AbortSignal;
  /** Default `orchard`. */
  format?: WebhookFormat;
}

function headersOf(
  entry: OutboxEntry,
  target: DeliveryTarget,
  now: number,
): Record<string, string> {
  const nano = target.format === 'nanomdm';
  const headers: Record<string, string> = {
    'content-type': nano ? 'application/json; charset=utf-8' : 'application/json',
    'user-agent': 'orchard-mdm-webhooks',
    'orchard-event-id': entry.id,
    'orchard-event-type': entry.type,
    'orchard-delivery-attempt': String(entry.attempts),
    [SIGNATURE_HEADER]: signWebhook(entry.payload, target.secret, Math.floor(now / 1000)),
  };
  if (nano) headers[NANOMDM_HMAC_HEADER] = nanoMdmHmac(entry.payload, target.secret);
  return headers;
}

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

// Duck-typed, not instanceof: fetch errors may come from another realm (vm contexts, tests).
function describeFailure(error: unknown, timeoutMs: number): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    cause?: { code?: unknown } | null;
  };
  if (e.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  if (e.name === 'AbortError') return 'aborted';
  const code = typeof e.cause?.code === 'string' ? e.cause.code : 'unknown';
  return `network error: ${code}`;
}

/**
 * POSTs the entry's JSON payload, signed, to the target. Resolves `ok` on any 2xx; any other
 * status, a network error or the timeout resolve a failure (never rejects).
 */
export async function deliverEntry(
  entry: OutboxEntry,
  target: DeliveryTarget,
): Promise<DeliveryOutcome> {
  const now = target.clock().getTime();
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = target.signal === undefined ? timeout : AbortSignal.any([timeout, target.signal]);
  try {
    const response = await target.fetch(target.url, {
      method: 'POST',
      body: entry.payload,
      redirect: 'error',
      signal,
      headers: headersOf(entry, target, now),
    });
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    const outcome: DeliveryOutcome = { ok: false, error: `HTTP ${response.status}` };
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
    if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
    return outcome;
  } catch (error) {
    return { ok: false, error: describeFailure(error, target.timeoutMs) };
  }
}

/** Backoff settings (ms). */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before the next attempt after `attempts` failures: exponential from `baseMs`, capped
 * at `maxMs`, with "equal jitter" (uniform in the upper half) so receivers recovering from an
 * outage are not hit by every worker at once. `Retry-After` raises it, within the cap.
 */
export function backoffDelay(
  attempts: number,
  backoff: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exp = Math.min(
    backoff.maxMs,
    backoff.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40),
  );
  const jittered = Math.round(exp / 2 + (random() * exp) / 2);
  return Math.min(backoff.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

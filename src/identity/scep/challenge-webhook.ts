/**
 * A challenge validator that asks an operator's web service: POST JSON to a configured URL whose
 * origin must be on an allow-list, no redirects, a timeout, and a strict answer grammar.
 */
import { ScepError } from '../../errors.js';
import type { ChallengeDecision, ChallengeValidator } from './challenge.js';

/** Options of {@link createWebhookValidator}. */
export interface WebhookValidatorOptions {
  /** Where to POST. Its origin must be in `allowedOrigins`. */
  url: string;
  /** Origins (`https://host:port`) the daemon's configuration allows. */
  allowedOrigins: readonly string[];
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer ...` when given. */
  bearerToken?: string;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** The JSON body the webhook receives. */
export interface WebhookRequestBody {
  challenge: string | null;
  messageType: string;
  transactionId: string;
  subject: string;
  /** The CSR, base64 DER. */
  csr: string;
}

function parseDecision(value: unknown): ChallengeDecision {
  if (typeof value !== 'object' || value === null) throw new Error('answer is not an object');
  const { outcome, enrollmentId } = value as Record<string, unknown>;
  if (outcome === 'reject' || outcome === 'pending') return { outcome };
  if (outcome !== 'accept') throw new Error('answer has no valid outcome');
  if (enrollmentId === undefined) return { outcome };
  if (typeof enrollmentId !== 'string' || enrollmentId.length === 0 || enrollmentId.length > 256)
    throw new Error('answer has a bad enrollmentId');
  return { outcome, enrollmentId };
}

/**
 * A validator POSTing {@link WebhookRequestBody} and expecting `{"outcome":"accept"|"reject"|
 * "pending","enrollmentId"?}`. Throws `TypeError` at creation when the URL's origin is not
 * allowed; the validator throws `ERR_SCEP_VALIDATOR` (503) when the service fails or answers badly.
 */
export function createWebhookValidator(options: WebhookValidatorOptions): ChallengeValidator {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError('createWebhookValidator(): url is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('createWebhookValidator(): url must be http or https');
  const allowed = options.allowedOrigins.map((o) => new URL(o).origin);
  if (!allowed.includes(url.origin))
    throw new TypeError(`createWebhookValidator(): origin ${url.origin} is not allow-listed`);
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (context) => {
    const body: WebhookRequestBody = {
      challenge: context.challenge ?? null,
      messageType: context.messageType,
      transactionId: context.transactionId,
      subject: context.csr.subject,
      csr: context.csr.der.toString('base64'),
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken}`;
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook answered ${String(res.status)}`);
      const text = await res.text();
      if (text.length > 4096) throw new Error('webhook answer too large');
      return parseDecision(JSON.parse(text));
    } catch (cause) {
      throw new ScepError('ERR_SCEP_VALIDATOR', 'the challenge webhook did not answer usably', {
        cause,
        detail: { origin: url.origin },
      });
    }
  };
}

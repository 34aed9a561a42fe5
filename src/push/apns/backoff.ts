/**
 * Jittered exponential backoff for retrying APNs 429 and 5xx answers. "Equal jitter": half of
 * the capped exponential delay is fixed, the other half random, so retries spread out but
 * never fire at once.
 */

/** Backoff parameters in milliseconds. */
export interface BackoffOptions {
  /** Delay cap of the first retry. */
  baseMs: number;
  /** Largest delay. */
  maxMs: number;
}

/**
 * The delay before retry number `attempt` (1 = first retry), given a random source in [0, 1).
 * Throws `TypeError` on a non-positive attempt.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new TypeError('attempt must be an integer >= 1');
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt - 1, 30));
  return cap / 2 + random() * (cap / 2);
}

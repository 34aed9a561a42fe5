/**
 * A circuit breaker over APNs failures (5xx, 429, 403 certificate errors, timeouts, lost
 * connections). After `threshold` consecutive failures it opens: pushes fail fast for
 * `cooldownMs`, then one probe is let through (half-open); its success closes the circuit,
 * its failure opens it again.
 */

/** Breaker states, as reported in health. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  threshold: number;
  cooldownMs: number;
  now: () => number;
  /** Called on every change of state. */
  onChange?: (state: CircuitState) => void;
}

/** A circuit breaker; `allow()` must be followed by `success()`, `failure()` or `cancel()`. */
export interface CircuitBreaker {
  readonly state: CircuitState;
  /** Whether an attempt may be made now. */
  allow(): boolean;
  success(): void;
  failure(): void;
  /** The attempt ended without a verdict (e.g. a refused stream). */
  cancel(): void;
}

/** Creates a closed breaker. Throws `TypeError` on a threshold below 1. */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  if (!(options.threshold >= 1)) throw new TypeError('threshold must be >= 1');
  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  const set = (next: CircuitState): void => {
    if (next === state) return;
    state = next;
    options.onChange?.(next);
  };
  return {
    get state() {
      if (state === 'open' && options.now() - openedAt >= options.cooldownMs) return 'half-open';
      return state;
    },
    allow() {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (options.now() - openedAt < options.cooldownMs) return false;
        set('half-open');
      }
      if (probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      probing = false;
      set('closed');
    },
    failure() {
      failures++;
      if (state === 'half-open' || failures >= options.threshold) {
        probing = false;
        openedAt = options.now();
        set('open');
      }
    },
    cancel() {
      probing = false;
    },
  };
}

/**
 * A circuit breaker over APNs failures (5xx, 429, 403 certificate errors, timeouts, lost
 * connections). After `threshold` consecutive failures it opens, and sooner, after
 * `connectThreshold` failures to connect at all since the last success: pushes fail fast for
 * `cooldownMs`, then one probe is let through (half-open); its success closes the circuit,
 * its failure opens it again.
 */

/** Breaker states, as reported in health. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  threshold: number;
  /**
   * Failures to connect (refused, DNS, TLS handshake, connect timeout) since the last success
   * that open the circuit; default `threshold`. APNs being unreachable is fleet-wide by nature.
   */
  connectThreshold?: number;
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
  /** Counts a failure; `connect` when no connection to APNs could be established. */
  failure(kind?: 'connect'): void;
  /** The attempt ended without a verdict (e.g. a refused stream). */
  cancel(): void;
}

/** Creates a closed breaker. Throws `TypeError` on a threshold below 1. */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  if (!(options.threshold >= 1)) throw new TypeError('threshold must be >= 1');
  const connectThreshold = options.connectThreshold ?? options.threshold;
  if (!(connectThreshold >= 1)) throw new TypeError('connectThreshold must be >= 1');
  let state: CircuitState = 'closed';
  let failures = 0;
  let connectFailures = 0;
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
      connectFailures = 0;
      probing = false;
      set('closed');
    },
    failure(kind) {
      failures++;
      if (kind === 'connect') connectFailures++;
      if (
        state === 'half-open' ||
        failures >= options.threshold ||
        connectFailures >= connectThreshold
      ) {
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

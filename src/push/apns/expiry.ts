/**
 * Push certificate expiry watch: one `certificate-expiring` event per threshold crossed
 * (30, 14, 7 and 1 days by default) and one `certificate-expired` event, reset when the
 * certificate is replaced.
 */
import type { PushEvent } from '../ports.js';
import { daysLeft } from './certificate.js';

/** Default thresholds in days. */
export const EXPIRY_THRESHOLDS: readonly number[] = [30, 14, 7, 1];

/** Checks one certificate's expiry and emits each event once. */
export interface ExpiryMonitor {
  check(topic: string, notAfter: Date): void;
  /** Forgets what was emitted (after a certificate replacement). */
  reset(): void;
}

/** Creates a monitor; `thresholds` are days, any order. */
export function createExpiryMonitor(
  thresholds: readonly number[],
  now: () => number,
  emit: (event: PushEvent) => void,
): ExpiryMonitor {
  const sorted = [...thresholds].sort((a, b) => a - b);
  const fired = new Set<number>();
  let expiredFired = false;
  return {
    check(topic, notAfter) {
      const at = now();
      if (at > notAfter.getTime()) {
        if (!expiredFired) emit({ type: 'certificate-expired', topic, notAfter });
        expiredFired = true;
        return;
      }
      const left = daysLeft(notAfter, at);
      const threshold = sorted.find((t) => left <= t);
      if (threshold === undefined || fired.has(threshold)) return;
      for (const t of sorted) if (t >= threshold) fired.add(t);
      emit({ type: 'certificate-expiring', topic, daysLeft: left, threshold, notAfter });
    },
    reset() {
      fired.clear();
      expiredFired = false;
    },
  };
}

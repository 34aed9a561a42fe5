/**
 * The push port: what the MDM core needs to wake devices. The core hands over targets
 * and reads one result per target; it never sees HTTP/2, certificates or retries.
 */

/**
 * One device channel to wake: its APNs token (hex), its `PushMagic` and the topic it enrolled
 * with (from `TokenUpdate`). See https://developer.apple.com/documentation/devicemanagement/tokenupdaterequest
 */
export interface PushTarget {
  /** Our id of the enrollment (device or user channel). */
  enrollmentId: string;
  /** The APNs device token as hex (TokenUpdate `Token`). */
  token: string;
  /** TokenUpdate `PushMagic`; the device ignores a push carrying another value. */
  pushMagic: string;
  /** APNs topic the device enrolled with; must equal the push certificate's topic. */
  topic: string;
  /**
   * Opts the push into the coalescing window: a push sent to the same token and PushMagic within
   * the window absorbs this one only when it carried the same key. The MDM core passes the
   * oldest command the device has not fetched yet, which changes as soon as the device polls.
   * Absent: only an identical push in flight is shared, nothing is remembered.
   */
  coalesceKey?: string;
}

/**
 * What became of one push:
 * - `sent`: APNs accepted it (200).
 * - `coalesced`: an identical push for the same token was in flight, or was sent within the window
 *   with the same `coalesceKey`.
 * - `unregistered`: 410, the token is dead until the next TokenUpdate (or a new PushMagic).
 * - `bad-token`: 400 `BadDeviceToken` / `DeviceTokenNotForTopic`, or a malformed token.
 * - `dead`: not attempted, the token was reported unregistered earlier.
 * - `rejected`: APNs refused it for another reason (4xx), or the target's topic is not ours.
 * - `failed`: retries exhausted, timeout, circuit open, expired certificate or provider closed.
 */
export type PushOutcome =
  'sent' | 'coalesced' | 'unregistered' | 'bad-token' | 'dead' | 'rejected' | 'failed';

/** The result of pushing to one {@link PushTarget}. */
export interface PushResult {
  enrollmentId: string;
  outcome: PushOutcome;
  /** HTTP status of the last APNs answer, absent when none was received. */
  status?: number;
  /** APNs `reason` (e.g. `Unregistered`) or ours (`Timeout`, `CircuitOpen`, `CertificateExpired`...). */
  reason?: string;
  /** The `apns-id` of the push, absent when it was never sent. */
  apnsId?: string;
  /** The transport error code behind a `ConnectionError` (e.g. `ECONNREFUSED`, `ETIMEDOUT`). */
  errorCode?: string;
}

/** Wakes devices. Implementations never throw for a per-target problem: it is in the result. */
export interface PushProvider {
  /** Pushes to every target and resolves to one result per target, in the same order. */
  push(targets: readonly PushTarget[]): Promise<PushResult[]>;
}

/** Something storage or operations should know about, emitted by a push provider. */
export type PushEvent =
  | { type: 'token-unregistered'; enrollmentId: string; token: string; topic: string }
  | { type: 'token-rejected'; enrollmentId: string; token: string; topic: string; reason: string }
  | {
      type: 'certificate-expiring';
      topic: string;
      daysLeft: number;
      threshold: number;
      notAfter: Date;
    }
  | { type: 'certificate-expired'; topic: string; notAfter: Date }
  | { type: 'certificate-reloaded'; topic: string; previousTopic: string; notAfter: Date }
  | { type: 'circuit-open'; topic: string }
  | { type: 'circuit-closed'; topic: string };

/** Receives {@link PushEvent}s; must not throw (a throwing listener is ignored). */
export type PushEventListener = (event: PushEvent) => void;

/** A snapshot of one provider's state for `/healthz` and metrics. */
export interface PushHealth {
  topic: string;
  notAfter: Date;
  /** Whole days until the certificate expires; negative once expired. */
  daysLeft: number;
  expired: boolean;
  circuit: 'closed' | 'open' | 'half-open';
  connections: number;
  inFlight: number;
  queued: number;
}

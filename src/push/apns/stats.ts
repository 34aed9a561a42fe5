/**
 * Recent push outcomes by reason over a sliding window, for `/healthz`: bounded memory however
 * many pushes fail.
 */
import type { EnrollmentPushOutcome } from '../../storage/ports.js';

/** One enrollment's push outcome, as the core reports it (`EnrollmentPushResult`). */
export interface PushOutcomeLike {
  outcome: EnrollmentPushOutcome;
  reason?: string;
}

/** Counts of push outcomes over the recent window, for `/healthz`. */
export interface PushStatsSnapshot {
  windowSeconds: number;
  accepted: number;
  failed: number;
  deferred: number;
  noToken: number;
  /** Failed and deferred pushes by reason (e.g. `ECONNREFUSED`, `Unregistered`, `CircuitOpen`). */
  byReason: Record<string, number>;
  /** The latest failed or deferred push, or `null` when none happened since start. */
  lastFailure: { outcome: string; reason: string; at: string } | null;
}

/** Push outcomes over a sliding window (see {@link createPushStats}). */
export interface PushStats {
  record(results: readonly PushOutcomeLike[]): void;
  snapshot(): PushStatsSnapshot;
}

interface Bucket {
  start: number;
  counts: Record<'accepted' | 'failed' | 'deferred' | 'noToken', number>;
  byReason: Map<string, number>;
}

const BUCKET_MS = 10_000;
/** Distinct reasons kept per bucket; the rest count as `Other`. */
const MAX_REASONS = 50;

/**
 * Counts push outcomes in 10-second buckets over the last `windowMs` (default 5 minutes), so
 * memory stays bounded however many pushes fail. `now` gives milliseconds; default `Date.now`.
 */
export function createPushStats(now: () => number = Date.now, windowMs = 300_000): PushStats {
  const buckets: Bucket[] = [];
  let lastFailure: PushStatsSnapshot['lastFailure'] = null;
  const current = (t: number): Bucket => {
    const start = t - (t % BUCKET_MS);
    const last = buckets.at(-1);
    if (last?.start === start) return last;
    const fresh: Bucket = {
      start,
      counts: { accepted: 0, failed: 0, deferred: 0, noToken: 0 },
      byReason: new Map(),
    };
    buckets.push(fresh);
    while (buckets.length > 0 && (buckets[0]?.start ?? t) <= t - windowMs) buckets.shift();
    return fresh;
  };
  return {
    record(results) {
      if (results.length === 0) return;
      const t = now();
      const bucket = current(t);
      for (const r of results) {
        bucket.counts[r.outcome === 'no-token' ? 'noToken' : r.outcome]++;
        if (r.outcome !== 'failed' && r.outcome !== 'deferred') continue;
        const reason = r.reason ?? 'Unknown';
        const key =
          bucket.byReason.has(reason) || bucket.byReason.size < MAX_REASONS ? reason : 'Other';
        bucket.byReason.set(key, (bucket.byReason.get(key) ?? 0) + 1);
        lastFailure = { outcome: r.outcome, reason, at: new Date(t).toISOString() };
      }
    },
    snapshot() {
      const t = now();
      const out: PushStatsSnapshot = {
        windowSeconds: Math.round(windowMs / 1000),
        accepted: 0,
        failed: 0,
        deferred: 0,
        noToken: 0,
        byReason: {},
        lastFailure,
      };
      for (const b of buckets) {
        if (b.start <= t - windowMs) continue;
        out.accepted += b.counts.accepted;
        out.failed += b.counts.failed;
        out.deferred += b.counts.deferred;
        out.noToken += b.counts.noToken;
        for (const [reason, n] of b.byReason)
          out.byReason[reason] = (out.byReason[reason] ?? 0) + n;
      }
      return out;
    },
  };
}

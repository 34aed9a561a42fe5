/**
 * Warnings for failed and deferred pushes that stay readable in a fleet-wide outage: one line per
 * distinct outcome and reason per interval, carrying how many pushes it stands for. The first
 * failure of a reason is logged at once; repeats within the interval are counted and logged when
 * it ends. Results carry no push token or PushMagic, so neither can reach the log.
 */
import type { EnrollmentPushOutcome } from '../storage/ports.js';
import type { Logger } from './ports.js';

/** What the log needs of one push result. */
export interface LoggedPushResult {
  enrollmentId: string;
  outcome: EnrollmentPushOutcome;
  reason?: string;
}

/** Options of {@link createPushFailureLog}. */
export interface PushFailureLogOptions {
  /** Least time between two lines for the same outcome and reason, in ms; default 10,000. */
  intervalMs?: number;
  /** Milliseconds now; default `Date.now`. */
  now?: () => number;
}

/** An aggregating warning log for push failures. */
export interface PushFailureLog {
  /** Counts the failed and deferred results (others are ignored) and logs what is due. */
  record(results: readonly LoggedPushResult[]): void;
  /** Logs every count held back so far and stops the timer (on shutdown). */
  flush(): void;
}

interface Window {
  outcome: EnrollmentPushOutcome;
  reason: string;
  start: number;
  held: number;
  sample: string[];
}

/** Distinct outcome/reason pairs tracked at once; the rest share one `Other` line. */
const MAX_KEYS = 100;
const SAMPLE = 3;

/** Creates the log. Throws `TypeError` when `intervalMs` is negative or not a number. */
export function createPushFailureLog(
  logger: Logger,
  options: PushFailureLogOptions = {},
): PushFailureLog {
  const intervalMs = options.intervalMs ?? 10_000;
  if (!(intervalMs >= 0)) throw new TypeError('intervalMs must be a number >= 0');
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;

  const emit = (w: Window, count: number, sample: readonly string[]): void => {
    logger.warn(
      { outcome: w.outcome, reason: w.reason, count, enrollmentIds: sample, intervalMs },
      w.outcome === 'failed' ? 'push failed' : 'push deferred',
    );
  };
  const tick = (): void => {
    const t = now();
    for (const [key, w] of windows) {
      if (t - w.start < intervalMs) continue;
      if (w.held === 0) {
        windows.delete(key);
        continue;
      }
      emit(w, w.held, w.sample);
      Object.assign(w, { start: t, held: 0, sample: [] });
    }
    if (windows.size > 0) arm();
  };
  const arm = (): void => {
    if (timer !== undefined || intervalMs === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      tick();
    }, intervalMs);
    timer.unref();
  };
  const keyOf = (outcome: EnrollmentPushOutcome, reason: string): [string, string] => {
    const key = `${outcome}/${reason}`;
    return windows.has(key) || windows.size < MAX_KEYS
      ? [key, reason]
      : [`${outcome}/Other`, 'Other'];
  };

  return {
    record(results) {
      const groups = new Map<
        string,
        { outcome: EnrollmentPushOutcome; reason: string; ids: string[] }
      >();
      for (const r of results) {
        if (r.outcome !== 'failed' && r.outcome !== 'deferred') continue;
        const [key, reason] = keyOf(r.outcome, r.reason ?? 'Unknown');
        const group = groups.get(key) ?? { outcome: r.outcome, reason, ids: [] };
        group.ids.push(r.enrollmentId);
        groups.set(key, group);
      }
      const t = now();
      for (const [key, g] of groups) {
        const w = windows.get(key);
        if (w === undefined || t - w.start >= intervalMs) {
          const fresh: Window = {
            outcome: g.outcome,
            reason: g.reason,
            start: t,
            held: 0,
            sample: [],
          };
          windows.set(key, fresh);
          emit(fresh, g.ids.length + (w?.held ?? 0), g.ids.slice(0, SAMPLE));
        } else {
          w.held += g.ids.length;
          w.sample.push(...g.ids.slice(0, SAMPLE - w.sample.length));
        }
      }
      if (windows.size > 0) arm();
    },
    flush() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      for (const w of windows.values()) if (w.held > 0) emit(w, w.held, w.sample);
      windows.clear();
    },
  };
}

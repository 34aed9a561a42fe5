/**
 * What a simulated fleet did: enrollments, commands by status, request types, distinct errors and
 * round-trip latency percentiles, collected as sessions finish and printed as text or JSON.
 */
import type { SimSessionResult } from './types.js';

/** Latency percentiles over every HTTP round trip, in milliseconds (0 when none). */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The summary of one fleet run; `orchard sim --json` prints it as one object. */
export interface FleetSummary {
  devices: number;
  enrolled: number;
  failed: number;
  /** Device connections (check-ins after a push or on the interval). */
  sessions: number;
  /** Pushes the APNs endpoint accepted. */
  pushes: number;
  /** Command results by status: Acknowledged, Error, NotNow, CommandFormatError. */
  commands: Record<string, number>;
  requestTypes: Record<string, number>;
  /** How many errors in all and the first few distinct messages. */
  errors: { count: number; first: string[] };
  /** Requests sent a second time after a connection reset (not errors). */
  retries: number;
  latencyMs: LatencySummary;
  elapsedMs: number;
}

/** Collects results while a fleet runs; `snapshot` is cheap enough for a progress line. */
export interface SummaryCollector {
  enrolled(): void;
  failed(message: string): void;
  session(result: SimSessionResult): void;
  error(message: string): void;
  snapshot(extra: { pushes: number; elapsedMs: number }): FleetSummary;
}

const DISTINCT_ERRORS = 5;

/** The `p`-th percentile (0..100) of ascending `sorted` by nearest rank; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

/** Latency percentiles of `values` (any order), rounded to 0.1 ms. */
export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

function add(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

/** A collector for a fleet of `devices` devices. */
export function createSummaryCollector(devices: number): SummaryCollector {
  let enrolled = 0;
  let failed = 0;
  let sessions = 0;
  let errorCount = 0;
  let retries = 0;
  const first = new Set<string>();
  const commands: Record<string, number> = {};
  const requestTypes: Record<string, number> = {};
  const latencies: number[] = [];
  const error = (message: string): void => {
    errorCount++;
    if (first.size < DISTINCT_ERRORS) first.add(message);
  };
  return {
    enrolled() {
      enrolled++;
    },
    failed(message) {
      failed++;
      error(message);
    },
    session(result) {
      sessions++;
      add(commands, result.commands);
      add(requestTypes, result.requestTypes);
      for (const ms of result.latenciesMs) latencies.push(ms);
      for (const message of result.errors) error(message);
      retries += result.retries ?? 0;
    },
    error,
    snapshot: ({ pushes, elapsedMs }) => ({
      devices,
      enrolled,
      failed,
      sessions,
      pushes,
      commands: { ...commands },
      requestTypes: { ...requestTypes },
      errors: { count: errorCount, first: [...first] },
      retries,
      latencyMs: latencySummary(latencies),
      elapsedMs: Math.round(elapsedMs),
    }),
  };
}

const pairs = (record: Readonly<Record<string, number>>): string =>
  Object.entries(record)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || 'none';

/** One progress line: enrolled so far, failures, commands answered, errors. */
export function formatProgress(s: FleetSummary): string {
  const answered = Object.values(s.commands).reduce((a, b) => a + b, 0);
  return (
    `enrolled ${s.enrolled}/${s.devices}, failed ${s.failed}, sessions ${s.sessions}, ` +
    `commands ${answered}, errors ${s.errors.count}, ${(s.elapsedMs / 1000).toFixed(1)}s`
  );
}

/** The summary as readable text, several lines ending in a newline. */
export function formatSummary(s: FleetSummary): string {
  const l = s.latencyMs;
  const lines = [
    `devices   ${s.devices}: enrolled ${s.enrolled}, failed ${s.failed}`,
    `sessions  ${s.sessions} (pushes accepted ${s.pushes})`,
    `commands  ${pairs(s.commands)}`,
    `requests  ${pairs(s.requestTypes)}`,
    `latency   p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms (${l.count} round trips)`,
    `errors    ${s.errors.count}${s.retries > 0 ? ` (${s.retries} requests retried after a connection reset)` : ''}`,
    ...s.errors.first.map((e) => `  ${e}`),
    `elapsed   ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

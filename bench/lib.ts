/**
 * Tiny benchmark harness. Every figure is reported next to a baseline measured in the
 * same run, as a ratio, because the machines are noisy and absolute rates are not comparable
 * between runs.
 */
import { request, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * One row of `npm run bench`'s table: a figure measured next to a baseline in the same run.
 * `ratio` is always value / baselineValue (so for times and CPU, lower is better, as
 * `higherIsBetter` says); `met` is set only when the row has a goal.
 */
export interface BenchRow {
  /** Stable identifier for `--compare` and for running one row (e.g. `checkin.idle.keepalive`). */
  id: string;
  /** What is measured, in a few words. */
  what: string;
  /** The same-run baseline, in a few words. */
  baseline: string;
  /** The baseline's figure, in `unit`. */
  baselineValue: number;
  /** The measured figure (median of `runs`), in `unit`. */
  value: number;
  /** Unit of `value` and `baselineValue`, e.g. `req/s`, `ms`, `MB`. */
  unit: string;
  /** value / baselineValue, whichever direction is better. */
  ratio: number;
  /** Whether a larger `value` is better. */
  higherIsBetter: boolean;
  /** The goal, as text (e.g. `ratio >= 0.8`, `< 1.5 s`). */
  goal?: string;
  /** Whether the goal holds in this run. */
  met?: boolean;
  /** How many repetitions the median was taken over. */
  runs: number;
  /** Anything else worth keeping in the JSON (percentiles, CPU, counts). */
  detail?: Record<string, unknown>;
}

/** Options every bench module's `rows()` receives. */
export interface BenchOptions {
  /** 1 = the issue's sizes; smaller (e.g. 0.1 from `--quick` or `ORCHARD_SCALE`) for quick runs. */
  scale: number;
}

/**
 * The contract of a `bench/*.bench.ts` module that `npm run bench` runs: it measures its rows
 * (medians of repeated runs, baselines in the same run) and returns them; it may print detail.
 */
export type BenchModule = { rows(options: BenchOptions): Promise<BenchRow[]> };

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A row's goal: on the ratio to its baseline, or on its own value (in its unit). */
export type Goal =
  { ratioAtLeast: number } | { ratioAtMost: number } | { below: number } | { atLeast: number };

/** What {@link benchRow} needs: every repetition's figures, the median is taken here. */
export interface RowInput {
  id: string;
  what: string;
  baseline: string;
  /** The baseline's figure in each repetition (one value for a fixed baseline). */
  baselineValues: readonly number[];
  /** The measured figure in each repetition. */
  values: readonly number[];
  unit: string;
  higherIsBetter: boolean;
  goal?: Goal;
  detail?: Record<string, unknown>;
}

/** The text of a goal, as the table prints it. */
export function goalText(goal: Goal, unit: string): string {
  if ('ratioAtLeast' in goal) return `ratio >= ${String(goal.ratioAtLeast)}`;
  if ('ratioAtMost' in goal) return `ratio <= ${String(goal.ratioAtMost)}`;
  if ('below' in goal) return `< ${String(goal.below)} ${unit}`;
  return `>= ${String(goal.atLeast)} ${unit}`;
}

/** Whether `goal` holds for a row's median value and ratio. */
function goalMet(goal: Goal, value: number, ratio: number): boolean {
  if ('ratioAtLeast' in goal) return ratio >= goal.ratioAtLeast;
  if ('ratioAtMost' in goal) return ratio <= goal.ratioAtMost;
  if ('below' in goal) return value < goal.below;
  return value >= goal.atLeast;
}

/**
 * Builds a {@link BenchRow} from the figures of every repetition: medians of both sides, their
 * ratio, and the goal's verdict. The repetitions themselves are kept in `detail`.
 */
export function benchRow(input: RowInput): BenchRow {
  const value = median(input.values);
  const baselineValue = median(input.baselineValues);
  const ratio = value / baselineValue;
  const row: BenchRow = {
    id: input.id,
    what: input.what,
    baseline: input.baseline,
    baselineValue,
    value,
    unit: input.unit,
    ratio,
    higherIsBetter: input.higherIsBetter,
    runs: input.values.length,
    detail: {
      values: [...input.values],
      baselineValues: [...input.baselineValues],
      ...input.detail,
    },
  };
  if (input.goal !== undefined) {
    row.goal = goalText(input.goal, input.unit);
    row.met = goalMet(input.goal, value, ratio);
  }
  return row;
}

/**
 * Runs each labelled function `runs` times, alternating between them so that a burst of load
 * from other processes does not land on one side of a ratio only; returns every result by label.
 */
export async function alternate<T>(
  runs: number,
  fns: Readonly<Record<string, () => Promise<T>>>,
): Promise<Record<string, T[]>> {
  const out: Record<string, T[]> = {};
  for (const key of Object.keys(fns)) out[key] = [];
  for (let r = 0; r < runs; r++) {
    for (const [key, fn] of Object.entries(fns)) out[key]!.push(await fn());
  }
  return out;
}

/** Seconds `fn` takes (wall time), with the CPU seconds this process spent meanwhile. */
export async function timeIt(fn: () => unknown): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Scales a size by the run's scale, never below `min`. */
export function scaled(size: number, scale: number, min = 1): number {
  return Math.max(min, Math.round(size * scale));
}

/** One measured rate. */
export interface Rate {
  name: string;
  /** Operations per second of wall time. */
  opsPerSec: number;
  /** Operations per CPU-second of this process (user + system). */
  opsPerCpuSec: number;
  ops: number;
}

/** Seconds each measurement runs; `BENCH_SECONDS` overrides (e.g. 0.2 for a smoke run). */
export const benchSeconds = Number(process.env.BENCH_SECONDS ?? '2');

/**
 * Runs `fn` repeatedly for about `seconds` (after a short warm-up) and returns its rate.
 * `fn` may be async; it is awaited one call at a time.
 */
export async function measure(
  name: string,
  fn: () => unknown,
  seconds = benchSeconds,
): Promise<Rate> {
  const warmUntil = performance.now() + Math.min(300, seconds * 250);
  while (performance.now() < warmUntil) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let ops = 0;
  let batch = 1;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) await fn();
    ops += batch;
    if (batch < 1024) batch *= 2;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  return { name, ops, opsPerSec: ops / wall, opsPerCpuSec: ops / Math.max(cpuSec, 1e-9) };
}

/** Prints a table of rates with each row's ratio to `baseline` and the goal it must meet. */
export function report(
  title: string,
  baseline: Rate,
  rows: readonly { rate: Rate; goal?: number }[],
): void {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(`\n## ${title}`);
  console.log(`| measurement | ops/s | ratio to baseline | goal |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(`| ${baseline.name} (baseline) | ${fmt(baseline.opsPerSec)} | 1.00 | |`);
  for (const { rate, goal } of rows) {
    const ratio = rate.opsPerSec / baseline.opsPerSec;
    const verdict = goal === undefined ? '' : `${goal} ${ratio >= goal ? 'met' : 'MISSED'}`;
    console.log(`| ${rate.name} | ${fmt(rate.opsPerSec)} | ${ratio.toFixed(2)} | ${verdict} |`);
  }
}

/** PUTs `body` to `/mdm` on 127.0.0.1:`port` through `agent`; resolves the status, body discarded. */
export function putMdm(
  agent: Agent,
  port: number,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/mdm', method: 'PUT', agent, headers },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

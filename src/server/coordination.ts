/**
 * Coordination of one process alone (the default when none is given: nothing else shares the
 * database), and the runner of singleton background jobs over any {@link Coordination}: on
 * PostgreSQL the job runs under an advisory lock, on SQLite under a lease row, so of several
 * processes at most one runs each tick.
 */
import { closedError } from '../storage/support.js';
import type { Logger } from '../logger.js';
import type { Coordination } from '../storage/ports.js';

const inProcess = new WeakSet<Coordination>();

/** True for a coordination of {@link inProcessCoordination} (no other daemon shares its database). */
export function isInProcess(coordination: Coordination): boolean {
  return inProcess.has(coordination);
}

/**
 * The in-process coordination: a job name is held while its run is under way in this process;
 * shared buckets never refuse (the local bucket in front of them is the whole limit); a
 * notification calls this process's listeners at once.
 */
export function inProcessCoordination(): Coordination {
  const running = new Set<string>();
  const topics = new Map<string, Set<() => void>>();
  let closed = false;
  const coordination: Coordination = {
    async exclusive(name, fn) {
      if (closed) throw closedError();
      if (running.has(name)) return { skipped: true };
      running.add(name);
      try {
        return { value: await fn() };
      } finally {
        running.delete(name);
      }
    },
    take: () => Promise.resolve(undefined),
    blocked: () => Promise.resolve(undefined),
    notify(topic) {
      if (!closed) for (const fn of topics.get(topic) ?? []) fn();
      return Promise.resolve();
    },
    listen(topic, fn) {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(fn);
      return () => {
        set.delete(fn);
      };
    },
    close() {
      closed = true;
      topics.clear();
      return Promise.resolve();
    },
  };
  inProcess.add(coordination);
  return coordination;
}

/** Options of {@link startSingletonJob}. */
export interface SingletonJobOptions {
  /** The job's name among the daemons (the advisory lock's name). */
  name: string;
  /** Milliseconds between ticks; the timer never keeps the process alive. */
  intervalMs: number;
  /** Run one tick at start (default false). */
  runAtStart?: boolean;
  logger: Logger;
}

/** A running singleton job. */
export interface SingletonJob {
  /** Runs one tick now under the job's lock; `{skipped: true}` when another daemon holds it. */
  tick(): Promise<{ value: number } | { skipped: true }>;
  /** Stops the timer and waits for a tick under way. */
  stop(): Promise<void>;
}

/**
 * Runs `work` every `intervalMs` under `coordination.exclusive(name)`: a tick another daemon is
 * running is skipped here (its next tick may find the work done); a failed tick is logged. Ticks
 * of this process never overlap. Throws TypeError on a non-positive interval.
 */
export function startSingletonJob(
  coordination: Coordination,
  work: () => Promise<number>,
  options: SingletonJobOptions,
): SingletonJob {
  if (!(options.intervalMs > 0)) throw new TypeError('intervalMs must be positive');
  let running: Promise<{ value: number } | { skipped: true }> | undefined;
  const tick = () => {
    running ??= coordination
      .exclusive(options.name, work)
      .catch((err: unknown) => {
        options.logger.error({ err, job: options.name }, 'background job tick failed');
        return { value: 0 };
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  if (options.runAtStart === true) void tick();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

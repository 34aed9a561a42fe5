/**
 * `orchard serve --workers N`: several processes serving one port over one SQLite database in WAL
 * mode. The primary only supervises: it forks worker 1 (the one with the background jobs: webhook
 * delivery, reconciliation, retention, identity renewal, the push certificate watch) and, once it
 * listens (first-start work done once), the others; the kernel spreads connections among them
 * (`SCHED_NONE`: each worker accepts on the shared socket, the primary never touches a request).
 * A worker that dies is forked again with the same index after a backoff; SIGTERM to the primary
 * drains every worker. The log stays one stream of unbroken JSON lines: when stdout is a regular
 * file, workers write to it themselves (each line is one write(2), which the kernel never
 * interleaves on a file); otherwise (a pipe, a socket, a terminal, where a long line could be
 * split) their stdout passes through the primary whole lines at a time. Stderr always does.
 * `GET /metrics` on any worker answers the whole daemon's metrics, collected by the primary
 * (`cluster-metrics.ts`); rate limits, singleton jobs and notifications are shared through the
 * SQLite file (`openSqliteCoordination`).
 */
import cluster, { type Worker } from 'node:cluster';
import { fstatSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../index.js';
import type { ServiceRole } from './services.js';
import { withDaemonNodeFlags } from './node-flags.js';
import { clusterMetricsCollector } from './cluster-metrics.js';

/** The variable carrying a worker's index (1 runs the background jobs). */
export const WORKER_INDEX_ENV = 'ORCHARD_WORKER_INDEX';

/** Messages between the primary and its workers. */
type ClusterMessage =
  { orchard: 'listening'; port: number } | { orchard: 'push-reloaded' } | { orchard: 'push-check' };

function isMessage(value: unknown): value is ClusterMessage {
  return typeof value === 'object' && value !== null && 'orchard' in value;
}

/** Options of {@link superviseWorkers}. */
export interface SupervisorOptions {
  /** How many workers (at least 1). */
  workers: number;
  logger: Logger;
  /**
   * Where workers' stdout and stderr lines go; default this process's (workers write to stdout
   * themselves when it is a regular file).
   */
  stdout?: Writable;
  stderr?: Writable;
  /** Restart delay after the first death, doubled per quick death up to `maxMs`; default 100 ms to 30 s. */
  backoff?: { baseMs: number; maxMs: number };
  /** A worker up this long has its quick-death count reset; default 30 s. */
  stableMs?: number;
  /** How long `/metrics` waits for each worker's registry; default 2 s (then it is left out). */
  metricsTimeoutMs?: number;
}

/** The running supervisor of {@link superviseWorkers}. */
export interface Supervisor {
  /** Resolves with the exit code when worker 1 fails before ever listening (e.g. bad config). */
  readonly failed: Promise<number>;
  /** Stops restarting, sends SIGTERM to every worker and waits for them to exit. */
  stop(): Promise<void>;
}

/** Writes whole lines of `from` to `to`; a last line without a newline is ended at the end. */
function forwardLines(from: Readable | null, to: Writable): void {
  if (!from) return;
  let pending = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const text = pending + chunk;
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      pending = text;
      return;
    }
    pending = text.slice(end + 1);
    to.write(text.slice(0, end + 1));
  });
  from.on('end', () => {
    if (pending !== '') to.write(`${pending}\n`);
    pending = '';
  });
}

/** True when this process's stdout is a regular file (not a pipe, socket or terminal). */
function stdoutIsFile(): boolean {
  try {
    return fstatSync(1).isFile();
  } catch {
    return false;
  }
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  startedAt: number;
  quickDeaths: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * Forks the workers (this process must be the cluster primary) and keeps them running. Workers
 * rerun this process's command line with {@link WORKER_INDEX_ENV} set. Throws TypeError on a
 * count below 1.
 */
export function superviseWorkers(options: SupervisorOptions): Supervisor {
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new TypeError('workers must be a positive integer');
  const { logger } = options;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const baseMs = options.backoff?.baseMs ?? 100;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  const stableMs = options.stableMs ?? 30_000;
  // The kernel spreads connections (each worker accepts); NODE_CLUSTER_SCHED_POLICY=rr overrides.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined)
    cluster.schedulingPolicy = cluster.SCHED_NONE;
  const direct = options.stdout === undefined && stdoutIsFile();
  cluster.setupPrimary({
    execArgv: withDaemonNodeFlags(process.execArgv, process.env.NODE_OPTIONS),
    stdio: ['ignore', direct ? 'inherit' : 'pipe', 'pipe', 'ipc'],
  });
  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({
    ...{ index: i + 1, worker: undefined },
    ...{ startedAt: 0, quickDeaths: 0, restart: undefined },
  }));
  let stopping = false;
  let everListened = false;
  let fail: (code: number) => void = () => undefined;
  const failed = new Promise<number>((resolve) => {
    fail = resolve;
  });

  const broadcast = (message: ClusterMessage, except: Worker): void => {
    for (const slot of slots)
      if (slot.worker && slot.worker !== except && slot.worker.isConnected())
        slot.worker.send(message);
  };

  // `/metrics` of the whole daemon: a worker asks, the primary collects every worker's registry.
  const metrics = clusterMetricsCollector({
    workers: function* () {
      for (const slot of slots) if (slot.worker) yield { index: slot.index, worker: slot.worker };
    },
    logger,
    ...(options.metricsTimeoutMs === undefined ? {} : { timeoutMs: options.metricsTimeoutMs }),
  });

  const onMessage = (slot: Slot, worker: Worker, message: unknown): void => {
    if (metrics.onMessage({ index: slot.index, worker }, message)) return;
    if (!isMessage(message)) return;
    if (message.orchard === 'listening') {
      const { port } = message;
      logger.info({ worker: slot.index, pid: worker.process.pid, port }, 'worker listening');
      if (!everListened) {
        everListened = true;
        for (const other of slots) if (other.worker === undefined) fork(other);
      }
    } else if (message.orchard === 'push-reloaded') broadcast({ orchard: 'push-check' }, worker);
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker === worker) slot.worker = undefined;
    if (stopping) return;
    if (!everListened) {
      // Worker 1 could not start (configuration, database, address): nothing to restart.
      logger.error({ worker: slot.index, code, signal }, 'worker failed to start');
      stopping = true;
      fail(code !== null && code !== 0 ? code : 1);
      return;
    }
    const up = Date.now() - slot.startedAt;
    slot.quickDeaths = up >= stableMs ? 0 : slot.quickDeaths + 1;
    const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, slot.quickDeaths - 1));
    logger.error(
      { worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delay },
      'worker died; restarting it',
    );
    slot.restart = setTimeout(() => {
      slot.restart = undefined;
      if (!stopping) fork(slot);
    }, delay);
  };

  function fork(slot: Slot): void {
    // Every worker asks for the configured address: the primary hands each the one shared socket
    // (with port 0, the port of the first; a new one only if every worker died at once).
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    forwardLines(worker.process.stdout, stdout);
    forwardLines(worker.process.stderr, stderr);
    worker.on('message', (message: unknown) => {
      onMessage(slot, worker, message);
    });
    worker.on('exit', (code: number | null, signal: string | null) => {
      onExit(slot, worker, code, signal);
    });
  }

  for (const first of slots.slice(0, 1)) fork(first);
  return {
    failed,
    async stop() {
      stopping = true;
      const exits: Promise<void>[] = [];
      for (const slot of slots) {
        if (slot.restart !== undefined) clearTimeout(slot.restart);
        const worker = slot.worker;
        if (!worker || worker.process.exitCode !== null || worker.process.signalCode !== null)
          continue;
        exits.push(
          new Promise((resolve) => {
            worker.once('exit', () => {
              resolve();
            });
          }),
        );
        worker.process.kill('SIGTERM');
      }
      await Promise.all(exits);
    },
  };
}

/** True in a worker forked by {@link superviseWorkers}. */
export function isOrchardWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_INDEX_ENV] !== undefined;
}

/**
 * `--rate-limit` divided among the workers (rounded up): how workers were limited before they
 * shared buckets through the SQLite file. Kept for compatibility only; nothing uses it any more
 * (every worker takes the whole limit, and the shared bucket holds it in all).
 */
export function workerRateLimit(perMinute: number, workers: number): number {
  if (perMinute === 0 || workers <= 1) return perMinute;
  return Math.ceil(perMinute / workers);
}

/** This worker's role: worker 1 runs the background jobs and tells the others of a push reload. */
export function workerRole(): ServiceRole {
  const index = Number(process.env[WORKER_INDEX_ENV]);
  return {
    background: index === 1,
    index,
    onPushReloaded: () => {
      process.send?.({ orchard: 'push-reloaded' } satisfies ClusterMessage);
    },
  };
}

/**
 * Tells the primary this worker listens on `port`, and checks the push certificate files when
 * another worker reloaded them.
 */
export function joinCluster(port: number, daemon: { recheckPush(): Promise<boolean> }): void {
  process.on('message', (message: unknown) => {
    if (isMessage(message) && message.orchard === 'push-check') void daemon.recheckPush();
  });
  process.send?.({ orchard: 'listening', port } satisfies ClusterMessage);
}

/**
 * Leaves the cluster once this worker has closed: closes the channel so the process can end with
 * its exit code, and ends it anyway shortly after if a handle still holds it.
 */
export function leaveCluster(): void {
  cluster.worker?.disconnect();
  setTimeout(() => process.exit(), 2_000).unref();
}

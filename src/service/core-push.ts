/**
 * The push half of the MDM core. Every push yields one outcome per enrollment (`accepted`,
 * `failed`, `deferred`, `no-token`) mapped from the push provider's results. The push after
 * queueing a command runs in the background, bounded in concurrency and backlog, so queueing
 * never waits for APNs; its outcomes are recorded on the command's targets, and `close()` waits
 * for what is in progress.
 *
 * Coalescing: each target carries the uuid of its oldest command the device has never fetched
 * (`PushInfo.queueHead`) as its `coalesceKey`, so the provider lets an earlier push absorb this
 * one only while that command is still unfetched, read after this command was stored. Then the
 * device has not polled since the earlier push was looked up (a poll offers the oldest pending
 * command, and it polls until its queue is empty), so its next poll also finds this command.
 * The read is on the push path, in whichever process pushes, and needs nothing from the idle
 * poll path; a push with nothing queued (no key) is never absorbed by a remembered one.
 */
import type { PushOutcome, PushResult, PushTarget } from '../push/ports.js';
import type { CommandQueue, EnrollmentPushOutcome, PushInfoStore } from '../storage/ports.js';
import type { EnrollmentPushResult, MdmCoreDeps, PushOptions } from './core-context.js';
import { createPushFailureLog } from './push-failure-log.js';
import type { Logger } from './ports.js';

/** Pushes of the core (see the module comment). */
export interface CorePushes {
  /** Pushes now and resolves one result per distinct id, in order. Never rejects for a push problem. */
  pushNow(ids: readonly string[]): Promise<EnrollmentPushResult[]>;
  /**
   * Looks up the targets' push info and hands the command's push to the background; resolves
   * once it is handed over, not when it is sent. Never rejects: the command stays queued anyway.
   */
  schedule(uuid: string, ids: readonly string[]): Promise<void>;
  /**
   * Like {@link schedule} for a command to many targets, off the caller's path: from the next
   * turn of the event loop, the ids are looked up and queued a chunk at a time, each chunk
   * waiting for room in half the backlog (so a fleet-wide command never defers for `QueueFull`
   * and leaves room for other commands). `close()` waits for it and defers what is left.
   */
  scheduleInBackground(uuid: string, ids: readonly string[]): void;
  /** Defers what has not started (`Shutdown`), waits for what has, and flushes the failure log. */
  close(): Promise<void>;
}

/** What {@link createCorePushes} needs. */
export interface CorePushDeps {
  storage: Pick<PushInfoStore, 'findPushInfo'> & Pick<CommandQueue, 'recordPushOutcomes'>;
  logger: Logger;
  clock: () => Date;
  push?: MdmCoreDeps['push'];
  onPushResults?: MdmCoreDeps['onPushResults'];
}

/** Provider reasons that mean "not sent now" rather than "APNs or the network said no". */
const DEFERRED_REASONS = new Set(['CircuitOpen', 'Closed', 'QueueFull', 'Shutdown']);
const FALLBACK_REASON: Partial<Record<PushOutcome, string>> = {
  unregistered: 'Unregistered',
  dead: 'Unregistered',
  'bad-token': 'BadDeviceToken',
  rejected: 'Rejected',
  failed: 'Failed',
};

function outcomeOf(r: PushResult): EnrollmentPushOutcome {
  if (r.outcome === 'sent' || r.outcome === 'coalesced') return 'accepted';
  if (r.outcome === 'dead') return 'no-token';
  if (r.outcome === 'failed' && r.reason !== undefined && DEFERRED_REASONS.has(r.reason))
    return 'deferred';
  return 'failed';
}

/**
 * The core's outcome for one target from the push provider's result: `sent` and `coalesced` are
 * `accepted`; `CircuitOpen` and `Closed` are `deferred`; a known-dead token is `no-token`; the
 * rest `failed`, with the transport error code (e.g. `ECONNREFUSED`) or APNs's reason. An absent
 * result (the function reported none) counts as `accepted`.
 */
export function pushOutcomeOf(
  enrollmentId: string,
  result: PushResult | undefined,
  at: Date,
): EnrollmentPushResult {
  if (result === undefined) return { enrollmentId, outcome: 'accepted', at };
  const out: EnrollmentPushResult = { enrollmentId, outcome: outcomeOf(result), at };
  if (out.outcome !== 'accepted') {
    const reason = result.errorCode ?? result.reason ?? FALLBACK_REASON[result.outcome];
    if (reason !== undefined) out.reason = reason;
  }
  if (result.status !== undefined) out.status = result.status;
  if (result.apnsId !== undefined) out.apnsId = result.apnsId;
  return out;
}

function resultFor(value: unknown, target: PushTarget): PushResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<PushResult>;
  return r.enrollmentId === target.enrollmentId && typeof r.outcome === 'string'
    ? (r as PushResult)
    : undefined;
}

function errorReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'PushError';
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be an integer >= 1`);
  return value;
}

interface Lookup {
  targets: PushTarget[];
  noToken: EnrollmentPushResult[];
}

interface Job {
  uuid: string;
  targets: PushTarget[];
}

/** Ids looked up and queued at once by `scheduleInBackground`. */
const BACKGROUND_CHUNK = 10_000;

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

/**
 * Creates the core's pushes. Throws `TypeError` when `options.concurrency` or
 * `options.maxQueued` is not a positive integer.
 */
export function createCorePushes(deps: CorePushDeps, options: PushOptions = {}): CorePushes {
  const { storage, logger, clock, push } = deps;
  const concurrency = positiveInt(options.concurrency ?? 8, 'push.concurrency');
  const maxQueued = positiveInt(options.maxQueued ?? 50_000, 'push.maxQueued');
  const failures = createPushFailureLog(
    logger,
    options.failureLogIntervalMs === undefined ? {} : { intervalMs: options.failureLogIntervalMs },
  );
  let queue: Job[] = [];
  let head = 0;
  let active = 0;
  let backlog = 0;
  let closed = false;
  const inflight = new Set<Promise<void>>();
  /** `scheduleInBackground` loops waiting for room in the backlog. */
  let roomWaiters: (() => void)[] = [];
  const wakeRoomWaiters = (): void => {
    const waiting = roomWaiters;
    roomWaiters = [];
    for (const wake of waiting) wake();
  };

  const report = (results: EnrollmentPushResult[]): void => {
    failures.record(results);
    try {
      deps.onPushResults?.(results);
    } catch (err) {
      logger.error({ err }, 'push results listener failed');
    }
  };

  const all =
    (outcome: EnrollmentPushOutcome) =>
    (targets: PushTarget[], reason: string): EnrollmentPushResult[] => {
      const at = clock();
      return targets.map((t) => ({ enrollmentId: t.enrollmentId, outcome, reason, at }));
    };
  const deferAll = all('deferred');
  const failAll = all('failed');

  async function lookup(ids: readonly string[]): Promise<Lookup> {
    const unique = [...new Set(ids)];
    const infos = new Map((await storage.findPushInfo(unique)).map((i) => [i.enrollmentId, i]));
    const at = clock();
    const out: Lookup = { targets: [], noToken: [] };
    for (const id of unique) {
      const info = infos.get(id);
      if (info !== undefined && info.invalidatedAt === undefined) {
        const { enrollmentId, token, pushMagic, topic, queueHead } = info;
        const target: PushTarget = { enrollmentId, token, pushMagic, topic };
        // Coalesce only while the oldest unfetched command is the same (see the module comment).
        if (queueHead !== undefined) target.coalesceKey = queueHead;
        out.targets.push(target);
      } else {
        const reason = info === undefined ? 'NoPushToken' : 'Unregistered';
        out.noToken.push({ enrollmentId: id, outcome: 'no-token', reason, at });
      }
    }
    return out;
  }

  /** Sends to `targets` through the push provider; never rejects. */
  async function send(targets: PushTarget[]): Promise<EnrollmentPushResult[]> {
    if (targets.length === 0) return [];
    if (push === undefined) return failAll(targets, 'PushDisabled');
    let value: unknown;
    try {
      value = await push.push(targets);
    } catch (err) {
      logger.debug({ err, count: targets.length }, 'push provider failed');
      return failAll(targets, errorReason(err));
    }
    const at = clock();
    const list = Array.isArray(value) && value.length === targets.length ? value : [];
    return targets.map((t, i) => pushOutcomeOf(t.enrollmentId, resultFor(list[i], t), at));
  }

  /** Reports outcomes and records them on the command; never rejects. */
  async function finish(uuid: string, results: EnrollmentPushResult[]): Promise<void> {
    if (results.length === 0) return;
    report(results);
    try {
      await storage.recordPushOutcomes(uuid, results);
    } catch (err) {
      logger.error({ err, commandUuid: uuid }, 'could not record push outcomes');
    }
  }

  const track = (work: Promise<void>): void => {
    const settled = work.catch((err: unknown) => {
      logger.error({ err }, 'background push failed');
    });
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
  };

  async function run(job: Job): Promise<void> {
    try {
      await finish(job.uuid, await send(job.targets));
    } finally {
      active--;
      backlog -= job.targets.length;
      wakeRoomWaiters();
      pump();
    }
  }

  function pump(): void {
    while (active < concurrency && head < queue.length) {
      const job = queue[head++] as Job;
      active++;
      track(run(job));
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  async function schedule(uuid: string, ids: readonly string[]): Promise<void> {
    if (push === undefined) return;
    let found: Lookup;
    try {
      found = await lookup(ids);
    } catch (err) {
      logger.warn({ err, commandUuid: uuid }, 'push skipped: push info unreadable');
      return;
    }
    track(finish(uuid, found.noToken));
    const n = found.targets.length;
    if (n === 0) return;
    if (closed) {
      track(finish(uuid, deferAll(found.targets, 'Shutdown')));
      return;
    }
    // What fits in the backlog is queued; the rest is deferred (one command to 100,000
    // enrollments pushes the first `maxQueued` instead of none).
    const room = Math.max(0, Math.min(n, maxQueued - backlog));
    if (room < n) track(finish(uuid, deferAll(found.targets.slice(room), 'QueueFull')));
    if (room === 0) return;
    const targets = room < n ? found.targets.slice(0, room) : found.targets;
    backlog += room;
    queue.push({ uuid, targets });
    pump();
  }

  /** Waits until `size` more targets fit in half the backlog (or it is empty, or closing). */
  async function roomFor(size: number): Promise<void> {
    while (!closed && backlog > 0 && backlog + size > maxQueued / 2)
      await new Promise<void>((resolve) => roomWaiters.push(resolve));
  }

  /** The chunks of `scheduleInBackground`, each after a turn of the event loop. */
  async function scheduleChunks(uuid: string, ids: readonly string[]): Promise<void> {
    const size = Math.max(1, Math.min(BACKGROUND_CHUNK, Math.floor(maxQueued / 2)));
    for (let i = 0; i < ids.length; i += size) {
      await nextTurn();
      const chunk = ids.slice(i, i + size);
      await roomFor(chunk.length);
      await schedule(uuid, chunk);
    }
  }

  return {
    async pushNow(ids) {
      const found = await lookup(ids);
      const sent = await send(found.targets);
      // Every id had a token (the usual case): `sent` is already in the ids' order.
      let results = sent;
      if (found.noToken.length > 0) {
        const byId = new Map([...sent, ...found.noToken].map((r) => [r.enrollmentId, r]));
        results = [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
      }
      report(results);
      return results;
    },
    schedule,
    scheduleInBackground(uuid, ids) {
      if (push === undefined || ids.length === 0) return;
      track(scheduleChunks(uuid, [...new Set(ids)]));
    },
    async close() {
      closed = true;
      wakeRoomWaiters();
      for (const job of queue.slice(head)) {
        backlog -= job.targets.length;
        track(finish(job.uuid, deferAll(job.targets, 'Shutdown')));
      }
      queue = [];
      head = 0;
      while (inflight.size > 0) await Promise.all([...inflight]);
      failures.flush();
    },
  };
}

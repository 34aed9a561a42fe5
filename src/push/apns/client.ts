/**
 * The APNs client for one push certificate: a connection pool plus the retry policy. 429 and
 * 5xx answers, timeouts and lost connections are retried with jittered exponential backoff;
 * refused streams and streams above a GOAWAY line are resent at once (APNs never saw them);
 * a circuit breaker stops the storm when APNs keeps failing.
 */
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { createCircuitBreaker, type CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import type { ApnsRequestSpec, ApnsTls, AttemptResult, PendingRequest } from './connection.js';
import { createConnectionPool, type ConnectionPool } from './pool.js';
import type { PushOutcome } from '../ports.js';

/** Options of {@link createApnsClient}. */
export interface ApnsClientOptions {
  url: string;
  tls: ApnsTls;
  poolSize: number;
  maxStreamsPerConnection: number;
  requestTimeoutMs: number;
  /** Attempts per push, the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  breaker: { threshold: number; cooldownMs: number; connectThreshold?: number };
  now: () => number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  onCircuit?: (state: CircuitState) => void;
}

/** The final word on one push from the client. */
export interface SendResult {
  outcome: PushOutcome;
  status?: number;
  reason?: string;
  apnsId?: string;
  /** Transport error code behind a `ConnectionError` (e.g. `ECONNREFUSED`). */
  errorCode?: string;
}

/**
 * One push handed to {@link ApnsClient.submit}: the request itself, told its final result once
 * through `settle`, or through `fail` when the retry loop itself throws (e.g. a custom `sleep`).
 */
export interface SendJob extends ApnsRequestSpec {
  settle(result: SendResult): void;
  fail(error: unknown): void;
}

/** Sends pushes with one certificate; the certificate can be swapped while pushes run. */
export interface ApnsClient {
  send(spec: ApnsRequestSpec): Promise<SendResult>;
  /**
   * Sends `job` and calls its `settle` once with the final result: the callback form of
   * {@link ApnsClient.send}, without a promise per push when the first attempt is answered 200.
   */
  submit(job: SendJob): void;
  /** Moves queued pushes to a new pool using `tls`; the old pool finishes its in-flight streams. */
  replaceTls(tls: ApnsTls): Promise<void>;
  close(): Promise<void>;
  readonly circuit: CircuitState;
  readonly connections: number;
  readonly inFlight: number;
  readonly queued: number;
}

const BAD_TOKEN = new Set(['BadDeviceToken', 'DeviceTokenNotForTopic']);
/** Resends of one push refused before processing, before it counts as a failure. */
const MAX_UNPROCESSED = 32;

type Verdict = { final: SendResult; providerFailure: boolean } | 'retry';

function judge(status: number, reason: string | undefined, apnsId: string | undefined): Verdict {
  if (status === 429 || status >= 500) return 'retry';
  const final: SendResult = { outcome: 'rejected', status };
  if (reason !== undefined) final.reason = reason;
  if (apnsId !== undefined) final.apnsId = apnsId;
  if (status === 200) final.outcome = 'sent';
  else if (status === 410) final.outcome = 'unregistered';
  else if (status === 400 && reason !== undefined && BAD_TOKEN.has(reason))
    final.outcome = 'bad-token';
  return { final, providerFailure: status === 403 };
}

/** Where a {@link FirstAttempt} reports its answer. */
interface AttemptOwner {
  answered(job: SendJob, result: AttemptResult): void;
}

/** The first attempt of a push as the pool queues it: one object, no closure per push. */
class FirstAttempt implements PendingRequest {
  deadline = 0;
  constructor(
    readonly spec: SendJob,
    private readonly owner: AttemptOwner,
  ) {}
  done(result: AttemptResult): void {
    this.owner.answered(this.spec, result);
  }
}

/** Creates a client; connections open on the first push. */
export function createApnsClient(options: ApnsClientOptions): ApnsClient {
  const makePool = (tls: ApnsTls): ConnectionPool =>
    createConnectionPool({
      url: options.url,
      tls,
      size: options.poolSize,
      maxStreams: options.maxStreamsPerConnection,
      timeoutMs: options.requestTimeoutMs,
      now: options.now,
    });
  let pool = makePool(options.tls);
  let closed = false;
  /** Failure events already counted by the breaker (one per lost connection or timeout sweep). */
  const counted = new WeakSet<object>();
  const breaker: CircuitBreaker = createCircuitBreaker({
    threshold: options.breaker.threshold,
    cooldownMs: options.breaker.cooldownMs,
    ...(options.breaker.connectThreshold === undefined
      ? {}
      : { connectThreshold: options.breaker.connectThreshold }),
    now: options.now,
    ...(options.onCircuit ? { onChange: options.onCircuit } : {}),
  });

  const attempt = (spec: ApnsRequestSpec): Promise<AttemptResult> =>
    new Promise((resolve) => {
      pool.submit({ spec, deadline: 0, done: resolve });
    });

  /** Runs the retry loop for `job` (after `first`, when an attempt was made) and settles it. */
  const retryJob = (job: SendJob, first?: AttemptResult): void => {
    retrying(job, first).then(
      (r) => {
        job.settle(r);
      },
      (err: unknown) => {
        job.fail(err);
      },
    );
  };
  const owner: AttemptOwner = {
    answered(job, result) {
      if (result.kind !== 'response' || result.status !== 200) {
        retryJob(job, result);
        return;
      }
      breaker.success();
      const sent: SendResult = { outcome: 'sent', status: 200 };
      if (result.apnsId !== undefined) sent.apnsId = result.apnsId;
      job.settle(sent);
    },
  };

  /**
   * The common case without an async frame or a promise: one attempt, answered 200, settles the
   * job straight from the connection's callback.
   */
  function submit(job: SendJob): void {
    if (closed || !breaker.allow()) retryJob(job);
    else pool.submit(new FirstAttempt(job, owner));
  }

  function send(spec: ApnsRequestSpec): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      submit({ ...spec, settle: resolve, fail: reject });
    });
  }

  /** The retry loop; `first` is the result of an attempt already made. */
  async function retrying(spec: ApnsRequestSpec, first?: AttemptResult): Promise<SendResult> {
    let pending = first;
    let failures = 0;
    let unprocessed = 0;
    let last: SendResult = { outcome: 'failed' };
    for (;;) {
      if (closed) return { outcome: 'failed', reason: 'Closed' };
      // Once this push has failed for real, that failure is its result, not the circuit it opened.
      if (pending === undefined && !breaker.allow())
        return failures > 0 ? last : { outcome: 'failed', reason: 'CircuitOpen' };
      const result = pending ?? (await attempt(spec));
      pending = undefined;
      if (result.kind === 'unprocessed' && ++unprocessed <= MAX_UNPROCESSED) {
        breaker.cancel();
        continue;
      }
      if (result.kind === 'response') {
        const verdict = judge(result.status, result.reason, result.apnsId);
        if (verdict !== 'retry') {
          if (verdict.providerFailure) breaker.failure();
          else breaker.success();
          return verdict.final;
        }
        last = { outcome: 'failed', status: result.status, reason: result.reason ?? 'ServerError' };
      } else {
        last = { outcome: 'failed', reason: result.kind === 'error' ? result.reason : 'Refused' };
        if (result.kind === 'error' && result.code !== undefined) last.errorCode = result.code;
      }
      if (result.kind === 'error' && counted.has(result.source)) breaker.cancel();
      else {
        if (result.kind === 'error') counted.add(result.source);
        breaker.failure(result.kind === 'error' && result.connect === true ? 'connect' : undefined);
      }
      if (++failures >= options.maxAttempts) return last;
      await options.sleep(backoffDelay(failures, options.backoff, options.random));
    }
  }

  return {
    send,
    submit,
    async replaceTls(tls) {
      const old = pool;
      pool = makePool(tls);
      for (const req of old.takeQueue()) pool.submit(req);
      await old.close();
    },
    async close() {
      closed = true;
      await pool.close();
    },
    get circuit() {
      return breaker.state;
    },
    get connections() {
      return pool.connections;
    },
    get inFlight() {
      return pool.inFlight;
    },
    get queued() {
      return pool.queued;
    },
  };
}

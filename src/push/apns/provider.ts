/**
 * The APNs {@link PushProvider} for one MDM push certificate: checks each target, coalesces
 * repeated pushes (in flight, or within the window under the same `coalesceKey`), remembers dead tokens, watches certificate expiry and hot-reloads a renewed
 * certificate (refusing a topic change unless forced). Memory and concurrency are bounded by
 * `maxPending` however many targets are pushed at once.
 */
import { CryptoError } from '../../errors.js';
import type {
  PushEvent,
  PushEventListener,
  PushHealth,
  PushProvider,
  PushResult,
  PushTarget,
} from '../ports.js';
import {
  loadPushCertificate,
  daysLeft,
  type PushCertificate,
  type PushCertificateSource,
} from './certificate.js';
import { createApnsClient, type SendJob, type SendResult } from './client.js';
import { runBatch, type Settle } from './batch.js';
import { createCoalescer } from './coalescer.js';
import { createExpiryMonitor, EXPIRY_THRESHOLDS } from './expiry.js';
import { createLimiter } from './limiter.js';
import { resolveProviderOptions, type ApnsProviderOptions } from './options.js';
import { guardTopicChange } from './topic-guard.js';

/** Dependencies of {@link createApnsPushProvider}. */
export interface ApnsProviderDeps {
  certificate: PushCertificate;
  /** Counts enrollments bound to a topic, to say how many devices a topic change would orphan. */
  countEnrollmentsForTopic?: (topic: string) => number | Promise<number>;
  onEvent?: PushEventListener;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A push provider bound to one certificate (one topic). */
export interface ApnsPushProvider extends PushProvider {
  readonly topic: string;
  readonly certificate: PushCertificate;
  /**
   * Swaps in a renewed certificate without dropping queued pushes. Throws `PushError`
   * `ERR_PUSH_TOPIC_CHANGED` (409) when the topic differs and `force` is not set, plus any
   * error of {@link loadPushCertificate}.
   */
  reloadCertificate(
    source: PushCertificate | PushCertificateSource,
    options?: { force?: boolean },
  ): Promise<void>;
  /** A new TokenUpdate arrived for `token`: it may be pushed to again. */
  markTokenUpdated(token: string): void;
  health(): PushHealth;
  /** Emits expiry events that are due (also run on every push and on a timer). */
  checkExpiry(): void;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: PushEventListener): () => void;
  /** Finishes in-flight pushes and closes connections; later pushes fail with `Closed`. */
  close(): Promise<void>;
}

const TOKEN = /^[0-9a-fA-F]{16,200}$/;
const LOWER_HEX = /^[0-9a-f]{16,200}$/;
const sleepFor = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

function resultOf(target: PushTarget, r: SendResult, coalesced: boolean): PushResult {
  const result: PushResult = {
    enrollmentId: target.enrollmentId,
    outcome: coalesced && r.outcome === 'sent' ? 'coalesced' : r.outcome,
  };
  if (r.status !== undefined) result.status = r.status;
  if (r.reason !== undefined) result.reason = r.reason;
  if (r.apnsId !== undefined) result.apnsId = r.apnsId;
  if (r.errorCode !== undefined) result.errorCode = r.errorCode;
  return result;
}

type Fail = (err: unknown) => void;

/** A push coalesced onto one in flight: settled with that push's result. */
interface Waiter {
  target: PushTarget;
  i: number;
  settle: Settle<PushResult>;
  fail: Fail;
}

/** Where a {@link PushJob} reports its outcome. */
interface JobOwner {
  finished(job: PushJob, result: SendResult): void;
  failed(job: PushJob, err: unknown): void;
}

/**
 * One push in flight: the request as it goes on the wire, the batch item it answers and the
 * pushes coalesced onto it. One object per push instead of a promise and closures.
 */
class PushJob implements SendJob {
  waiters: Waiter[] | undefined = undefined;
  constructor(
    readonly token: string,
    readonly topic: string,
    readonly body: string,
    readonly expiration: number,
    readonly priority: 5 | 10,
    readonly target: PushTarget,
    readonly index: number,
    /** The coalescer key; `remember` when a sent push opens the window under it. */
    readonly key: string,
    readonly remember: boolean,
    readonly settleItem: Settle<PushResult>,
    readonly failItem: Fail,
    private readonly owner: JobOwner,
  ) {}
  settle(result: SendResult): void {
    this.owner.finished(this, result);
  }
  fail(err: unknown): void {
    this.owner.failed(this, err);
  }
}

/** Settles the pushes coalesced onto a finished one; a throwing settle fails only its batch. */
function settleWaiters(waiters: readonly Waiter[], result: SendResult): void {
  for (const w of waiters) {
    try {
      w.settle(w.i, resultOf(w.target, result, true));
    } catch (err) {
      w.fail(err);
    }
  }
}

function early(target: PushTarget, outcome: PushResult['outcome'], reason: string): PushResult {
  return { enrollmentId: target.enrollmentId, outcome, reason };
}

/** Creates a provider. Throws `TypeError` on invalid options; connects on the first push. */
export function createApnsPushProvider(
  deps: ApnsProviderDeps,
  options: ApnsProviderOptions = {},
): ApnsPushProvider {
  const opts = resolveProviderOptions(options);
  const now = deps.now ?? Date.now;
  const listeners = new Set<PushEventListener>(deps.onEvent ? [deps.onEvent] : []);
  const emit = (event: PushEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break pushing.
      }
    }
  };
  let cert = deps.certificate;
  let closed = false;
  /** Unregistered tokens and the PushMagic they died with (a new one means a new TokenUpdate). */
  const dead = new Map<string, string>();
  const expiry = createExpiryMonitor(opts.expiryThresholds ?? EXPIRY_THRESHOLDS, now, emit);
  const client = createApnsClient({
    url: opts.url,
    tls: { cert: cert.certPem, key: cert.keyPem, ca: opts.ca },
    poolSize: opts.poolSize,
    maxStreamsPerConnection: opts.maxStreamsPerConnection,
    requestTimeoutMs: opts.requestTimeoutMs,
    maxAttempts: opts.maxAttempts,
    backoff: opts.backoff,
    breaker: opts.breaker,
    now,
    random: deps.random ?? Math.random,
    sleep: deps.sleep ?? sleepFor,
    onCircuit: (state) => {
      if (state !== 'half-open')
        emit({ type: state === 'open' ? 'circuit-open' : 'circuit-closed', topic: cert.topic });
    },
  });
  const coalescer = createCoalescer<SendResult, PushJob>({
    windowMs: opts.coalesceWindowMs,
    maxEntries: opts.maxPending * 4,
    now,
    isSent: (r) => r.outcome === 'sent',
  });
  const limiter = createLimiter(opts.maxPending);
  let lastMagic = '';
  let lastBody = '';
  /** The push body `{"mdm":"<PushMagic>"}`; a repeated PushMagic reuses the last string. */
  const bodyOf = (pushMagic: string): string => {
    if (pushMagic !== lastMagic) {
      lastBody = `{"mdm":${JSON.stringify(pushMagic)}}`;
      lastMagic = pushMagic;
    }
    return lastBody;
  };
  const timer =
    opts.expiryCheckIntervalMs > 0
      ? setInterval(() => {
          provider.checkExpiry();
        }, opts.expiryCheckIntervalMs)
      : undefined;
  timer?.unref();

  /** The token to push to (lower-case hex), or the result when the target cannot be pushed. */
  function precheck(target: PushTarget, at: number): string | PushResult {
    if (closed) return early(target, 'failed', 'Closed');
    if (at > cert.notAfter.getTime()) return early(target, 'failed', 'CertificateExpired');
    if (target.topic !== cert.topic) return early(target, 'rejected', 'TopicMismatch');
    let token = target.token;
    if (token.length % 2 !== 0) return early(target, 'bad-token', 'InvalidToken');
    if (!LOWER_HEX.test(token)) {
      if (!TOKEN.test(token)) return early(target, 'bad-token', 'InvalidToken');
      token = token.toLowerCase();
    }
    if (target.pushMagic === '') return early(target, 'rejected', 'MissingPushMagic');
    if (dead.size > 0) {
      const magic = dead.get(token);
      if (magic === target.pushMagic) return early(target, 'dead', 'Unregistered');
      if (magic !== undefined) dead.delete(token);
    }
    return token;
  }

  function record(target: PushTarget, token: string, result: SendResult): void {
    const topic = cert.topic;
    if (result.outcome === 'unregistered') {
      dead.set(token, target.pushMagic);
      if (dead.size > opts.maxDeadTokens) dead.delete(dead.keys().next().value as string);
      emit({ type: 'token-unregistered', enrollmentId: target.enrollmentId, token, topic });
    } else if (result.outcome === 'bad-token') {
      const reason = result.reason ?? '';
      emit({ type: 'token-rejected', enrollmentId: target.enrollmentId, token, topic, reason });
    }
  }

  const owner: JobOwner = {
    finished(job, result) {
      try {
        coalescer.finish(job.key, result, job.remember);
        if (result.outcome !== 'sent') record(job.target, job.token, result);
        job.settleItem(job.index, resultOf(job.target, result, false));
      } catch (err) {
        job.failItem(err);
      }
      if (job.waiters !== undefined) settleWaiters(job.waiters, result);
    },
    failed(job, err) {
      // Nothing is remembered: a later push to the key goes out again.
      coalescer.finish(job.key, { outcome: 'failed' }, false);
      job.failItem(err);
      for (const w of job.waiters ?? []) w.fail(err);
    },
  };

  /**
   * Pushes to one target: returns the result when it is known at once, else `undefined` and
   * calls `settle(i, result)` once (or `fail` on an unexpected error). No async frame per push.
   */
  function pushOne(
    target: PushTarget,
    i: number,
    settle: Settle<PushResult>,
    fail: Fail,
  ): PushResult | undefined {
    // One clock read per push: the expiry check and apns-expiration.
    const at = now();
    const token = precheck(target, at);
    if (typeof token !== 'string') return token;
    // The PushMagic is part of the key: a push with a new one (re-enrollment) must not be skipped.
    // Only a push with a coalesceKey is remembered after it is sent, under that key: once the
    // device has fetched from its queue the caller's key changes and the next push goes out.
    const { coalesceKey } = target;
    const remember = coalesceKey !== undefined;
    const key = remember
      ? token + '\n' + target.pushMagic + '\n' + coalesceKey
      : token + '\n' + target.pushMagic;
    const hit = coalescer.find(key);
    if (hit !== undefined) {
      if (!(hit instanceof PushJob)) return resultOf(target, hit, true);
      (hit.waiters ??= []).push({ target, i, settle, fail });
      return undefined;
    }
    const exp = opts.expirationSeconds === 0 ? 0 : Math.floor(at / 1000) + opts.expirationSeconds;
    const job = new PushJob(
      token,
      cert.topic,
      bodyOf(target.pushMagic),
      exp,
      opts.priority,
      target,
      i,
      key,
      remember,
      settle,
      fail,
      owner,
    );
    coalescer.start(key, job);
    client.submit(job);
    return undefined;
  }

  const provider: ApnsPushProvider = {
    get topic() {
      return cert.topic;
    },
    get certificate() {
      return cert;
    },
    async push(targets) {
      provider.checkExpiry();
      return runBatch(targets.length, opts.maxPending, limiter, (i, settle, fail) =>
        pushOne(targets[i] as PushTarget, i, settle, fail),
      );
    },
    async reloadCertificate(source, reloadOptions = {}) {
      const next = 'topic' in source ? source : loadPushCertificate(source, { now });
      if (now() > next.notAfter.getTime())
        throw new CryptoError(
          'ERR_CERT_EXPIRED',
          `the new push certificate expired on ${next.notAfter.toISOString()}`,
        );
      await guardTopicChange(
        cert.topic,
        next.topic,
        reloadOptions.force === true,
        deps.countEnrollmentsForTopic,
      );
      const previousTopic = cert.topic;
      cert = next;
      expiry.reset();
      await client.replaceTls({ cert: next.certPem, key: next.keyPem, ca: opts.ca });
      emit({
        type: 'certificate-reloaded',
        topic: next.topic,
        previousTopic,
        notAfter: next.notAfter,
      });
      provider.checkExpiry();
    },
    markTokenUpdated(token) {
      dead.delete(token.toLowerCase());
    },
    health() {
      const left = daysLeft(cert.notAfter, now());
      return {
        topic: cert.topic,
        notAfter: cert.notAfter,
        daysLeft: left,
        expired: now() > cert.notAfter.getTime(),
        circuit: client.circuit,
        connections: client.connections,
        inFlight: client.inFlight,
        queued: client.queued,
      };
    },
    checkExpiry() {
      expiry.check(cert.topic, cert.notAfter);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await client.close();
    },
  };
  return provider;
}

/**
 * Device identity renewal, Apple's way: before a bound certificate expires, the server sends the
 * device, over its own channel, an `InstallProfile` with a fresh enrollment profile whose SCEP
 * payload carries a one-time challenge minted for that enrollment (`renewalTarget`). The device
 * enrolls a new certificate with it and authenticates; `withCertAuth` then moves the binding.
 * Apple's devices never send a SCEP RenewalReq, so without this an identity simply expires.
 */
import { IdentityError } from '../errors.js';
import type { CertBinding, CertBindingStore, IdentityRenewal } from '../storage/ports.js';
import type { MdmCore } from './core.js';
import { silentLogger, type Logger } from './ports.js';

/** What {@link createIdentityRenewal} needs. */
export interface IdentityRenewalDeps {
  store: CertBindingStore;
  core: Pick<MdmCore, 'enqueue' | 'findEnrollment' | 'announce'>;
  /**
   * A signed enrollment profile (DER) for `enrollmentId`, whose SCEP payload carries a one-time
   * challenge bound to `renewalTarget(enrollmentId)` and valid for `challengeTtlSeconds`.
   */
  profile(enrollmentId: string, challengeTtlSeconds: number): Promise<Uint8Array>;
  clock?: () => Date;
  logger?: Logger;
}

/** Policy of {@link createIdentityRenewal}. */
export interface IdentityRenewalOptions {
  /** Renew certificates that expire within this many days (default 30, at least 1). */
  leadDays?: number;
  /** Send a renewal again when the previous one has not completed after this many hours (default 72). */
  retryAfterHours?: number;
  /** How often `start()` sweeps (default one hour). */
  intervalMs?: number;
  /** Renewals queued per sweep at most (default 200): spreads a large fleet over sweeps. */
  batch?: number;
}

/** The renewal scheduler. */
export interface IdentityRenewalService {
  /** The lead time in days: certificates expiring within it are due. */
  readonly leadDays: number;
  /**
   * Queues a renewal for the enrollment now, whatever its certificate's expiry; resolves the
   * renewal recorded. Throws {@link IdentityError} when the enrollment has no live
   * binding or is not enrolled.
   */
  renew(enrollmentId: string): Promise<IdentityRenewal>;
  /** Queues a renewal for every due enrollment (up to `batch`); resolves how many were queued. */
  sweep(): Promise<number>;
  /** When the enrollment's renewal falls due (its certificate's expiry minus the lead time). */
  dueAt(binding: CertBinding): Date | undefined;
  /** Sweeps now and then every `intervalMs`; the timer does not keep the process alive. */
  start(): void;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || (min === 0 && v <= 0))
    throw new TypeError(`createIdentityRenewal(): ${name} must be a number >= ${String(min)}`);
  return v;
}

/**
 * Creates the renewal scheduler over `deps`. Throws TypeError on options out of range. Nothing
 * runs until `sweep()`, `renew()` or `start()`.
 */
export function createIdentityRenewal(
  deps: IdentityRenewalDeps,
  options: IdentityRenewalOptions = {},
): IdentityRenewalService {
  const leadDays = positive('leadDays', options.leadDays, 30, 1);
  const retryMs = positive('retryAfterHours', options.retryAfterHours, 72) * 3_600_000;
  const intervalMs = positive('intervalMs', options.intervalMs, 3_600_000, 1000);
  const batch = Math.min(1000, Math.floor(positive('batch', options.batch, 200, 1)));
  const clock = deps.clock ?? (() => new Date());
  const logger = deps.logger ?? silentLogger;
  const leadMs = leadDays * DAY_MS;
  // The challenge outlives the lead time, so a device offline for most of it can still renew.
  const challengeTtl = Math.round(leadMs / 1000);

  async function renew(enrollmentId: string): Promise<IdentityRenewal> {
    const binding = await deps.store.findCertificateBinding(enrollmentId);
    if (binding === undefined || binding.endedAt !== undefined)
      throw new IdentityError('ERR_NO_BINDING', 'no live certificate binding to renew');
    const enrollment = await deps.core.findEnrollment(enrollmentId);
    if (enrollment?.enrolled !== true)
      throw new IdentityError('ERR_NOT_ENROLLED', 'the enrollment is not enrolled');
    const profile = await deps.profile(enrollmentId, challengeTtl);
    const commandUuid = await deps.core.enqueue([enrollmentId], {
      RequestType: 'InstallProfile',
      Payload: profile,
    });
    const renewal: IdentityRenewal = { commandUuid, requestedAt: clock() };
    await deps.store.recordIdentityRenewal(enrollmentId, renewal);
    await deps.core.announce(enrollment, {
      type: 'identity-renewal-queued',
      commandUuid,
      ...(binding.notAfter === undefined ? {} : { notAfter: binding.notAfter.toISOString() }),
    });
    logger.info({ enrollmentId, commandUuid }, 'identity renewal queued');
    return renewal;
  }

  async function sweep(): Promise<number> {
    const now = clock().getTime();
    const due = await deps.store.listExpiringBindings(new Date(now + leadMs), {
      limit: batch,
      renewalRequestedBefore: new Date(now - retryMs),
    });
    let queued = 0;
    for (const binding of due) {
      try {
        await renew(binding.enrollmentId);
        queued++;
      } catch (error) {
        // One enrollment's failure (checked out meanwhile, storage hiccup) never stops the rest.
        logger.warn(
          { enrollmentId: binding.enrollmentId, err: error },
          'identity renewal not queued',
        );
      }
    }
    return queued;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): void => {
    running = running.then(sweep).catch((error: unknown) => {
      logger.error({ err: error }, 'identity renewal sweep failed');
    });
  };
  return {
    leadDays,
    renew,
    sweep,
    dueAt: (binding) =>
      binding.notAfter === undefined ? undefined : new Date(binding.notAfter.getTime() - leadMs),
    start() {
      if (timer !== undefined) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

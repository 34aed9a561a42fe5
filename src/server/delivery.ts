/**
 * Runs the delivery service beside the MDM core: every enrollment, re-enrollment, check-out and
 * command result is fed to it, and a timer reconciles (ProfileList) devices not reconciled within
 * the interval, a bounded batch per tick. The timer never keeps the process alive. With several
 * daemons on one database the tick runs under the `profile-reconcile` job lock, so one daemon
 * reconciles at a time; events are handled by the daemon whose device request raised them.
 */
import type { Logger } from '../logger.js';
import type { DeliveryEngine } from '../management/delivery/service.js';
import type { MdmEvents } from '../service/events.js';
import type { Coordination } from '../storage/ports.js';

/** Options of {@link startDelivery}. */
export interface DeliveryRunOptions {
  /** How often the reconcile timer ticks; default 5 minutes. */
  tickMs?: number;
  /** Most devices queued a ProfileList per tick; default 500. */
  batch?: number;
  /** Run the reconcile timer (default true); false in a worker that only serves requests. */
  timer?: boolean;
  clock: () => Date;
  logger: Logger;
  /** Daemons sharing the database: one of them runs each tick (default: this process alone). */
  coordination?: Coordination;
}

/** A running delivery: stop it before closing the core. */
export interface RunningDelivery {
  /** Unsubscribes, stops the timer, and waits for events and a tick in progress. */
  stop(): Promise<void>;
  /**
   * Runs one reconcile tick now (what the timer does); resolves how many were queued (0 when
   * another daemon was running it).
   */
  tick(): Promise<number>;
}

const EVENTS = ['enrolled', 're-enrolled', 'command-result', 'checked-out'] as const;

/**
 * Subscribes `delivery` to the core's events and starts the reconcile timer. The interval a
 * device must go without reconciliation is the service's own (`reconcileIntervalMs`). Throws
 * TypeError on a non-positive tick or batch.
 */
export function startDelivery(
  core: { readonly events: MdmEvents },
  delivery: Pick<DeliveryEngine, 'onEvent' | 'idle' | 'reconcileDue'>,
  options: DeliveryRunOptions,
): RunningDelivery {
  const tickMs = options.tickMs ?? 5 * 60 * 1000;
  const batch = options.batch ?? 500;
  if (!(tickMs > 0) || !Number.isInteger(batch) || batch < 1)
    throw new TypeError('tickMs and batch must be positive');
  const off = EVENTS.map((type) =>
    core.events.on(type, (event) => {
      void delivery.onEvent(event);
    }),
  );
  let running: Promise<number> | undefined;
  const tick = (): Promise<number> => {
    if (running) return running;
    const due = (): Promise<number> => delivery.reconcileDue(options.clock(), batch);
    const work = options.coordination
      ? options.coordination
          .exclusive('profile-reconcile', due)
          .then((r) => ('value' in r ? r.value : 0))
      : due();
    running = work
      .catch((err: unknown) => {
        options.logger.error({ err }, 'profile reconciliation tick failed');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = options.timer === false ? undefined : setInterval(() => void tick(), tickMs);
  timer?.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      for (const unsubscribe of off) unsubscribe();
      await running;
      await delivery.idle();
    },
  };
}

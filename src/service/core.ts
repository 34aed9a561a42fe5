/**
 * `createMdmCore`: the transport-free MDM service plus the embedder's API (queue, cancel,
 * query, push, unenroll, events).
 */
import { randomUUID } from 'node:crypto';
import type { CommandPayload } from '../protocol/command.js';
import { validateCommand } from '../schema/commands.js';
import type {
  CommandRecord,
  CommandStatus,
  EnrollmentCommand,
  EnrollmentIdentity,
  EnrollmentRecord,
  Page,
  PageOptions,
} from '../storage/ports.js';
import { checkinMethods } from './core-checkin.js';
import {
  commandReport,
  enqueueCommand,
  enqueueToEnrolled,
  pushEnrollments,
  type EnqueueOptions,
} from './core-commands.js';
import {
  eventBase,
  type CoreContext,
  type EnrollmentPushResult,
  type MdmCoreDeps,
  type MdmCoreOptions,
} from './core-context.js';
import { createCorePushes } from './core-push.js';
import {
  createEventSink,
  type IdentityEventFields,
  type MdmEvent,
  type MdmEvents,
} from './events.js';
import { silentLogger, type MdmService } from './ports.js';

/** The MDM core: an {@link MdmService} for devices plus the embedder's API. */
export interface MdmCore extends MdmService {
  /** Typed events (enrolled, re-enrolled, checked-out, token-updated, command-result, user-authenticated). */
  readonly events: MdmEvents;
  /**
   * Validates and queues a command for the enrollments and resolves its `CommandUUID`; the push
   * follows in the background and its outcome is recorded on each target (`lastPush`).
   */
  enqueue(
    enrollmentIds: readonly string[],
    command: CommandPayload,
    options?: EnqueueOptions,
  ): Promise<string>;
  /**
   * Like `enqueue` for every enrollment enrolled now, chosen by the storage in one write;
   * resolves the uuid and the targeted ids, or `undefined` (nothing stored) when none is enrolled.
   */
  enqueueToEnrolled(
    command: CommandPayload,
    options?: EnqueueOptions,
  ): Promise<{ uuid: string; enrollmentIds: string[] } | undefined>;
  /** Cancels the command for one enrollment unless already answered; resolves false otherwise. */
  cancel(enrollmentId: string, uuid: string): Promise<boolean>;
  /** The command and every target's status and result, or `undefined` when absent. */
  findCommand(uuid: string): Promise<CommandRecord | undefined>;
  /** One enrollment's commands in queue order. */
  listCommands(
    enrollmentId: string,
    options: PageOptions & { status?: CommandStatus },
  ): Promise<Page<EnrollmentCommand>>;
  /** The enrollment, or `undefined` when absent. */
  findEnrollment(id: string): Promise<EnrollmentRecord | undefined>;
  /** Pushes to the enrollments now; resolves how many had a valid token. */
  push(enrollmentIds: readonly string[]): Promise<number>;
  /**
   * Pushes to the enrollments now and resolves one outcome per distinct id, in order: `accepted`
   * by APNs, `failed` (with APNs's reason or the transport error), `deferred` (e.g. circuit open)
   * or `no-token`. Never rejects for a push problem.
   */
  pushWithResults(enrollmentIds: readonly string[]): Promise<EnrollmentPushResult[]>;
  /**
   * Unenrolls deliberately: marks the enrollment checked out (with a `checked-out` event, as a
   * CheckOut) and cancels its queue; its next command poll is answered 403
   * `com.apple.unrecognized.device`. Resolves false when absent; an enrollment already checked out
   * is announced no second time.
   */
  unenroll(id: string): Promise<boolean>;
  /**
   * Emits an identity event (certificate re-bound or refused, renewal queued) for `enrollment`
   * through the outbox and listeners, as the core's own events are; rejects when the outbox
   * write fails.
   */
  announce(enrollment: EnrollmentIdentity, event: IdentityEventFields): Promise<void>;
  /**
   * Resolves at once: the core buffers nothing (last-seen times go straight to the storage port,
   * whose adapter may buffer them). Kept for embedders that call it before closing.
   */
  flush(): Promise<void>;
  /**
   * Waits for background pushes in progress (those not yet started are recorded `deferred`,
   * `Shutdown`) and stops timers; it does not close the storage it was given.
   */
  close(): Promise<void>;
}

/** Writes a last-seen time through the storage port; a failure is logged, never thrown. */
function lastSeenWriter(ctx: Pick<CoreContext, 'storage' | 'logger' | 'clock'>) {
  return async (id: string): Promise<void> => {
    try {
      await ctx.storage.touchLastSeen([id], ctx.clock());
    } catch (err) {
      ctx.logger.error({ err }, 'last-seen write failed');
    }
  };
}

/**
 * Creates the MDM core over the given storage ports. Throws TypeError when `storage` is
 * missing or an option is out of range. The core never answers 401: bad input is 4xx, faults 5xx.
 */
export function createMdmCore(deps: MdmCoreDeps, options: MdmCoreOptions = {}): MdmCore {
  if (typeof deps !== 'object' || typeof deps.storage !== 'object') {
    throw new TypeError('createMdmCore needs deps.storage');
  }
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? (() => new Date());
  const storage = deps.storage;
  const events = createEventSink({
    logger,
    ...(options.outbox === false ? {} : { outbox: storage }),
  });
  const pushes = createCorePushes(
    {
      storage,
      logger,
      clock,
      ...(deps.push === undefined ? {} : { push: deps.push }),
      ...(deps.onPushResults === undefined ? {} : { onPushResults: deps.onPushResults }),
    },
    options.push,
  );
  const ctx: CoreContext = {
    storage,
    logger,
    clock,
    randomUUID: deps.randomUUID ?? randomUUID,
    events,
    options,
    deps: { validateCommand, ...deps },
    seen: lastSeenWriter({ storage, logger, clock }),
    pushes,
  };
  return {
    ...checkinMethods(ctx),
    commandReport: (req, report) => commandReport(ctx, req, report),
    events,
    enqueue: (ids, command, opts) => enqueueCommand(ctx, ids, command, opts),
    enqueueToEnrolled: (command, opts) => enqueueToEnrolled(ctx, command, opts),
    cancel: (id, uuid) => storage.cancel(id, uuid),
    findCommand: (uuid) => storage.findCommand(uuid),
    listCommands: (id, opts) => storage.listForEnrollment(id, opts),
    findEnrollment: (id) => storage.findEnrollment(id),
    push: (ids) => pushEnrollments(ctx, ids),
    pushWithResults: (ids) => pushes.pushNow(ids),
    unenroll: async (id) => {
      const found = await storage.findEnrollment(id);
      if (!found) return false;
      // Announced like a device's CheckOut, written with the state change; once only.
      const event: MdmEvent = { ...eventBase(ctx, found), type: 'checked-out' };
      const announce = found.enrolled ? events.withEvent(() => event) : {};
      const done = await storage.markCheckedOut(id, announce);
      await storage.clearQueue(id);
      if (done && found.enrolled) events.notify(event);
      return done;
    },
    announce: (enrollment, event) => events.emit({ ...eventBase(ctx, enrollment), ...event }),
    flush: () => Promise.resolve(),
    close: () => pushes.close(),
  };
}

/**
 * Dependencies and options of the MDM core, and the shared context its parts use.
 */
import type { ValidationIssue } from '../errors.js';
import type { CommandPayload } from '../protocol/command.js';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.js';
import type { PushProvider } from '../push/ports.js';
import type {
  BootstrapTokenStore,
  CheckinStore,
  CommandQueue,
  OutboxStore,
  PushInfoStore,
  TargetPushOutcome,
} from '../storage/ports.js';
import type { TokenSealer } from './bootstrap.js';
import type { DeclarativeHandler, GetTokenHandler } from './declarative.js';
import type { MdmEvent, MdmEventSink } from './events.js';
import type { Logger, MdmRequest, MdmResponse } from './ports.js';
import type { UnknownCheckinMessage } from '../protocol/checkin.js';
import type { CorePushes } from './core-push.js';
import type { UserAuthenticatePolicy } from './user-authenticate.js';

/**
 * The storage ports the core uses: check-ins, command queues, push info, bootstrap tokens and
 * the outbox's `enqueueEvent`. Every `MdmStorage` (their intersection) has them.
 */
export type MdmCoreStorage = CheckinStore &
  CommandQueue &
  PushInfoStore &
  BootstrapTokenStore &
  Pick<OutboxStore, 'enqueueEvent'>;

/** One enrollment's push outcome as the core reports and records it. */
export interface EnrollmentPushResult extends TargetPushOutcome {
  /** HTTP status of APNs's last answer, when one was received. */
  status?: number;
}

/** Tuning of the core's pushes. */
export interface PushOptions {
  /** Background pushes (those after queueing a command) in progress at once; default 8. */
  concurrency?: number;
  /**
   * Targets waiting or in progress in the background; the targets of a command past it are not
   * pushed but recorded `deferred` (`QueueFull`), and get the command at their next check-in.
   * Default 50,000.
   */
  maxQueued?: number;
  /** Least time between two warnings for the same push failure reason, in ms; default 10,000. */
  failureLogIntervalMs?: number;
}

/** What the core needs; everything but `storage` is optional. */
export interface MdmCoreDeps {
  /** The storage ports it uses (an adapter such as the memory or SQLite store has them all). */
  storage: MdmCoreStorage;
  /**
   * Wakes devices after enqueueing and on `push()`; absent means no pushes are sent. The core
   * reports and records one outcome per target from its results; a provider that rejects has
   * every target counted `failed`, and one that answers a list of another length `accepted`.
   */
  push?: PushProvider;
  /**
   * Called with every push's per-enrollment outcomes (for metrics and health), including targets
   * without a token and pushes deferred by a full queue. Must not throw (a throw is logged).
   */
  onPushResults?: (results: readonly EnrollmentPushResult[]) => void;
  logger?: Logger;
  /** Clock; default `() => new Date()`. */
  clock?: () => Date;
  /** Id generator for command uuids and event ids; default `crypto.randomUUID`. */
  randomUUID?: () => string;
  /** Seals escrowed bootstrap tokens; without it SetBootstrapToken answers 501. */
  bootstrapSealer?: TokenSealer;
  /** Schema validation of commands before queueing; default: `validateCommand` (Apple's schema). */
  validateCommand?: (command: CommandPayload) => readonly ValidationIssue[];
}

/** Behaviour switches of the core. */
export interface MdmCoreOptions {
  /**
   * The APNs topic of our push certificate; Authenticate/TokenUpdate naming another are refused.
   * A function is asked on every check-in, so a topic change after a certificate reload applies.
   */
  topic?: string | (() => string);
  /** Write every event to the storage outbox for webhook delivery (default true). */
  outbox?: boolean;
  /**
   * Ignored: the core writes last-seen times through `touchLastSeen`, and the storage adapter
   * buffers them when its writes are costly (SQLite's own `lastSeenFlushMs`).
   * @deprecated Set the adapter's buffering instead.
   */
  lastSeenFlushMs?: number;
  /** Concurrency and backlog of background pushes, and the failure log interval. */
  push?: PushOptions;
  userAuthenticate?: UserAuthenticatePolicy;
  getToken?: GetTokenHandler;
  declarativeManagement?: DeclarativeHandler;
  /** Check-ins newer than our schema; default: logged and answered 200 with an empty body. */
  unknownCheckin?: (req: MdmRequest, msg: UnknownCheckinMessage) => Promise<MdmResponse>;
}

/** Internal context shared by the core's parts. */
export interface CoreContext {
  storage: MdmCoreStorage;
  logger: Logger;
  clock: () => Date;
  randomUUID: () => string;
  events: MdmEventSink;
  options: MdmCoreOptions;
  deps: MdmCoreDeps;
  /** Records that the enrollment was seen now; a failed write is logged, never thrown. */
  seen(id: string): Promise<void>;
  /** Pushes now, or in the background after queueing a command. */
  pushes: CorePushes;
}

/** Builds the common fields of an event for this enrollment. */
export function eventBase(
  ctx: CoreContext,
  enrollment: Pick<ResolvedEnrollment, 'id' | 'type' | 'deviceId'>,
): Pick<MdmEvent, 'id' | 'at' | 'enrollmentId' | 'enrollmentType' | 'deviceId'> {
  return {
    id: ctx.randomUUID(),
    at: ctx.clock().toISOString(),
    enrollmentId: enrollment.id,
    enrollmentType: enrollment.type,
    deviceId: enrollment.deviceId,
  };
}

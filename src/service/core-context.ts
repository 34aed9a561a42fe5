/**
 * Dependencies and options of the MDM core, and the shared context its parts use.
 */
import type { ValidationIssue } from '../errors.js';
import type { CommandPayload } from '../protocol/command.js';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.js';
import type { MdmStorage } from '../storage/ports.js';
import type { TokenSealer } from './bootstrap.js';
import type { DeclarativeHandler, GetTokenHandler } from './declarative.js';
import type { MdmEvent, MdmEventSink } from './events.js';
import type { Logger, MdmRequest, MdmResponse } from './ports.js';
import type { UnknownCheckinMessage } from '../protocol/checkin.js';
import type { UserAuthenticatePolicy } from './user-authenticate.js';

/** Where the core sends APNs pushes: one entry per enrollment with a valid token. */
export interface PushRequest {
  enrollmentId: string;
  /** Device token, lower-case hex. */
  token: string;
  pushMagic: string;
  topic: string;
}

/** Sends pushes; results are the provider's business (the core logs a rejection and goes on). */
export type PushFunction = (targets: PushRequest[]) => Promise<unknown>;

/** What the core needs; everything but `storage` is optional. */
export interface MdmCoreDeps {
  /** All storage ports (an adapter such as the memory or SQLite store). */
  storage: MdmStorage;
  /** Called after enqueueing and by `push()`; absent means no pushes are sent. */
  push?: PushFunction;
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
  /** How long last-seen times are buffered before one batched write (ms, default 1000). */
  lastSeenFlushMs?: number;
  userAuthenticate?: UserAuthenticatePolicy;
  getToken?: GetTokenHandler;
  declarativeManagement?: DeclarativeHandler;
  /** Check-ins newer than our schema; default: logged and answered 200 with an empty body. */
  unknownCheckin?: (req: MdmRequest, msg: UnknownCheckinMessage) => Promise<MdmResponse>;
}

/** Internal context shared by the core's parts. */
export interface CoreContext {
  storage: MdmStorage;
  logger: Logger;
  clock: () => Date;
  randomUUID: () => string;
  events: MdmEventSink;
  options: MdmCoreOptions;
  deps: MdmCoreDeps;
  /** Records that the enrollment was seen now; written in batches. */
  seen(id: string): void;
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

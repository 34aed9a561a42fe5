/**
 * Typed events of the MDM core for embedders: an in-process emitter, plus durable writing to
 * the storage outbox (from which webhooks are delivered) when an outbox is given.
 */
import type { EnrollmentType } from '../protocol/enrollment-id.js';
import type {
  EnrollmentRecord,
  OutboxEvent,
  OutboxStore,
  StateChangeOptions,
  StoreResultOptions,
} from '../storage/ports.js';
import type { Logger } from './ports.js';

interface EventBase {
  /** Unique event id; webhook receivers de-duplicate on it. */
  id: string;
  /** ISO 8601 instant. */
  at: string;
  enrollmentId: string;
  enrollmentType: EnrollmentType;
  /** `UDID` or `EnrollmentID` of the device. */
  deviceId: string;
}

/** The first TokenUpdate after an Authenticate of a channel never enrolled before. */
export interface EnrolledEvent extends EventBase {
  type: 'enrolled';
}
/** The first TokenUpdate after an Authenticate of a channel that was enrolled before. */
export interface ReEnrolledEvent extends EventBase {
  type: 're-enrolled';
}
/** A CheckOut, or the embedder's `unenroll()`. */
export interface CheckedOutEvent extends EventBase {
  type: 'checked-out';
}
/** A later TokenUpdate (new push token or PushMagic, or `AwaitingConfiguration` change). */
export interface TokenUpdatedEvent extends EventBase {
  type: 'token-updated';
  awaitingConfiguration: boolean;
}
/** A device reported a command's result. */
export interface CommandResultEvent extends EventBase {
  type: 'command-result';
  commandUuid: string;
  status: 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow';
}
/** A UserAuthenticate exchange finished (accepted or declined). */
export interface UserAuthenticatedEvent extends EventBase {
  type: 'user-authenticated';
  declined: boolean;
}

/**
 * A new certificate took over the enrollment's binding by a legal path: an identity renewal or
 * RenewalReq (`renewal`), or a re-enrollment after the binding ended or in an administrator's
 * window (`re-enrollment`).
 */
export interface IdentityReboundEvent extends EventBase {
  type: 'identity-rebound';
  reason: 'renewal' | 're-enrollment';
  /** Serial (hex) of the new certificate. */
  serial: string;
  /** Serial of the certificate it replaced, when known. */
  previousSerial?: string;
}
/** A certificate was refused for this enrollment: a takeover attempt, answered 400. */
export interface IdentityRefusedEvent extends EventBase {
  type: 'identity-refused';
  reason: 'bound-elsewhere' | 'issued-for-another' | 'takeover';
  /** Serial (hex) of the refused certificate. */
  serial: string;
}
/** An identity renewal was queued: a fresh enrollment profile in an InstallProfile command. */
export interface IdentityRenewalQueuedEvent extends EventBase {
  type: 'identity-renewal-queued';
  commandUuid: string;
  /** ISO 8601 end of the current certificate's validity, when known. */
  notAfter?: string;
}

/** The identity events, which wrappers around the core report through {@link MdmCore.announce}. */
export type IdentityEvent =
  IdentityReboundEvent | IdentityRefusedEvent | IdentityRenewalQueuedEvent;

/** An {@link IdentityEvent} without the fields the core fills in (id, time, enrollment). */
export type IdentityEventFields = IdentityEvent extends infer E
  ? E extends IdentityEvent
    ? Omit<E, keyof EventBase>
    : never
  : never;

/** Every event the core emits. */
export type MdmEvent =
  | EnrolledEvent
  | ReEnrolledEvent
  | CheckedOutEvent
  | TokenUpdatedEvent
  | CommandResultEvent
  | UserAuthenticatedEvent
  | IdentityEvent;

/** The `type` of an {@link MdmEvent}. */
export type MdmEventType = MdmEvent['type'];

/** A listener of one event type. */
export type MdmEventListener<T extends MdmEventType> = (
  event: Extract<MdmEvent, { type: T }>,
) => void;

/** Subscribe to core events; `on` returns the unsubscribe function. */
export interface MdmEvents {
  on<T extends MdmEventType>(type: T | '*', listener: MdmEventListener<T>): () => void;
}

/** The emitting side, used by the core. */
export interface MdmEventSink extends MdmEvents {
  /** Writes the event to the outbox (when any), then calls listeners; throws when the outbox write fails. */
  emit(event: MdmEvent): Promise<void>;
  /**
   * Options for a check-in store state change that writes `build`'s event to the outbox in the
   * same transaction (no event without an outbox; `build` is called either way). After the
   * change, the caller passes the event to {@link MdmEventSink.notify}.
   */
  withEvent(build: (record: EnrollmentRecord) => MdmEvent): StateChangeOptions;
  /** Calls listeners only, for an event already stored with its state change. */
  notify(event: MdmEvent): void;
  /**
   * Options for a `storeResult` that writes `event` to the outbox in the same transaction (none
   * without an outbox); after it, the caller passes the event to {@link MdmEventSink.notify}.
   */
  durable(event: MdmEvent): StoreResultOptions;
}

/** The outbox form of an event: its id, type, JSON and creation time. */
export function toOutboxEvent(event: MdmEvent): OutboxEvent {
  return {
    id: event.id,
    type: event.type,
    payload: JSON.stringify(event),
    createdAt: new Date(event.at),
  };
}

/**
 * Creates the event emitter. With `outbox`, every event is first written durably as JSON
 * (a failure rejects `emit`, so the request answers 5xx and the device retries). Listener
 * exceptions are logged, never propagated.
 */
export function createEventSink(deps: {
  outbox?: Pick<OutboxStore, 'enqueueEvent'>;
  logger: Logger;
}): MdmEventSink {
  const listeners = new Map<string, Set<(event: MdmEvent) => void>>();
  const notify = (event: MdmEvent): void => {
    for (const key of [event.type, '*']) {
      for (const fn of listeners.get(key) ?? []) {
        try {
          fn(event);
        } catch (err) {
          deps.logger.error({ err, event: event.type }, 'event listener threw');
        }
      }
    }
  };
  return {
    on(type, listener) {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      const fn = listener as (event: MdmEvent) => void;
      set.add(fn);
      return () => set.delete(fn);
    },
    async emit(event) {
      if (deps.outbox !== undefined) await deps.outbox.enqueueEvent(toOutboxEvent(event));
      notify(event);
    },
    withEvent(build) {
      const durable = deps.outbox !== undefined;
      return {
        event: (record) => {
          const event = build(record);
          return durable ? toOutboxEvent(event) : undefined;
        },
      };
    },
    durable(event) {
      return deps.outbox === undefined ? {} : { event: toOutboxEvent(event) };
    },
    notify,
  };
}

/**
 * MicroMDM/NanoMDM-shaped webhook events: a service wrapper that, once the wrapped service has
 * answered a check-in or a command report, writes an event carrying the device's raw plist to
 * the outbox, in the shape of NanoMDM's webhook service (`service/webhook/event.json`) and
 * MicroMDM's documented webhook, so tools built for those servers read it unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { EnrollmentKeys, EnrollmentType } from '../protocol/enrollment-id.js';
import type { CheckinStore, OutboxStore } from '../storage/ports.js';
import type { MdmRequest, MdmResponse, MdmService } from './ports.js';

/** The topics of MicroMDM and NanoMDM webhook events: one per check-in type, `mdm.Connect` for reports. */
export type NanoMdmTopic =
  | 'mdm.Authenticate'
  | 'mdm.TokenUpdate'
  | 'mdm.CheckOut'
  | 'mdm.UserAuthenticate'
  | 'mdm.SetBootstrapToken'
  | 'mdm.GetBootstrapToken'
  | 'mdm.DeclarativeManagement'
  | 'mdm.GetToken'
  | 'mdm.Connect';

/** NanoMDM's `ids`: the enrollment id of the channel, its kind, and the device channel of a user channel. */
export interface NanoMdmIds {
  id: string;
  type: 'Device' | 'User' | 'User Enrollment (Device)' | 'User Enrollment' | 'Shared iPad';
  parent_id?: string;
}

/**
 * The fields both event kinds share. `url_params` is always an empty object: the query string of
 * a device request does not reach the service (MicroMDM sent `null` then, NanoMDM leaves it out;
 * `{}` reads the same to either's consumers and satisfies NanoMDM's JSON schema).
 */
interface NanoMdmEventBody {
  udid?: string;
  enrollment_id?: string;
  ids: NanoMdmIds;
  url_params: Record<string, string>;
  /** Standard base64 of the request body exactly as the device sent it (a plist). */
  raw_payload: string;
}

/** `checkin_event`; `token_update_tally` only on `mdm.TokenUpdate` (1 for the enrollment's first). */
export interface NanoMdmCheckinEvent extends NanoMdmEventBody {
  token_update_tally?: number;
}

/** `acknowledge_event` of `mdm.Connect`: the report's `Status` and `CommandUUID` (absent on Idle). */
export interface NanoMdmAcknowledgeEvent extends NanoMdmEventBody {
  status: string;
  command_uuid?: string;
}

/** One webhook event as JSON: exactly one of `checkin_event` and `acknowledge_event`. */
export interface NanoMdmEvent {
  topic: NanoMdmTopic;
  event_id: string;
  /** RFC 3339 instant. */
  created_at: string;
  checkin_event?: NanoMdmCheckinEvent;
  acknowledge_event?: NanoMdmAcknowledgeEvent;
}

const ID_TYPES: Record<EnrollmentType, NanoMdmIds['type']> = {
  device: 'Device',
  user: 'User',
  'user-enrollment-device': 'User Enrollment (Device)',
  'user-enrollment-user': 'User Enrollment',
  'shared-ipad-user': 'Shared iPad',
};

/** What {@link nanoMdmEvent} builds an event from. */
export interface NanoMdmEventInput {
  topic: NanoMdmTopic;
  id: string;
  at: Date;
  req: MdmRequest;
  /** The message's identity keys (`UDID`, `EnrollmentID`). */
  keys: EnrollmentKeys;
  /** For `mdm.Connect`: the report's status and command. */
  report?: { status: string; commandUuid?: string };
  tokenUpdateTally?: number;
}

/** Builds the event of one accepted message (pure). */
export function nanoMdmEvent(input: NanoMdmEventInput): NanoMdmEvent {
  const e = input.req.enrollment;
  const ids: NanoMdmIds = { id: e.id, type: ID_TYPES[e.type] };
  if (e.parentId !== undefined) ids.parent_id = e.parentId;
  const { body } = input.req;
  const common: NanoMdmEventBody = {
    ...(input.keys.UDID === undefined ? {} : { udid: input.keys.UDID }),
    ...(input.keys.EnrollmentID === undefined ? {} : { enrollment_id: input.keys.EnrollmentID }),
    ids,
    url_params: {},
    raw_payload: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
  };
  const head = { topic: input.topic, event_id: input.id, created_at: input.at.toISOString() };
  if (input.report !== undefined) {
    const { status, commandUuid } = input.report;
    return {
      ...head,
      acknowledge_event: {
        ...common,
        status,
        ...(commandUuid === undefined ? {} : { command_uuid: commandUuid }),
      },
    };
  }
  const tally = input.tokenUpdateTally;
  return {
    ...head,
    checkin_event: tally === undefined ? common : { ...common, token_update_tally: tally },
  };
}

/** Dependencies of {@link withNanoMdmWebhook}. */
export interface NanoMdmWebhookDeps {
  /** Where events are written (the webhook worker delivers from it). */
  outbox: Pick<OutboxStore, 'enqueueEvent'>;
  /** Reads `tokenUpdateCount` for `token_update_tally`; without it the field is left out. */
  enrollments?: Pick<CheckinStore, 'findEnrollment'>;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Event ids; default random UUIDs. */
  newId?: () => string;
  /** Called after each event is written, e.g. the worker's `wake`. */
  onEvent?: () => void;
}

/**
 * Wraps `next` so that every check-in it answers (except types newer than our schema) and every
 * command report, Idle included, writes one {@link NanoMdmEvent} to the outbox before the device
 * gets the answer. A message `next` refuses writes nothing; a failed outbox write rejects, so the
 * device is answered 5xx and retries.
 */
export function withNanoMdmWebhook(next: MdmService, deps: NanoMdmWebhookDeps): MdmService {
  const clock = deps.clock ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const emit = async (
    fields: Omit<NanoMdmEventInput, 'id' | 'at'>,
    response: MdmResponse,
  ): Promise<MdmResponse> => {
    const event = nanoMdmEvent({ ...fields, id: newId(), at: clock() });
    await deps.outbox.enqueueEvent({
      id: event.event_id,
      type: event.topic,
      payload: JSON.stringify(event),
      createdAt: new Date(event.created_at),
    });
    deps.onEvent?.();
    return response;
  };
  const checkin =
    <M extends EnrollmentKeys>(
      topic: NanoMdmTopic,
      call: (req: MdmRequest, msg: M) => Promise<MdmResponse>,
    ) =>
    async (req: MdmRequest, msg: M): Promise<MdmResponse> =>
      emit({ topic, req, keys: msg }, await call(req, msg));
  return {
    authenticate: checkin('mdm.Authenticate', (r, m) => next.authenticate(r, m)),
    async tokenUpdate(req, msg) {
      const response = await next.tokenUpdate(req, msg);
      const record = await deps.enrollments?.findEnrollment(req.enrollment.id);
      const tally = record?.tokenUpdateCount;
      return emit(
        {
          topic: 'mdm.TokenUpdate',
          req,
          keys: msg,
          ...(tally === undefined ? {} : { tokenUpdateTally: tally }),
        },
        response,
      );
    },
    checkOut: checkin('mdm.CheckOut', (r, m) => next.checkOut(r, m)),
    userAuthenticate: checkin('mdm.UserAuthenticate', (r, m) => next.userAuthenticate(r, m)),
    setBootstrapToken: checkin('mdm.SetBootstrapToken', (r, m) => next.setBootstrapToken(r, m)),
    getBootstrapToken: checkin('mdm.GetBootstrapToken', (r, m) => next.getBootstrapToken(r, m)),
    getToken: checkin('mdm.GetToken', (r, m) => next.getToken(r, m)),
    declarativeManagement: checkin('mdm.DeclarativeManagement', (r, m) =>
      next.declarativeManagement(r, m),
    ),
    // NanoMDM has no topic for check-in types it does not know either.
    unknownCheckin: (req, msg) => next.unknownCheckin(req, msg),
    async commandReport(req, report) {
      const response = await next.commandReport(req, report);
      const commandUuid = report.CommandUUID;
      return emit(
        {
          topic: 'mdm.Connect',
          req,
          keys: report,
          report: { status: report.Status, ...(commandUuid === undefined ? {} : { commandUuid }) },
        },
        response,
      );
    },
  };
}

/**
 * The MDM core's entry for one raw device message: decode it within its kind's budget, resolve
 * the enrollment it speaks for and call the {@link MdmService} method its type picks. No paths,
 * methods or content types: the edge (`src/http/mdm.ts`) routes and authenticates first.
 */
import type { DeviceCertificate } from '../identity/device-certificate.js';
import {
  CHECKIN_LIMITS,
  decodeCheckin,
  type CheckinMessage,
  type DecodedCheckin,
  type MessageLimits,
} from '../protocol/checkin.js';
import { REPORT_LIMITS, decodeReport, type CommandReport } from '../protocol/command.js';
import { resolveEnrollment, type EnrollmentKeys } from '../protocol/enrollment-id.js';
import type { MdmRequest, MdmResponse, MdmService } from './ports.js';

/** The two kinds of device message: a check-in or a command report. */
export type MessageKind = 'checkin' | 'report';

/** One raw device message, its sender already authenticated (or not, without `trust`). */
export interface DeviceMessage {
  kind: MessageKind;
  /** The exact body bytes. */
  body: Uint8Array;
  /** The sender's identity certificate; absent when the transport supplied none. */
  certificate?: DeviceCertificate | undefined;
}

/** The body decoders {@link handleMessage} calls; replaceable so tests can count what they did. */
export interface MdmDecoders {
  /** Default {@link decodeCheckin}. */
  checkin: (body: Uint8Array, limits: MessageLimits) => DecodedCheckin;
  /** Default {@link decodeReport}. */
  report: (body: Uint8Array, limits: MessageLimits) => CommandReport;
}

/** The decoding budget of each message kind, and the largest body read at all. */
export interface MessageBudgets {
  checkin: MessageLimits;
  report: MessageLimits;
  maxBodyBytes: number;
}

/** The protocol decoders. */
export const PROTOCOL_DECODERS: Readonly<MdmDecoders> = Object.freeze({
  checkin: decodeCheckin,
  report: decodeReport,
});

function budget(
  defaults: Readonly<MessageLimits>,
  given: Partial<MessageLimits> | undefined,
  who: string,
): MessageLimits {
  const limits = { ...defaults, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new TypeError(`${who}: limits.*.${name} must be a positive integer`);
  }
  return limits;
}

/**
 * The budgets over {@link CHECKIN_LIMITS} and {@link REPORT_LIMITS}; `maxBodyBytes` defaults to
 * the larger `maxBytes` and, when smaller, caps both. Throws `TypeError` (naming `who`) on a limit
 * that is not a positive integer.
 */
export function messageBudgets(
  limits: { checkin?: Partial<MessageLimits>; report?: Partial<MessageLimits> } | undefined,
  maxBodyBytes: number | undefined,
  who = 'createMdmHandler()',
): MessageBudgets {
  const checkin = budget(CHECKIN_LIMITS, limits?.checkin, who);
  const report = budget(REPORT_LIMITS, limits?.report, who);
  const max = maxBodyBytes ?? Math.max(checkin.maxBytes, report.maxBytes);
  checkin.maxBytes = Math.min(checkin.maxBytes, max);
  report.maxBytes = Math.min(report.maxBytes, max);
  return { checkin, report, maxBodyBytes: max };
}

/**
 * Calls the method of `service` for a decoded check-in: the one place a check-in's
 * `MessageType` picks a service method (the edge and tests that bypass HTTP use it).
 */
export function dispatchCheckin(
  service: MdmService,
  req: MdmRequest,
  msg: CheckinMessage,
): Promise<MdmResponse> {
  switch (msg.MessageType) {
    case 'Authenticate':
      return service.authenticate(req, msg);
    case 'TokenUpdate':
      return service.tokenUpdate(req, msg);
    case 'CheckOut':
      return service.checkOut(req, msg);
    case 'UserAuthenticate':
      return service.userAuthenticate(req, msg);
    case 'SetBootstrapToken':
      return service.setBootstrapToken(req, msg);
    case 'GetBootstrapToken':
      return service.getBootstrapToken(req, msg);
    case 'GetToken':
      return service.getToken(req, msg);
    case 'DeclarativeManagement':
      return service.declarativeManagement(req, msg);
  }
}

function requestOf(keys: EnrollmentKeys, message: DeviceMessage): MdmRequest {
  const req: MdmRequest = { enrollment: resolveEnrollment(keys), body: message.body };
  if (message.certificate !== undefined) req.certificate = message.certificate;
  return req;
}

/**
 * Decodes `message` within its kind's budget and answers it through `service`: a command report,
 * a known check-in (by {@link dispatchCheckin}) or a check-in type newer than our schema. Rejects
 * with the decoder's or the service's {@link OrchardError} (400 on a malformed body).
 */
export function handleMessage(
  service: MdmService,
  message: DeviceMessage,
  budgets: Pick<MessageBudgets, 'checkin' | 'report'>,
  decoders: Readonly<MdmDecoders> = PROTOCOL_DECODERS,
): Promise<MdmResponse> {
  // Not an async function: the service's own promise is answered as it is (an async function
  // would wrap it in another and cost an idle poll more turns of the microtask queue).
  try {
    if (message.kind === 'report') {
      const report = decoders.report(message.body, budgets.report);
      return service.commandReport(requestOf(report, message), report);
    }
    const decoded = decoders.checkin(message.body, budgets.checkin);
    const req = requestOf(decoded.message, message);
    if (decoded.known) return dispatchCheckin(service, req, decoded.message);
    return service.unknownCheckin(req, decoded.message);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * The MDM service interface: one method per check-in message plus the command report, with a
 * request object that carries no HTTP. Wrappers (`withCertAuth`, ...) implement it around
 * another service, as NanoMDM's services do.
 */
import type { DeviceCertificate } from '../identity/device-certificate.js';
import type {
  AuthenticateMessage,
  CheckOutMessage,
  DeclarativeManagementMessage,
  GetBootstrapTokenMessage,
  GetTokenMessage,
  SetBootstrapTokenMessage,
  TokenUpdateMessage,
  UnknownCheckinMessage,
  UserAuthenticateMessage,
} from '../protocol/checkin.js';
import type { CommandReport } from '../protocol/command.js';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.js';

// Re-exported where they used to live, for code that imports them from here.
export type { CertificateSource, DeviceCertificate } from '../identity/device-certificate.js';
export { silentLogger, type Logger } from '../logger.js';

/** One device request, transport removed. */
export interface MdmRequest {
  /** The channel the message speaks for, resolved from its identity keys. */
  enrollment: ResolvedEnrollment;
  /** Absent when the transport supplied none; `withCertAuth` then refuses the request. */
  certificate?: DeviceCertificate;
  /** The raw body, as stored for command reports. */
  body: Uint8Array;
  /**
   * Set by `withCertAuth` when this request moves the enrollment to a new certificate through an
   * identity renewal: the core then keeps the command queue an Authenticate would clear.
   */
  identityRenewal?: boolean;
}

/** What a service answers; an absent body is an empty 200 answer. */
export interface MdmResponse {
  status: number;
  body?: Uint8Array;
  contentType?: string;
}

/** Every check-in and the command report, NanoMDM-style. Implementations throw OrchardError on bad input. */
export interface MdmService {
  authenticate(req: MdmRequest, msg: AuthenticateMessage): Promise<MdmResponse>;
  tokenUpdate(req: MdmRequest, msg: TokenUpdateMessage): Promise<MdmResponse>;
  checkOut(req: MdmRequest, msg: CheckOutMessage): Promise<MdmResponse>;
  userAuthenticate(req: MdmRequest, msg: UserAuthenticateMessage): Promise<MdmResponse>;
  setBootstrapToken(req: MdmRequest, msg: SetBootstrapTokenMessage): Promise<MdmResponse>;
  getBootstrapToken(req: MdmRequest, msg: GetBootstrapTokenMessage): Promise<MdmResponse>;
  getToken(req: MdmRequest, msg: GetTokenMessage): Promise<MdmResponse>;
  declarativeManagement(req: MdmRequest, msg: DeclarativeManagementMessage): Promise<MdmResponse>;
  /** A well-formed check-in whose `MessageType` is newer than our schema copy. */
  unknownCheckin(req: MdmRequest, msg: UnknownCheckinMessage): Promise<MdmResponse>;
  /** A PUT to the command endpoint: stores a result and answers the next command or nothing. */
  commandReport(req: MdmRequest, report: CommandReport): Promise<MdmResponse>;
}

/** An empty 200 answer. */
export const EMPTY_OK: MdmResponse = Object.freeze({ status: 200 });

/**
 * How a simulated device answers a command: one responder per RequestType (see `responders/`),
 * NotNow and Error injected at the configured rates, and Error for every RequestType the
 * simulator does not know. Later features (declarative management...) add a responder here, and
 * embedders pass their own per device (`SimDeviceOptions.responders`).
 * See https://developer.apple.com/documentation/devicemanagement/commands-and-queries
 */
import type { X509Certificate } from 'node:crypto';
import type { PlistDict } from '../protocol/plist.js';
import type { SimProfileStore } from './profiles.js';
import type { SimScepPayload } from './enroll.js';
import { deviceInformation } from './responders/device-information.js';
import { certificateList, installedApplicationList, securityInfo } from './responders/inventory.js';
import { installProfile, profileList, removeProfile } from './responders/profiles.js';
import type { SimIdentity } from './transport.js';
import type { SimBehaviour, SimPlatform } from './types.js';

/** A report status a device may send for a command. */
export type SimCommandStatus = 'Acknowledged' | 'Error' | 'NotNow' | 'CommandFormatError';

/** What a responder decided: the status, the report's extra keys, and work to do once reported. */
export interface SimAnswer {
  status: SimCommandStatus;
  fields?: PlistDict;
  /** Runs after the report was sent (identity renewal enrolls only once the server has the ack). */
  after?: () => Promise<void>;
}

/** What responders may read and do on the device. */
export interface SimCommandContext {
  readonly platform: SimPlatform;
  readonly osVersion: string;
  readonly supervised: boolean;
  readonly udid: string;
  /** User Enrollment: hardware identifiers stay private. */
  readonly userEnrollment: boolean;
  readonly serialNumber: string;
  readonly deviceName: string;
  readonly profiles: SimProfileStore;
  /** The identity the device holds now. */
  identity(): SimIdentity;
  /** Certificates installed on the device (the identity and its issuers). */
  certificates(): readonly X509Certificate[];
  /** Enrolls a new identity over SCEP and authenticates with it. */
  renewIdentity(scep: SimScepPayload): Promise<void>;
  /** The enrollment profile is gone: send CheckOut and stop being enrolled. */
  unenroll(): Promise<void>;
}

/** Answers one command; may throw, which the dispatcher turns into an Error report. */
export type SimResponder = (
  command: PlistDict,
  ctx: SimCommandContext,
) => SimAnswer | Promise<SimAnswer>;

/** The responders by RequestType; anything absent is answered Error. */
export const RESPONDERS: Readonly<Record<string, SimResponder>> = {
  DeviceInformation: deviceInformation,
  SecurityInfo: securityInfo,
  ProfileList: profileList,
  CertificateList: certificateList,
  InstalledApplicationList: installedApplicationList,
  InstallProfile: installProfile,
  RemoveProfile: removeProfile,
};

/** An `ErrorChain` of one error, as devices report it. */
export function errorChain(domain: string, code: number, description: string): PlistDict {
  const entry: PlistDict = {
    ErrorCode: code,
    ErrorDomain: domain,
    LocalizedDescription: description,
    USEnglishDescription: description,
  };
  return { ErrorChain: [entry] };
}

/**
 * Answers `command` as the device described by `ctx`: NotNow or Error at the behaviour's rates
 * (rolled in that order), else its responder in `responders`, else Error for an unknown
 * RequestType. Never throws.
 */
export async function answerCommand(
  command: PlistDict,
  ctx: SimCommandContext,
  behaviour: SimBehaviour = {},
  responders: Readonly<Record<string, SimResponder>> = RESPONDERS,
): Promise<SimAnswer> {
  const random = behaviour.random ?? Math.random;
  if (random() < (behaviour.notNowRate ?? 0)) return { status: 'NotNow' };
  if (random() < (behaviour.errorRate ?? 0)) {
    return {
      status: 'Error',
      fields: errorChain('OrchardSimulator', 1, 'an error the simulator was asked to inject'),
    };
  }
  const type = typeof command.RequestType === 'string' ? command.RequestType : '';
  const responder = Object.hasOwn(responders, type) ? responders[type] : undefined;
  if (responder === undefined) {
    return {
      status: 'Error',
      fields: errorChain('MCMDMErrorDomain', 12021, `unknown request type ${type}`),
    };
  }
  try {
    return await responder(command, ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'Error', fields: errorChain('MCMDMErrorDomain', 12000, message) };
  }
}

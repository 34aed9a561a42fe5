/**
 * The command envelope the server sends and the report a device answers with.
 * @see https://developer.apple.com/documentation/devicemanagement/commands-and-queries
 */
import { ProtocolError } from '../errors.js';
import { isDict, withDefaultLimits, type MessageLimits } from './checkin.js';
import type { EnrollmentKeys } from './enrollment-id.js';
import { decodePlist, encodePlist, type PlistDict, type PlistValue } from './plist.js';

/** A command dictionary in Apple's spelling: `RequestType` plus its payload keys. */
export interface CommandPayload {
  RequestType: string;
  [key: string]: PlistValue;
}

/** Statuses a device reports on the command endpoint. */
export type ReportStatusValue = 'Idle' | 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow';

/**
 * One entry of a report's `ErrorChain`, outermost first. An intersection rather than an interface
 * with an index signature, so it type-checks without `exactOptionalPropertyTypes` too.
 */
export type ErrorChainItem = PlistDict & {
  ErrorCode?: number | bigint;
  ErrorDomain?: string;
  LocalizedDescription?: string;
  USEnglishDescription?: string;
};

/** A device's PUT to the command endpoint; response keys stay on the object as decoded. */
export interface CommandReport extends EnrollmentKeys {
  Status: ReportStatusValue;
  /** Present on every status but `Idle`. */
  CommandUUID?: string;
  ErrorChain?: ErrorChainItem[];
  [key: string]: PlistValue | undefined;
}

const STATUSES: ReadonlySet<string> = new Set([
  'Idle',
  'Acknowledged',
  'Error',
  'CommandFormatError',
  'NotNow',
]);
const IDENTITY_KEYS = [
  'UDID',
  'EnrollmentID',
  'EnrollmentUserID',
  'UserID',
  'UserShortName',
  'UserLongName',
];
// Ours are UUIDs; other servers' commands left in a queue may use any short printable string.
const COMMAND_UUID = /^[\x21-\x7e]{1,128}$/;

/**
 * Encodes `{CommandUUID, Command}` as an XML plist, the body the device receives.
 * Throws TypeError when the uuid is not 1–128 printable ASCII characters or `RequestType` is empty.
 */
export function encodeCommand(uuid: string, command: CommandPayload): Buffer {
  if (!COMMAND_UUID.test(uuid))
    throw new TypeError('CommandUUID must be 1-128 printable ASCII characters');
  if (typeof command.RequestType !== 'string' || command.RequestType === '') {
    throw new TypeError('command.RequestType must be a non-empty string');
  }
  return encodePlist({ CommandUUID: uuid, Command: command as PlistDict }, { format: 'xml' });
}

/**
 * Default budget of a command report. Reports grow with what the device holds: the largest
 * fixture, InstalledApplicationList with 320 apps, is 254 KB of XML and 5,445 values (17 per app,
 * about 47 bytes per value); CertificateList carries DER blobs; ProfileList nests deepest, at 5.
 * 4 MiB holds about 5,000 such apps as XML and 100,000 values about 5,800 (a tenth of the old
 * million), while depth 16 leaves room for app-defined ManagedApplicationFeedback dictionaries.
 */
export const REPORT_LIMITS: Readonly<MessageLimits> = {
  maxBytes: 4 * 1024 * 1024,
  maxItems: 100_000,
  maxDepth: 16,
};

function reportError(message: string): ProtocolError {
  return new ProtocolError('ERR_REPORT_FORMAT', message);
}

/**
 * Decodes a command report (XML or binary plist) within `limits` (default {@link REPORT_LIMITS}).
 * Throws {@link PlistError} on a malformed or over-budget plist and {@link ProtocolError} `ERR_REPORT_FORMAT` (400) on an unknown `Status`, a missing
 * `CommandUUID` on a non-Idle report, a malformed `ErrorChain` or a mistyped identity key.
 */
export function decodeReport(
  body: Uint8Array | string,
  limits: Partial<MessageLimits> = {},
): CommandReport {
  const dict = decodePlist(body, withDefaultLimits(REPORT_LIMITS, limits));
  if (!isDict(dict)) throw reportError('report is not a dictionary');
  const status = dict.Status;
  if (typeof status !== 'string' || !STATUSES.has(status))
    throw reportError('Status is missing or unknown');
  for (const key of IDENTITY_KEYS) {
    if (dict[key] !== undefined && typeof dict[key] !== 'string')
      throw reportError(`${key} must be a string`);
  }
  const uuid = dict.CommandUUID;
  if (status !== 'Idle' && (typeof uuid !== 'string' || !COMMAND_UUID.test(uuid))) {
    throw reportError('CommandUUID is missing or malformed');
  }
  const chain = dict.ErrorChain;
  if (chain !== undefined && (!Array.isArray(chain) || !chain.every((item) => isDict(item)))) {
    throw reportError('ErrorChain must be an array of dictionaries');
  }
  return dict as CommandReport;
}

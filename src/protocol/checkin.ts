/**
 * Typed check-in messages in Apple's spelling, and {@link decodeCheckin} on top of the plist
 * decoder. Keys newer than our schema copy are kept on the message untouched.
 * @see https://developer.apple.com/documentation/devicemanagement/check-in
 */
import { ProtocolError } from '../errors.js';
import type { EnrollmentKeys } from './enrollment-id.js';
import { decodePlist, type PlistDict, type PlistValue } from './plist.js';

/** Keys every check-in may carry; extra keys stay on the message as decoded. */
export interface CheckinBase extends EnrollmentKeys {
  MessageType: string;
  Topic?: string;
  [key: string]: PlistValue | undefined;
}

/** First message of an enrollment. @see https://developer.apple.com/documentation/devicemanagement/authenticaterequest */
export interface AuthenticateMessage extends CheckinBase {
  MessageType: 'Authenticate';
  Topic: string;
  DeviceName?: string;
  Model?: string;
  ModelName?: string;
  OSVersion?: string;
  BuildVersion?: string;
  ProductName?: string;
  SerialNumber?: string;
  IMEI?: string;
  MEID?: string;
}

/** Push coordinates; the first one enrolls the channel. @see https://developer.apple.com/documentation/devicemanagement/tokenupdaterequest */
export interface TokenUpdateMessage extends CheckinBase {
  MessageType: 'TokenUpdate';
  Topic: string;
  Token: Uint8Array;
  PushMagic: string;
  UnlockToken?: Uint8Array;
  AwaitingConfiguration?: boolean;
  NotOnConsole?: boolean;
}

/** The device removed its MDM profile. @see https://developer.apple.com/documentation/devicemanagement/checkoutrequest */
export interface CheckOutMessage extends CheckinBase {
  MessageType: 'CheckOut';
}

/** macOS network user login; `DigestResponse` only on the second request. @see https://developer.apple.com/documentation/devicemanagement/userauthenticaterequest */
export interface UserAuthenticateMessage extends CheckinBase {
  MessageType: 'UserAuthenticate';
  DigestResponse?: string;
}

/** Escrow of the macOS bootstrap token; absent or empty deletes it. */
export interface SetBootstrapTokenMessage extends CheckinBase {
  MessageType: 'SetBootstrapToken';
  BootstrapToken?: Uint8Array;
  AwaitingConfiguration?: boolean;
}

/** The device asks for its escrowed bootstrap token. */
export interface GetBootstrapTokenMessage extends CheckinBase {
  MessageType: 'GetBootstrapToken';
  AwaitingConfiguration?: boolean;
}

/** A token from a token service (`com.apple.maid`, `com.apple.watch.pairing`). */
export interface GetTokenMessage extends CheckinBase {
  MessageType: 'GetToken';
  TokenServiceType: string;
  TokenParameters?: PlistDict;
}

/** Declarative Management sync: `Endpoint` names what is asked, `Data` carries JSON. */
export interface DeclarativeManagementMessage extends CheckinBase {
  MessageType: 'DeclarativeManagement';
  Endpoint: string;
  Data?: Uint8Array;
}

/** Every check-in message type in our schema copy. */
export type CheckinMessage =
  | AuthenticateMessage
  | TokenUpdateMessage
  | CheckOutMessage
  | UserAuthenticateMessage
  | SetBootstrapTokenMessage
  | GetBootstrapTokenMessage
  | GetTokenMessage
  | DeclarativeManagementMessage;

/** A well-formed check-in whose `MessageType` is newer than our schema copy. */
export type UnknownCheckinMessage = CheckinBase;

/** Result of {@link decodeCheckin}: a known message, or one newer than our schema. */
export type DecodedCheckin =
  { known: true; message: CheckinMessage } | { known: false; message: UnknownCheckinMessage };

type KeyType = 'string' | 'data' | 'boolean' | 'dict';

const IDENTITY: Record<string, KeyType> = {
  MessageType: 'string',
  Topic: 'string',
  UDID: 'string',
  EnrollmentID: 'string',
  EnrollmentUserID: 'string',
  UserID: 'string',
  UserShortName: 'string',
  UserLongName: 'string',
};

// Types of the keys we read, per message; `required` lists keys the message cannot lack.
const SHAPES: Record<
  CheckinMessage['MessageType'],
  { keys: Record<string, KeyType>; required: string[] }
> = {
  Authenticate: {
    keys: {
      DeviceName: 'string',
      Model: 'string',
      ModelName: 'string',
      OSVersion: 'string',
      BuildVersion: 'string',
      ProductName: 'string',
      SerialNumber: 'string',
      IMEI: 'string',
      MEID: 'string',
    },
    required: ['Topic'],
  },
  TokenUpdate: {
    keys: {
      Token: 'data',
      PushMagic: 'string',
      UnlockToken: 'data',
      AwaitingConfiguration: 'boolean',
      NotOnConsole: 'boolean',
    },
    required: ['Topic', 'Token', 'PushMagic'],
  },
  CheckOut: { keys: {}, required: [] },
  UserAuthenticate: { keys: { DigestResponse: 'string' }, required: ['UserID'] },
  SetBootstrapToken: {
    keys: { BootstrapToken: 'data', AwaitingConfiguration: 'boolean' },
    required: [],
  },
  GetBootstrapToken: { keys: { AwaitingConfiguration: 'boolean' }, required: [] },
  GetToken: {
    keys: { TokenServiceType: 'string', TokenParameters: 'dict' },
    required: ['TokenServiceType'],
  },
  DeclarativeManagement: { keys: { Endpoint: 'string', Data: 'data' }, required: ['Endpoint'] },
};

const MESSAGE_TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** The byte, value and nesting budget of one decoded device message (see `decodePlist`). */
export interface MessageLimits {
  /** Largest body in bytes. */
  maxBytes: number;
  /** Most values (scalars and containers) the body may produce. */
  maxItems: number;
  /** Deepest nesting of arrays and dictionaries; the root dictionary is depth 1. */
  maxDepth: number;
}

/**
 * `limits` over `defaults`: `limits` itself when it sets every limit (the handler's budgets do, so
 * a message is decoded without a copy of them), else a merged copy.
 */
export function withDefaultLimits(
  defaults: Readonly<MessageLimits>,
  limits: Partial<MessageLimits>,
): MessageLimits {
  if (
    limits.maxBytes !== undefined &&
    limits.maxItems !== undefined &&
    limits.maxDepth !== undefined
  )
    return limits as MessageLimits;
  return { ...defaults, ...limits };
}

/**
 * Default budget of a check-in. The fixtures (fixtures/messages) top out at 2.5 KB, 13 values and
 * depth 2 (GetToken's `TokenParameters`); the only check-in whose size grows with the fleet is a
 * DeclarativeManagement `status`, whose `Data` is one base64 value holding the device's JSON
 * status report (every declaration and managed app in a full report), so bytes get 256 KiB while
 * values and depth stay close to the schema.
 */
export const CHECKIN_LIMITS: Readonly<MessageLimits> = {
  maxBytes: 256 * 1024,
  maxItems: 1_000,
  maxDepth: 8,
};

function hasType(value: PlistValue, type: KeyType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'data':
      return value instanceof Uint8Array;
    case 'boolean':
      return typeof value === 'boolean';
    case 'dict':
      return isDict(value);
  }
}

/** Whether a plist value is a dictionary (not an array, date, data or real). */
export function isDict(value: PlistValue | undefined): value is PlistDict {
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  if (value instanceof Uint8Array || value instanceof Date) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

function checkKeys(
  dict: PlistDict,
  keys: Record<string, KeyType>,
  required: readonly string[],
): void {
  for (const [key, type] of Object.entries(keys)) {
    const value = dict[key];
    if (value !== undefined && !hasType(value, type)) {
      throw new ProtocolError('ERR_CHECKIN_FORMAT', `${key} must be a ${type}`);
    }
  }
  for (const key of required) {
    if (dict[key] === undefined)
      throw new ProtocolError('ERR_CHECKIN_FORMAT', `${key} is required`);
  }
}

/**
 * Decodes a check-in body (XML or binary plist) into a typed message, within `limits` (default
 * {@link CHECKIN_LIMITS}). Returns `known: false` for a well-formed `MessageType` newer than our
 * schema copy. Throws {@link PlistError} on a malformed or over-budget plist and
 * {@link ProtocolError} `ERR_CHECKIN_FORMAT` (400) on a missing or mistyped key; identity keys
 * are checked later by `resolveEnrollment`.
 */
export function decodeCheckin(
  body: Uint8Array | string,
  limits: Partial<MessageLimits> = {},
): DecodedCheckin {
  const dict = decodePlist(body, withDefaultLimits(CHECKIN_LIMITS, limits));
  if (!isDict(dict)) throw new ProtocolError('ERR_CHECKIN_FORMAT', 'check-in is not a dictionary');
  const type = dict.MessageType;
  if (typeof type !== 'string' || !MESSAGE_TYPE.test(type)) {
    throw new ProtocolError('ERR_CHECKIN_FORMAT', 'MessageType is missing or malformed');
  }
  checkKeys(dict, IDENTITY, []);
  const shape = Object.hasOwn(SHAPES, type)
    ? SHAPES[type as CheckinMessage['MessageType']]
    : undefined;
  if (shape === undefined) return { known: false, message: dict as UnknownCheckinMessage };
  checkKeys(dict, shape.keys, shape.required);
  return { known: true, message: dict as CheckinMessage };
}

/**
 * Enrollment ids derived from the identity keys of a check-in or command report, as NanoMDM
 * derives them: device channel `UDID`, User Enrollment `EnrollmentID`, user channels
 * `<device id>:<UserID | UserShortName | EnrollmentUserID>`.
 */
import { ProtocolError } from '../errors.js';

/** The `UserID` every Shared iPad user channel sends; the user is then named by `UserShortName`. */
export const SHARED_IPAD_USER_ID = 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF';

/** The kinds of enrollment (channel) the protocol knows. */
export type EnrollmentType =
  'device' | 'user' | 'user-enrollment-device' | 'user-enrollment-user' | 'shared-ipad-user';

/** Identity keys as a device sends them (Apple's spelling); all optional on the wire. */
export interface EnrollmentKeys {
  UDID?: string;
  EnrollmentID?: string;
  UserID?: string;
  UserShortName?: string;
  UserLongName?: string;
  EnrollmentUserID?: string;
}

/** The channel a request speaks for, with the ids storage and certificate binding key on. */
export interface ResolvedEnrollment {
  /** Enrollment id: the primary key of the channel. */
  id: string;
  type: EnrollmentType;
  /** Device channel id (`UDID` or `EnrollmentID`); equals `id` on a device channel. */
  deviceId: string;
  /** Device channel id when this is a user channel. */
  parentId?: string;
  userId?: string;
  userShortName?: string;
  userLongName?: string;
}

// Ids become primary keys and log fields. Device ids never contain the `:` that joins user
// channel ids, so `UDID:user` cannot collide with another device's id.
const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const USER_ID_PATTERN =
  /^[\x21-\x7e\u00a0-\uffff](?:[\x20-\x7e\u00a0-\uffff]{0,253}[\x21-\x7e\u00a0-\uffff])?$/u;

function checkId(name: string, value: string, device = false): string {
  if (!(device ? DEVICE_ID_PATTERN : USER_ID_PATTERN).test(value)) {
    throw new ProtocolError('ERR_ENROLLMENT_ID', `${name} is not a valid identifier`, {
      detail: value,
    });
  }
  return value;
}

function userChannel(deviceId: string, keys: EnrollmentKeys): ResolvedEnrollment | undefined {
  const names = optionalNames(keys);
  if (keys.UserID !== undefined) {
    if (keys.UserID === SHARED_IPAD_USER_ID) {
      if (keys.UserShortName === undefined) {
        throw new ProtocolError(
          'ERR_ENROLLMENT_ID',
          'Shared iPad user channel without UserShortName',
        );
      }
      const short = checkId('UserShortName', keys.UserShortName);
      return {
        id: `${deviceId}:${short}`,
        type: 'shared-ipad-user',
        deviceId,
        parentId: deviceId,
        userId: keys.UserID,
        ...names,
      };
    }
    const user = checkId('UserID', keys.UserID);
    return {
      id: `${deviceId}:${user}`,
      type: 'user',
      deviceId,
      parentId: deviceId,
      userId: user,
      ...names,
    };
  }
  return undefined;
}

function optionalNames(
  keys: EnrollmentKeys,
): Pick<ResolvedEnrollment, 'userShortName' | 'userLongName'> {
  const out: Pick<ResolvedEnrollment, 'userShortName' | 'userLongName'> = {};
  if (keys.UserShortName !== undefined) out.userShortName = keys.UserShortName;
  if (keys.UserLongName !== undefined) out.userLongName = keys.UserLongName;
  return out;
}

/**
 * Resolves the enrollment a message speaks for from its identity keys.
 * Throws {@link ProtocolError} `ERR_ENROLLMENT_ID` (400) when neither `UDID` nor
 * `EnrollmentID` is present or an id is not a printable string of at most 255 characters.
 */
export function resolveEnrollment(keys: EnrollmentKeys): ResolvedEnrollment {
  if (keys.UDID !== undefined && keys.UDID !== '') {
    const deviceId = checkId('UDID', keys.UDID, true);
    return userChannel(deviceId, keys) ?? { id: deviceId, type: 'device', deviceId };
  }
  if (keys.EnrollmentID !== undefined && keys.EnrollmentID !== '') {
    const deviceId = checkId('EnrollmentID', keys.EnrollmentID, true);
    if (keys.EnrollmentUserID !== undefined && keys.EnrollmentUserID !== '') {
      const user = checkId('EnrollmentUserID', keys.EnrollmentUserID);
      return {
        id: `${deviceId}:${user}`,
        type: 'user-enrollment-user',
        deviceId,
        parentId: deviceId,
        userId: user,
        ...optionalNames(keys),
      };
    }
    return { id: deviceId, type: 'user-enrollment-device', deviceId };
  }
  throw new ProtocolError('ERR_ENROLLMENT_ID', 'message has neither UDID nor EnrollmentID');
}

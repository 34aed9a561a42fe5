/**
 * User channels of a simulated device: the device's identity and MDM payload, extra keys in every
 * message and their own push token and user-scoped profiles. Three kinds: a macOS user
 * (`UDID`, `UserID`, `UserShortName`, `UserLongName`), a Shared iPad user (`UserID` all F's, named
 * by `UserShortName`) and the User Enrollment user (`EnrollmentID`, `EnrollmentUserID`).
 * See https://developer.apple.com/documentation/devicemanagement/tokenupdaterequest
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PlistDict } from '../protocol/plist.js';
import { SHARED_IPAD_USER_ID } from '../protocol/enrollment-id.js';
import { answerCommand, type SimCommandContext, type SimResponder } from './commands.js';
import type { SimMdmPayload } from './enroll.js';
import { createProfileStore } from './profiles.js';
import { runSession } from './session.js';
import { REPORT_CONTENT_TYPE, sendCheckin, sendSigned, type SimIdentity } from './transport.js';
import type { SimBehaviour, SimUserChannel } from './types.js';

/** Which user channel: macOS user, Shared iPad user, or the User Enrollment user. */
export type SimUserChannelKind = 'user' | 'shared-ipad' | 'user-enrollment';

/** What a user channel shares with its device. */
export interface SimChannelHost {
  fetch: typeof fetch;
  identity(): SimIdentity;
  mdm: SimMdmPayload;
  kind: SimUserChannelKind;
  /** The device channel's id: its UDID, or its EnrollmentID under User Enrollment. */
  deviceId: string;
  /** The device's command context; the channel swaps in its own profiles. */
  context: SimCommandContext;
  behaviour?: SimBehaviour;
  /** The device's responders by RequestType; default the built-in ones. */
  responders?: Readonly<Record<string, SimResponder>>;
}

/** The channel's identity keys and the enrollment id the server derives from them. */
function channelKeys(
  host: SimChannelHost,
  shortName: string,
): { keys: PlistDict; userId: string; enrollmentId: string } {
  const names = { UserShortName: shortName, UserLongName: `User ${shortName}` };
  if (host.kind === 'user-enrollment') {
    const userId = randomUUID().toUpperCase();
    const keys = { EnrollmentID: host.deviceId, EnrollmentUserID: userId, ...names };
    return { keys, userId, enrollmentId: `${host.deviceId}:${userId}` };
  }
  if (host.kind === 'shared-ipad') {
    const keys = { UDID: host.deviceId, UserID: SHARED_IPAD_USER_ID, ...names };
    return { keys, userId: SHARED_IPAD_USER_ID, enrollmentId: `${host.deviceId}:${shortName}` };
  }
  const userId = randomUUID().toUpperCase();
  const keys = { UDID: host.deviceId, UserID: userId, ...names };
  return { keys, userId, enrollmentId: `${host.deviceId}:${userId}` };
}

/** Creates the user channel of `shortName` on an enrolled device; nothing is sent until `enroll`. */
export function createUserChannel(host: SimChannelHost, shortName: string): SimUserChannel {
  const { keys, userId, enrollmentId } = channelKeys(host, shortName);
  const token = randomBytes(32);
  const pushMagic = randomUUID().toUpperCase();
  const profiles = createProfileStore(() => ({
    platform: host.context.platform,
    osVersion: host.context.osVersion,
    supervised: host.context.supervised,
    enrollment: host.kind === 'user-enrollment' ? 'user' : 'device',
  }));
  const context: SimCommandContext = {
    ...host.context,
    profiles,
    renewIdentity: () => Promise.reject(new Error('identity renewal runs on the device channel')),
    unenroll: () => Promise.reject(new Error('the enrollment profile is on the device channel')),
  };
  let enrolled = false;
  return {
    enrollmentId,
    userId,
    shortName,
    pushToken: token.toString('hex'),
    pushMagic,
    get enrolled() {
      return enrolled;
    },
    async enroll() {
      const message: PlistDict = {
        ...keys,
        MessageType: 'TokenUpdate',
        Topic: host.mdm.Topic,
        Token: token,
        PushMagic: pushMagic,
      };
      await sendCheckin(host.fetch, host.mdm.CheckInURL, message, host.identity());
      enrolled = true;
    },
    connect() {
      if (!enrolled)
        return Promise.reject(new TypeError('connect: the user channel is not enrolled'));
      return runSession({
        send: (message) =>
          sendSigned(
            host.fetch,
            host.mdm.ServerURL,
            { ...keys, ...message },
            host.identity(),
            REPORT_CONTENT_TYPE,
          ),
        answer: (command) => answerCommand(command, context, host.behaviour, host.responders),
      });
    },
    installedProfiles: () =>
      profiles.list().map(({ identifier, uuid, removalDisallowed }) => ({
        identifier,
        uuid,
        removalDisallowed,
      })),
  };
}

/**
 * A macOS user channel: the device's identity and MDM payload, extra keys in every message
 * (`UserID`, `UserShortName`, `UserLongName`), its own push token and user-scoped profiles.
 * User Enrollment and Shared iPad users would be further variants of these keys.
 * See https://developer.apple.com/documentation/devicemanagement/tokenupdaterequest
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PlistDict } from '../protocol/plist.js';
import { answerCommand, type SimCommandContext, type SimResponder } from './commands.js';
import type { SimMdmPayload } from './enroll.js';
import { createProfileStore } from './profiles.js';
import { runSession } from './session.js';
import { REPORT_CONTENT_TYPE, sendCheckin, sendSigned, type SimIdentity } from './transport.js';
import type { SimBehaviour, SimUserChannel } from './types.js';

/** What a user channel shares with its device. */
export interface SimChannelHost {
  fetch: typeof fetch;
  identity(): SimIdentity;
  mdm: SimMdmPayload;
  /** The device's command context; the channel swaps in its own profiles. */
  context: SimCommandContext;
  behaviour?: SimBehaviour;
  /** The device's responders by RequestType; default the built-in ones. */
  responders?: Readonly<Record<string, SimResponder>>;
}

/** Creates the user channel of `shortName` on an enrolled macOS device; nothing is sent until `enroll`. */
export function createUserChannel(host: SimChannelHost, shortName: string): SimUserChannel {
  const userId = randomUUID().toUpperCase();
  const token = randomBytes(32);
  const pushMagic = randomUUID().toUpperCase();
  const keys: PlistDict = {
    UDID: host.context.udid,
    UserID: userId,
    UserShortName: shortName,
    UserLongName: `User ${shortName}`,
  };
  const profiles = createProfileStore(() => ({
    platform: host.context.platform,
    osVersion: host.context.osVersion,
    supervised: host.context.supervised,
    enrollment: 'device',
  }));
  const context: SimCommandContext = {
    ...host.context,
    profiles,
    renewIdentity: () => Promise.reject(new Error('identity renewal runs on the device channel')),
    unenroll: () => Promise.reject(new Error('the enrollment profile is on the device channel')),
  };
  let enrolled = false;
  return {
    enrollmentId: `${host.context.udid}:${userId}`,
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

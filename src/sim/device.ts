/**
 * A simulated Apple device: fetches an enrollment profile, enrolls an identity over SCEP, sends
 * Authenticate and TokenUpdate signed with `Mdm-Signature`, and on `connect()` runs the command
 * loop as a pushed device does. Device channel only for now: a user channel (macOS user, User
 * Enrollment) would be a second session sharing this identity with extra keys in every message
 * (see checkin.ts), exposed as `device.user(name)`.
 */
import { randomBytes, randomUUID, type X509Certificate } from 'node:crypto';
import { ProfileError, ProtocolError } from '../errors.js';
import type { PlistDict } from '../protocol/plist.js';
import { authenticateMessage, tokenUpdateMessage, type SimCheckinFacts } from './checkin.js';
import { answerCommand, RESPONDERS, type SimCommandContext } from './commands.js';
import {
  openProfile,
  readEnrollmentProfile,
  scepEnroll,
  type SimMdmPayload,
  type SimScepPayload,
} from './enroll.js';
import { generateRsaKey } from './key-pool.js';
import { createProfileStore } from './profiles.js';
import { runSession } from './session.js';
import {
  CHECKIN_CONTENT_TYPE,
  REPORT_CONTENT_TYPE,
  sendCheckin,
  sendSigned,
  type SimIdentity,
} from './transport.js';
import { createUserChannel } from './user-channel.js';
import type { SimDevice, SimDeviceOptions, SimSessionResult, SimUserChannel } from './types.js';

const SERIAL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

function randomSerial(): string {
  return [...randomBytes(12)].map((b) => SERIAL_ALPHABET[b % SERIAL_ALPHABET.length]).join('');
}

function defaultName(options: SimDeviceOptions, serial: string): string {
  const model = { iOS: 'iPhone', iPadOS: 'iPad', macOS: 'Mac' }[options.platform];
  return `${model} ${serial.slice(-4)}`;
}

/**
 * Creates a device that is not enrolled yet; nothing is sent until `enroll`. Throws `TypeError`
 * for an unknown platform.
 */
export function createSimDevice(
  options: SimDeviceOptions,
): SimDevice & { readonly enrollmentId: string; user(shortName: string): SimUserChannel } {
  if (!['iOS', 'iPadOS', 'macOS'].includes(options.platform)) {
    throw new TypeError(`createSimDevice: unknown platform ${options.platform as string}`);
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? (() => new Date());
  const udid = options.udid ?? randomUUID().toUpperCase();
  const serialNumber = options.serialNumber ?? randomSerial();
  const deviceName = options.deviceName ?? defaultName(options, serialNumber);
  const token = randomBytes(32);
  const pushMagic = randomUUID().toUpperCase();
  let identity: SimIdentity | undefined;
  let cas: X509Certificate[] = [];
  let mdm: SimMdmPayload | undefined;
  let enrolled = false;
  let sessions: Promise<unknown> = Promise.resolve();
  const userEnrollment = options.userEnrollment === true;
  const responders = { ...RESPONDERS, ...options.responders };
  const enrollmentId = userEnrollment ? randomUUID().toUpperCase() : udid;
  const keys: PlistDict = userEnrollment ? { EnrollmentID: enrollmentId } : { UDID: udid };

  const profiles = createProfileStore(() => ({
    platform: options.platform,
    osVersion: options.osVersion,
    supervised: options.supervised === true,
    enrollment: !enrolled ? 'none' : userEnrollment ? 'user' : 'device',
  }));
  for (const p of options.manualProfiles ?? []) profiles.install(p, 'configuration', 'manual');

  const facts = (): SimCheckinFacts => ({
    keys,
    userEnrollment,
    serialNumber,
    platform: options.platform,
    osVersion: options.osVersion,
    deviceName,
    topic: mdm?.Topic ?? '',
    pushToken: token,
    pushMagic,
  });
  const held = (): SimIdentity => {
    if (identity === undefined) throw new TypeError('the simulated device is not enrolled');
    return identity;
  };
  const checkin = (message: PlistDict): Promise<void> =>
    sendCheckin(fetchFn, mdm?.CheckInURL ?? '', message, held());
  const enrollIdentity = async (scep: SimScepPayload): Promise<void> => {
    const privateKey = options.keys?.take() ?? (await generateRsaKey());
    const issued = await scepEnroll(fetchFn, scep, privateKey, clock());
    identity = { certificate: issued.certificate, privateKey };
    cas = issued.cas;
    await checkin(authenticateMessage(facts()));
    await checkin(tokenUpdateMessage(facts()));
  };

  const ctx: SimCommandContext = {
    platform: options.platform,
    osVersion: options.osVersion,
    supervised: options.supervised === true,
    udid,
    userEnrollment,
    serialNumber,
    deviceName,
    profiles,
    identity: held,
    certificates: () => (identity === undefined ? [] : [identity.certificate, ...cas]),
    renewIdentity: enrollIdentity,
    async unenroll() {
      // Devices check out when the enrollment profile goes (CheckOutWhenRemoved);
      // the server may already have forgotten the device, so its answer does not matter.
      await sendSigned(
        fetchFn,
        mdm?.CheckInURL ?? '',
        { ...keys, MessageType: 'CheckOut', Topic: mdm?.Topic ?? '' },
        held(),
        CHECKIN_CONTENT_TYPE,
      ).catch(() => undefined);
      enrolled = false;
    },
  };

  return {
    udid,
    serialNumber,
    enrollmentId,
    platform: options.platform,
    pushToken: token.toString('hex'),
    pushMagic,
    get topic() {
      return mdm?.Topic;
    },
    get enrolled() {
      return enrolled;
    },
    get certificate() {
      return identity?.certificate;
    },
    async enroll(source) {
      const bytes = 'url' in source ? await download(fetchFn, source.url) : source.profile;
      const profile = openProfile(bytes);
      const read = readEnrollmentProfile(profile);
      if (read.mdm === undefined || read.scep === undefined) {
        throw new ProfileError(
          'ERR_PROFILE_FORMAT',
          'not an enrollment profile (MDM and SCEP payloads)',
        );
      }
      mdm = read.mdm;
      await enrollIdentity(read.scep);
      enrolled = true;
      profiles.install(profile, 'enrollment');
    },
    connect() {
      if (!enrolled || mdm === undefined) {
        return Promise.reject(new TypeError('connect: the simulated device is not enrolled'));
      }
      const serverUrl = mdm.ServerURL;
      const session = (): Promise<SimSessionResult> =>
        runSession({
          send: (message) =>
            sendSigned(fetchFn, serverUrl, { ...keys, ...message }, held(), REPORT_CONTENT_TYPE),
          answer: (command) => answerCommand(command, ctx, options.behaviour, responders),
        });
      // A device runs one session at a time: a push during a session starts the next one after it.
      const next = sessions.then(session, session);
      sessions = next;
      return next;
    },
    user(shortName) {
      if (options.platform !== 'macOS' || userEnrollment) {
        throw new TypeError(
          'user channels are simulated on macOS only (User Enrollment comes later)',
        );
      }
      if (!enrolled || mdm === undefined) throw new TypeError('user: the device is not enrolled');
      return createUserChannel(
        {
          fetch: fetchFn,
          identity: held,
          mdm,
          context: ctx,
          responders,
          ...(options.behaviour === undefined ? {} : { behaviour: options.behaviour }),
        },
        shortName,
      );
    },
    installedProfiles: () =>
      profiles.list().map(({ identifier, uuid, removalDisallowed }) => ({
        identifier,
        uuid,
        removalDisallowed,
      })),
  };
}

async function download(fetchFn: typeof fetch, url: string): Promise<Uint8Array> {
  const res = await fetchFn(url);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new ProtocolError('ERR_ENDPOINT', `the enrollment profile answered ${res.status}`);
  }
  return bytes;
}

/**
 * A simulated Apple device: fetches an enrollment profile, enrolls an identity over SCEP, sends
 * Authenticate and TokenUpdate signed with `Mdm-Signature`, and on `connect()` runs the command
 * loop as a pushed device does. Device enrollment or User Enrollment; user channels (macOS user,
 * Shared iPad user, User Enrollment user) come from `device.user(name)` (see user-channel.ts), a
 * supervised Mac's bootstrap token from bootstrap.ts.
 */
import { randomBytes, randomUUID, type X509Certificate } from 'node:crypto';
import { ProfileError } from '../errors.js';
import type { PlistDict } from '../protocol/plist.js';
import { authenticateMessage, tokenUpdateMessage, type SimCheckinFacts } from './checkin.js';
import { escrowBootstrapToken, escrowsBootstrapToken, requestBootstrapToken } from './bootstrap.js';
import {
  answerCommand,
  RESPONDERS,
  type SimCommandContext,
  type SimResponder,
} from './commands.js';
import {
  download,
  openProfile,
  readEnrollmentProfile,
  scepEnroll,
  type SimMdmPayload,
  type SimScepPayload,
} from './enroll.js';
import { generateRsaKey } from './key-pool.js';
import type { RemovalDecision } from '../profile/removal.js';
import { createProfileStore, type SimProfileStore, type SimUserRemoval } from './profiles.js';
import { runSession } from './session.js';
import {
  CHECKIN_CONTENT_TYPE,
  REPORT_CONTENT_TYPE,
  sendCheckin,
  sendSigned,
  type SimIdentity,
} from './transport.js';
import { createUserChannel, type SimChannelHost, type SimUserChannelKind } from './user-channel.js';
import type {
  SimDevice,
  SimDeviceOptions,
  SimInstalledProfile,
  SimPlatform,
  SimSessionResult,
  SimUserChannel,
} from './types.js';

const SERIAL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

function randomSerial(): string {
  return [...randomBytes(12)].map((b) => SERIAL_ALPHABET[b % SERIAL_ALPHABET.length]).join('');
}

function defaultName(options: SimDeviceOptions, serial: string): string {
  const model = { iOS: 'iPhone', iPadOS: 'iPad', macOS: 'Mac' }[options.platform];
  return `${model} ${serial.slice(-4)}`;
}

/** A simulated device together with the extras the factory's callers may use. */
export type SimDeviceHandle = SimDevice & {
  readonly enrollmentId: string;
  user(shortName: string): SimUserChannel;
  /** The bootstrap token a supervised Mac escrowed with SetBootstrapToken; undefined otherwise. */
  readonly bootstrapToken: Uint8Array | undefined;
  /** Sends GetBootstrapToken; resolves the token the server holds (undefined when none). */
  getBootstrapToken(): Promise<Uint8Array | undefined>;
  /**
   * Takes over an enrollment made outside the protocol (a benchmark's pre-enrolled fleet): the
   * identity the server's CA issued for this device and its enrollment profile's MDM payload.
   * Sends nothing; the server must already hold the device's Authenticate, TokenUpdate (with this
   * device's `pushToken` and `pushMagic`) and certificate binding.
   */
  adopt(enrollment: { identity: SimIdentity; mdm: SimMdmPayload; cas?: X509Certificate[] }): void;
  /**
   * The user removes a profile by hand, as the removal rules allow (`SimProfileStore.removeByUser`);
   * removing the enrollment profile checks out. Undefined when the profile is not installed.
   */
  removeProfileByUser(
    identifier: string,
    options?: SimUserRemoval,
  ): Promise<RemovalDecision | undefined>;
};

/**
 * Creates a device that is not enrolled yet; nothing is sent until `enroll`. Throws `TypeError`
 * for an unknown platform.
 */
export function createSimDevice(options: SimDeviceOptions): SimDeviceHandle {
  if (!['iOS', 'iPadOS', 'macOS'].includes(options.platform)) {
    throw new TypeError(`createSimDevice: unknown platform ${options.platform as string}`);
  }
  return new SimulatedDevice(options);
}

class SimulatedDevice implements SimDeviceHandle {
  readonly udid: string;
  readonly serialNumber: string;
  readonly enrollmentId: string;
  readonly platform: SimPlatform;
  readonly pushMagic = randomUUID().toUpperCase();
  private readonly token = randomBytes(32);
  private readonly fetchFn: typeof fetch;
  private readonly keys: PlistDict;
  private readonly userEnrollment: boolean;
  private readonly responders: Readonly<Record<string, SimResponder>>;
  private readonly profiles: SimProfileStore;
  private readonly ctx: SimCommandContext;
  private identity: SimIdentity | undefined;
  private cas: X509Certificate[] = [];
  private mdm: SimMdmPayload | undefined;
  private isEnrolled = false;
  private escrowed: Uint8Array | undefined;
  private sessions: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SimDeviceOptions) {
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.platform = options.platform;
    this.udid = options.udid ?? randomUUID().toUpperCase();
    this.serialNumber = options.serialNumber ?? randomSerial();
    this.userEnrollment = options.userEnrollment === true;
    this.enrollmentId = this.userEnrollment ? randomUUID().toUpperCase() : this.udid;
    this.keys = this.userEnrollment ? { EnrollmentID: this.enrollmentId } : { UDID: this.udid };
    this.responders = { ...RESPONDERS, ...options.responders };
    this.profiles = createProfileStore(() => ({
      platform: options.platform,
      osVersion: options.osVersion,
      supervised: options.supervised === true,
      enrollment: !this.isEnrolled ? 'none' : this.userEnrollment ? 'user' : 'device',
    }));
    for (const p of options.manualProfiles ?? []) {
      this.profiles.install(p, 'configuration', 'manual');
    }
    this.ctx = this.commandContext();
  }

  get pushToken(): string {
    return this.token.toString('hex');
  }

  get topic(): string | undefined {
    return this.mdm?.Topic;
  }

  get enrolled(): boolean {
    return this.isEnrolled;
  }

  get bootstrapToken(): Uint8Array | undefined {
    return this.escrowed;
  }

  get certificate(): X509Certificate | undefined {
    return this.identity?.certificate;
  }

  async enroll(source: { url: string } | { profile: Uint8Array }): Promise<void> {
    const bytes = 'url' in source ? await download(this.fetchFn, source.url) : source.profile;
    const o = this.options;
    const at = (o.clock ?? (() => new Date()))();
    const profile = openProfile(bytes, o.trust === undefined ? undefined : { roots: o.trust, at });
    const read = readEnrollmentProfile(profile);
    if (read.mdm === undefined || read.scep === undefined) {
      throw new ProfileError(
        'ERR_PROFILE_FORMAT',
        'not an enrollment profile (MDM and SCEP payloads)',
      );
    }
    this.mdm = read.mdm;
    await this.enrollIdentity(read.scep);
    this.isEnrolled = true;
    this.profiles.install(profile, 'enrollment');
  }

  adopt(enrollment: { identity: SimIdentity; mdm: SimMdmPayload; cas?: X509Certificate[] }) {
    this.identity = enrollment.identity;
    this.mdm = enrollment.mdm;
    this.cas = [...(enrollment.cas ?? [])];
    this.isEnrolled = true;
  }

  connect(): Promise<SimSessionResult> {
    const mdm = this.mdm;
    if (!this.isEnrolled || mdm === undefined) {
      return Promise.reject(new TypeError('connect: the simulated device is not enrolled'));
    }
    const session = (): Promise<SimSessionResult> =>
      runSession({
        send: (message) =>
          sendSigned(
            this.fetchFn,
            mdm.ServerURL,
            { ...this.keys, ...message },
            this.held(),
            REPORT_CONTENT_TYPE,
          ),
        answer: (command) =>
          answerCommand(command, this.ctx, this.options.behaviour, this.responders),
      });
    // A device runs one session at a time: a push during a session starts the next one after it.
    const next = this.sessions.then(session, session);
    this.sessions = next;
    return next;
  }

  user(shortName: string): SimUserChannel {
    const kind = this.userChannelKind();
    if (!this.isEnrolled || this.mdm === undefined) {
      throw new TypeError('user: the device is not enrolled');
    }
    const behaviour = this.options.behaviour;
    const host: SimChannelHost = {
      fetch: this.fetchFn,
      identity: () => this.held(),
      mdm: this.mdm,
      kind,
      deviceId: this.enrollmentId,
      context: this.ctx,
      responders: this.responders,
      ...(behaviour === undefined ? {} : { behaviour }),
    };
    return createUserChannel(host, shortName);
  }

  getBootstrapToken(): Promise<Uint8Array | undefined> {
    const mdm = this.mdm;
    if (!this.isEnrolled || mdm === undefined)
      return Promise.reject(new TypeError('the device is not enrolled'));
    return requestBootstrapToken(this.fetchFn, mdm.CheckInURL, this.facts(), this.held());
  }

  /** Which user channel this device opens; throws `TypeError` when it has none. */
  private userChannelKind(): SimUserChannelKind {
    if (this.userEnrollment) return 'user-enrollment';
    if (this.platform === 'macOS') return 'user';
    if (this.platform === 'iPadOS' && this.options.sharedIpad === true) return 'shared-ipad';
    throw new TypeError(
      'user channels: macOS, Shared iPad (sharedIpad) and User Enrollment devices only',
    );
  }

  async removeProfileByUser(identifier: string, options?: SimUserRemoval) {
    const kind = this.profiles.find(identifier)?.kind;
    const decision = this.profiles.removeByUser(identifier, options);
    if (kind === 'enrollment' && this.profiles.find(identifier) === undefined)
      await this.unenroll();
    return decision;
  }

  installedProfiles(): readonly SimInstalledProfile[] {
    return this.profiles
      .list()
      .map(({ identifier, uuid, removalDisallowed }) => ({ identifier, uuid, removalDisallowed }));
  }

  private held(): SimIdentity {
    if (this.identity === undefined) throw new TypeError('the simulated device is not enrolled');
    return this.identity;
  }

  private facts(): SimCheckinFacts {
    return {
      keys: this.keys,
      userEnrollment: this.userEnrollment,
      serialNumber: this.serialNumber,
      platform: this.platform,
      osVersion: this.options.osVersion,
      deviceName: this.ctx.deviceName,
      topic: this.mdm?.Topic ?? '',
      pushToken: this.token,
      pushMagic: this.pushMagic,
    };
  }

  private async enrollIdentity(scep: SimScepPayload): Promise<void> {
    const privateKey = this.options.keys?.take() ?? (await generateRsaKey());
    const now = (this.options.clock ?? (() => new Date()))();
    const issued = await scepEnroll(this.fetchFn, scep, privateKey, now);
    this.identity = { certificate: issued.certificate, privateKey };
    this.cas = issued.cas;
    const url = this.mdm?.CheckInURL ?? '';
    await sendCheckin(this.fetchFn, url, authenticateMessage(this.facts()), this.identity);
    await sendCheckin(this.fetchFn, url, tokenUpdateMessage(this.facts()), this.identity);
    if (escrowsBootstrapToken(this.facts(), this.options.supervised === true, this.mdm)) {
      const token = this.escrowed ?? randomBytes(32);
      await escrowBootstrapToken(this.fetchFn, url, this.facts(), this.identity, token);
      this.escrowed = token;
    }
  }

  private async unenroll(): Promise<void> {
    // Devices check out when the enrollment profile goes (CheckOutWhenRemoved); the server may
    // already have forgotten the device, so its answer does not matter.
    const message = { ...this.keys, MessageType: 'CheckOut', Topic: this.mdm?.Topic ?? '' };
    await sendSigned(
      this.fetchFn,
      this.mdm?.CheckInURL ?? '',
      message,
      this.held(),
      CHECKIN_CONTENT_TYPE,
    ).catch(() => undefined);
    this.isEnrolled = false;
  }

  private commandContext(): SimCommandContext {
    const o = this.options;
    return {
      platform: o.platform,
      osVersion: o.osVersion,
      supervised: o.supervised === true,
      udid: this.udid,
      userEnrollment: this.userEnrollment,
      serialNumber: this.serialNumber,
      deviceName: o.deviceName ?? defaultName(o, this.serialNumber),
      profiles: this.profiles,
      identity: () => this.held(),
      certificates: () =>
        this.identity === undefined ? [] : [this.identity.certificate, ...this.cas],
      renewIdentity: (scep) => this.enrollIdentity(scep),
      unenroll: () => this.unenroll(),
    };
  }
}

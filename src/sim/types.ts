import type { KeyObject, X509Certificate } from 'node:crypto';
import type { PlistDict } from '../protocol/plist.js';
import type { SimResponder } from './commands.js';

/** The Apple platform a simulated device reports (drives DeviceInformation values). */
export type SimPlatform = 'iOS' | 'iPadOS' | 'macOS';

/** How often a simulated device answers NotNow or Error instead of doing the work; `random` defaults to `Math.random`. */
export interface SimBehaviour {
  notNowRate?: number;
  errorRate?: number;
  random?: () => number;
}

/** Options of {@link SimDevice} creation: platform and OS version, identity, key pool, injected fetch and clock. */
export interface SimDeviceOptions {
  platform: SimPlatform;
  osVersion: string;
  supervised?: boolean;
  /** Random when absent. */
  udid?: string;
  /** Random when absent. */
  serialNumber?: string;
  /** Pre-generated RSA-2048 keys; default: generate one. */
  keys?: SimKeyPool;
  behaviour?: SimBehaviour;
  /** Default `globalThis.fetch` (tests may inject). */
  fetch?: typeof fetch;
  clock?: () => Date;
  /** Profiles the user installed by hand before enrolling: this MDM may not remove them. */
  manualProfiles?: readonly PlistDict[];
  /**
   * User Enrollment (BYOD): the device identifies itself by a random `EnrollmentID` instead of
   * its UDID and keeps its serial number and UDID to itself. Default false.
   */
  userEnrollment?: boolean;
  /**
   * A Shared iPad (iPadOS only): `device.user(name)` opens a Shared iPad user channel. Default false.
   */
  sharedIpad?: boolean;
  /**
   * Trusted roots for the enrollment profile: when given, the device refuses a profile that is
   * unsigned or whose signer does not chain to one of them (`ERR_PROFILE_NOT_SIGNED`,
   * `ERR_CERT_UNTRUSTED`). Default: any
   * signature that verifies, or none.
   */
  trust?: readonly X509Certificate[];
  /** Extra or replacing command responders by RequestType, over the built-in ones. */
  responders?: Readonly<Record<string, SimResponder>>;
  /** The name the device reports; default the model name and the serial number's last four characters. */
  deviceName?: string;
}

/** One connection's outcome: Idle, then answers until the server sends nothing. */
export interface SimSessionResult {
  /** By reported status: Acknowledged, Error, NotNow, CommandFormatError. */
  commands: Record<string, number>;
  requestTypes: Record<string, number>;
  /** Per HTTP round trip. */
  latenciesMs: number[];
  /** Protocol errors (non-200 answers, undecodable bodies). */
  errors: string[];
  /** Requests sent a second time after a connection reset (not errors: see `sendSigned`). */
  retries?: number;
}

/** A profile installed on a simulated device, as ProfileList reports it. */
export interface SimInstalledProfile {
  identifier: string;
  uuid: string;
  removalDisallowed: boolean;
}

/** A simulated Apple device: enrolls over SCEP, checks in, and answers commands when it connects. */
export interface SimDevice {
  readonly udid: string;
  readonly serialNumber: string;
  readonly platform: SimPlatform;
  /** The id the server knows the device channel by: the UDID, or the EnrollmentID under User Enrollment. */
  readonly enrollmentId?: string;
  /** Hex, 32 bytes, sent in TokenUpdate. */
  readonly pushToken: string;
  readonly pushMagic: string;
  /** Topic from the enrollment profile; undefined before enrollment. */
  readonly topic: string | undefined;
  readonly enrolled: boolean;
  /** Profile -> SCEP -> Authenticate -> TokenUpdate. */
  enroll(source: { url: string } | { profile: Uint8Array }): Promise<void>;
  /** What a push makes a device do: Idle, then answer commands until the server sends nothing. */
  connect(): Promise<SimSessionResult>;
  installedProfiles(): readonly SimInstalledProfile[];
  /**
   * A user channel of this enrolled device: a macOS user, a Shared iPad user (`sharedIpad`), or
   * the User Enrollment user; same identity, its own push token and profiles. Throws `TypeError`
   * on other devices or before enrollment.
   */
  user?(shortName: string): SimUserChannel;
  /** The identity certificate the device signs with now; undefined before enrollment. */
  readonly certificate?: X509Certificate | undefined;
}

/** A user channel of a simulated device: TokenUpdate to enroll, then the command loop. */
export interface SimUserChannel {
  /** The enrollment id the server derives: `UDID:UserID`, `UDID:UserShortName` (Shared iPad), `EnrollmentID:EnrollmentUserID`. */
  readonly enrollmentId: string;
  readonly userId: string;
  readonly shortName: string;
  /** Hex, 32 bytes, sent in the channel's TokenUpdate. */
  readonly pushToken: string;
  readonly pushMagic: string;
  readonly enrolled: boolean;
  /** Sends the user channel's TokenUpdate (user channels send no Authenticate). */
  enroll(): Promise<void>;
  /** Idle on the user channel, then answer commands until the server sends nothing. */
  connect(): Promise<SimSessionResult>;
  installedProfiles(): readonly SimInstalledProfile[];
}

/** A pool of pre-generated RSA-2048 private keys handed out one per device. */
export interface SimKeyPool {
  /** A private key; throws when the pool is exhausted unless it generates on demand. */
  take(): KeyObject;
  readonly size: number;
}

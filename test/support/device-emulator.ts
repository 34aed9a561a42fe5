/**
 * A device emulator for protocol and attack tests that craft arbitrary messages (wrong identity,
 * forged headers, junk bodies): real P-256 identity keys, `Mdm-Signature` over every body signed
 * by the simulator's `mdmSignature` (or the certificate in a proxy header), Authenticate and
 * TokenUpdate from the simulator's builders, serialized with the independent `plist` package (so
 * the server's decoder is not only tested against Orchard's own encoder), real HTTP to a server on 127.0.0.1. Honest device journeys
 * use the simulator (`src/sim`) instead. Supports the device channel, macOS user channels, User
 * Enrollment and Shared iPad users.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as plist from 'plist';
import {
  authenticateMessage,
  mdmSignature,
  tokenUpdateMessage,
  type SimCheckinFacts,
} from '../../src/sim/index.js';
import type { TestIdentity } from './device-pki.js';

/** A decoded server answer. */
export interface EmulatorResponse {
  status: number;
  contentType: string | null;
  body: Buffer;
  /** The body parsed as a plist, when it is one. */
  plist?: Record<string, unknown>;
}

/** How the emulator presents its certificate. */
export type IdentityMode = 'signature' | 'header' | 'none';

/** Options of {@link DeviceEmulator}. */
export interface EmulatorOptions {
  baseUrl: string;
  identity: TestIdentity;
  topic: string;
  /** Device channel keys: `{UDID}` or `{EnrollmentID}`; default a random UDID. */
  keys?: Record<string, string>;
  mode?: IdentityMode;
  /** Proxy header name in `header` mode (RFC 9440 format). */
  certHeader?: string;
  serverPath?: string;
  checkinPath?: string;
}

const SHARED_IPAD = 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF';

/** One channel of an emulated device; `user()` derives user channels sharing its identity. */
export class DeviceEmulator {
  readonly keys: Record<string, string>;
  readonly token = randomBytes(32);
  pushMagic = randomUUID();

  constructor(readonly options: EmulatorOptions) {
    this.keys = options.keys ?? { UDID: randomUUID().toUpperCase() };
  }

  /** The enrollment id the server should derive for this channel. */
  get enrollmentId(): string {
    const k = this.keys;
    const device = k.UDID ?? k.EnrollmentID ?? '';
    if (k.EnrollmentUserID !== undefined) return `${device}:${k.EnrollmentUserID}`;
    if (k.UserID === SHARED_IPAD) return `${device}:${k.UserShortName ?? ''}`;
    if (k.UserID !== undefined) return `${device}:${k.UserID}`;
    return device;
  }

  /** A user channel of this device: a macOS user, a Shared iPad user, or a User Enrollment user. */
  user(kind: 'macos' | 'shared-ipad' | 'user-enrollment', name = 'alice'): DeviceEmulator {
    const extra: Record<string, string> =
      kind === 'macos'
        ? { UserID: randomUUID().toUpperCase(), UserShortName: name, UserLongName: `User ${name}` }
        : kind === 'shared-ipad'
          ? {
              UserID: SHARED_IPAD,
              UserShortName: `${name}@example.com`,
              UserLongName: `User ${name}`,
            }
          : { EnrollmentUserID: `${name}-${randomUUID()}` };
    return new DeviceEmulator({ ...this.options, keys: { ...this.keys, ...extra } });
  }

  /** Builds the XML plist of a message carrying this channel's identity keys. */
  build(fields: Record<string, unknown>): Buffer {
    return Buffer.from(plist.build({ ...this.keys, ...fields } as plist.PlistValue));
  }

  /** Sends a raw body with this channel's identity; `headers` override the defaults. */
  async send(
    path: string,
    body: Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<EmulatorResponse> {
    const h: Record<string, string> = { ...this.identityHeaders(body), ...headers };
    const res = await fetch(this.options.baseUrl + path, { method: 'PUT', headers: h, body });
    const buf = Buffer.from(await res.arrayBuffer());
    const out: EmulatorResponse = {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: buf,
    };
    if (buf.length > 0 && buf.subarray(0, 5).toString() === '<?xml') {
      out.plist = plist.parse(buf.toString('utf8')) as Record<string, unknown>;
    }
    return out;
  }

  /** The headers that present this channel's identity: the simulator's `Mdm-Signature`, a proxy header, or none. */
  identityHeaders(body: Uint8Array): Record<string, string> {
    const { identity, mode = 'signature', certHeader = 'client-cert' } = this.options;
    if (mode === 'signature') {
      return { 'mdm-signature': mdmSignature(body, identity) };
    }
    if (mode === 'header')
      return { [certHeader]: `:${identity.certificate.raw.toString('base64')}:` };
    return {};
  }

  /** Sends a check-in message to the CheckInURL. */
  checkin(messageType: string, fields: Record<string, unknown> = {}): Promise<EmulatorResponse> {
    const body = this.build({ MessageType: messageType, ...fields });
    return this.send(this.options.checkinPath ?? '/mdm/checkin', body, {
      'content-type': 'application/x-apple-aspen-mdm-checkin',
    });
  }

  /** What the simulator's check-in builders say about this channel: an iPhone on iOS 18.1. */
  private facts(): SimCheckinFacts {
    return {
      keys: this.keys,
      userEnrollment: false,
      serialNumber: 'EMU0001',
      platform: 'iOS',
      osVersion: '18.1',
      deviceName: 'Emulated',
      topic: this.options.topic,
      pushToken: this.token,
      pushMagic: this.pushMagic,
    };
  }

  /** The simulator's Authenticate for this channel; `fields` add to or override it. */
  authenticate(fields: Record<string, unknown> = {}): Promise<EmulatorResponse> {
    return this.checkin('Authenticate', { ...authenticateMessage(this.facts()), ...fields });
  }

  /** The simulator's TokenUpdate for this channel (UnlockToken `unlock-token`); `fields` add to or override it. */
  tokenUpdate(fields: Record<string, unknown> = {}): Promise<EmulatorResponse> {
    return this.checkin('TokenUpdate', {
      ...tokenUpdateMessage(this.facts()),
      UnlockToken: Buffer.from('unlock-token'),
      ...fields,
    });
  }

  /** Authenticate (device channels) then TokenUpdate; throws unless both answer 200. */
  async enroll(): Promise<void> {
    const isUser = this.enrollmentId.includes(':');
    if (!isUser) expectOk(await this.authenticate(), 'Authenticate');
    expectOk(await this.tokenUpdate(), 'TokenUpdate');
  }

  /** Sends a command report (or Idle) to the ServerURL. */
  report(status: string, fields: Record<string, unknown> = {}): Promise<EmulatorResponse> {
    const body = this.build({ Status: status, ...fields });
    return this.send(this.options.serverPath ?? '/mdm', body, {
      'content-type': 'application/x-apple-aspen-mdm',
    });
  }

  idle(): Promise<EmulatorResponse> {
    return this.report('Idle');
  }

  /** Answers a command by its uuid. */
  answer(
    uuid: string,
    status: string,
    fields: Record<string, unknown> = {},
  ): Promise<EmulatorResponse> {
    return this.report(status, { CommandUUID: uuid, ...fields });
  }
}

/** Throws with the server's answer unless it is 200. */
export function expectOk(res: EmulatorResponse, what: string): void {
  if (res.status !== 200) throw new Error(`${what} answered ${res.status}: ${res.body.toString()}`);
}

/** The `CommandUUID` and `RequestType` of a command answer, or `undefined` for an empty answer. */
export function commandOf(
  res: EmulatorResponse,
): { uuid: string; requestType: string } | undefined {
  if (res.plist === undefined) return undefined;
  const command = res.plist.Command as Record<string, unknown>;
  return { uuid: res.plist.CommandUUID as string, requestType: command.RequestType as string };
}

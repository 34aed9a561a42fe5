/**
 * The check-in messages a simulated device sends: Authenticate and TokenUpdate on the device
 * channel, SetBootstrapToken and GetBootstrapToken of a supervised Mac. User channels build
 * their keys in user-channel.ts.
 * See https://developer.apple.com/documentation/devicemanagement/authenticaterequest
 */
import type { PlistDict } from '../protocol/plist.js';
import type { SimPlatform } from './types.js';

/** What check-in messages say about the device. */
export interface SimCheckinFacts {
  /** `{ UDID }`, or `{ EnrollmentID }` under User Enrollment. */
  keys: PlistDict;
  userEnrollment: boolean;
  serialNumber: string;
  platform: SimPlatform;
  osVersion: string;
  deviceName: string;
  topic: string;
  pushToken: Uint8Array;
  pushMagic: string;
}

const PRODUCTS: Record<SimPlatform, { ProductName: string; Model: string; ModelName: string }> = {
  iOS: { ProductName: 'iPhone16,1', Model: 'iPhone16,1', ModelName: 'iPhone' },
  iPadOS: { ProductName: 'iPad14,3', Model: 'iPad14,3', ModelName: 'iPad' },
  macOS: { ProductName: 'Mac14,2', Model: 'Mac14,2', ModelName: 'MacBook Air' },
};

/** The Authenticate message of the device channel. */
export function authenticateMessage(f: SimCheckinFacts): PlistDict {
  return {
    ...f.keys,
    MessageType: 'Authenticate',
    Topic: f.topic,
    DeviceName: f.deviceName,
    // User Enrollment keeps the hardware identifiers private.
    ...(f.userEnrollment ? {} : { SerialNumber: f.serialNumber }),
    OSVersion: f.osVersion,
    BuildVersion: '22A100',
    ...PRODUCTS[f.platform],
  };
}

/** The TokenUpdate message of the device channel (with an UnlockToken on iOS and iPadOS). */
export function tokenUpdateMessage(f: SimCheckinFacts): PlistDict {
  return {
    ...f.keys,
    MessageType: 'TokenUpdate',
    Topic: f.topic,
    Token: f.pushToken,
    PushMagic: f.pushMagic,
    ...(f.platform === 'macOS' ? {} : { UnlockToken: new TextEncoder().encode('sim-unlock') }),
  };
}

/** The SetBootstrapToken message of a supervised Mac escrowing `token` with the server. */
export function setBootstrapTokenMessage(f: SimCheckinFacts, token: Uint8Array): PlistDict {
  return { ...f.keys, MessageType: 'SetBootstrapToken', Topic: f.topic, BootstrapToken: token };
}

/** The GetBootstrapToken message: a Mac asking for the escrowed token back. */
export function getBootstrapTokenMessage(f: SimCheckinFacts): PlistDict {
  return { ...f.keys, MessageType: 'GetBootstrapToken', Topic: f.topic };
}

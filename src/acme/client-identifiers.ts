/**
 * One-time ACME ClientIdentifiers: each enrollment-profile download that carries the
 * `com.apple.security.acme` payload gets a fresh opaque value (128 random bits, base64url), which
 * the device then orders as its `permanent-identifier`. The port ties the ACME server to
 * enrollment: new-order is allowed only for an issued, unexpired, unused value (and binds it to
 * the first account that orders it); the attestation must name the device the download named,
 * when it named one; issuing the certificate uses the value up and records the attested device
 * by certificate serial, which the MDM core checks when the certificate authenticates.
 * Values are kept as SHA-256 digests, never in clear.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AcmeIdentifier } from '../storage/ports.js';
import type { AttestationIdentifierCheck, AttestedDevice } from './attestation.js';
import type { AcmeIdentifierGrant, AcmeIdentifierPolicy, AcmeIssuedEvent } from './types.js';

/** What one profile download's ClientIdentifier is for. */
export interface ClientIdentifierIssue {
  /** Recorded on the order and the certificate (e.g. `enrollment-token:<linkId>`). */
  enrollmentId: string;
  /** The device the download named (ADE's MachineInfo, a synced serial), when known. */
  expectedUdid?: string;
  expectedSerial?: string;
  /** How long the value may start an order; default 86,400 s. */
  ttlSeconds?: number;
}

/**
 * The ClientIdentifier port. `authorize` is the ACME server's `authorizeIdentifier`,
 * `checkAttested` the attestation verifier's `checkIdentifier`, `onIssued` its `onIssued` hook
 * and `attestedDeviceOf` what the MDM core's attested-device check reads.
 */
export interface AcmeClientIdentifiers {
  /** A fresh one-time value for one profile download. */
  issue(input: ClientIdentifierIssue): Promise<string>;
  authorize: AcmeIdentifierPolicy;
  checkAttested: AttestationIdentifierCheck;
  onIssued(event: AcmeIssuedEvent): Promise<void>;
  /** The attested device an ACME certificate was issued on (serial lower-case hex), if any. */
  attestedDeviceOf(certificateSerial: string): Promise<AttestedDevice | undefined>;
}

interface Entry {
  enrollmentId: string;
  expectedUdid?: string;
  expectedSerial?: string;
  expiresAt: number;
  accountId?: string;
  usedAt?: number;
}

/** Options of {@link createMemoryAcmeClientIdentifiers}. */
export interface ClientIdentifierOptions {
  clock?: () => Date;
  random?: (size: number) => Buffer;
  /** Most outstanding values kept; the oldest go first. Default 100,000. */
  maxEntries?: number;
}

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

function normalSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** True when the attestation names the device a download named (or none was named). */
function expectedDevice(entry: Entry, device: AttestedDevice): boolean {
  if (entry.expectedUdid !== undefined && device.udid !== entry.expectedUdid) {
    // A Mac attests its ProvisioningUDID: the serial then decides.
    if (entry.expectedSerial === undefined || device.serial !== entry.expectedSerial) return false;
  }
  if (entry.expectedSerial !== undefined && device.serial !== entry.expectedSerial) return false;
  return device.udid !== undefined || device.serial !== undefined;
}

/**
 * An in-memory {@link AcmeClientIdentifiers} (one process; tests and single-instance daemons).
 * A deployment with two instances needs a store-backed one with the same semantics.
 */
export function createMemoryAcmeClientIdentifiers(
  options: ClientIdentifierOptions = {},
): AcmeClientIdentifiers {
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? randomBytes;
  const max = options.maxEntries ?? 100_000;
  const entries = new Map<string, Entry>();
  const attested = new Map<string, AttestedDevice>();
  const live = (value: string): Entry | undefined => {
    const entry = entries.get(digest(value));
    if (entry === undefined || entry.usedAt !== undefined) return undefined;
    return entry.expiresAt > clock().getTime() ? entry : undefined;
  };
  return {
    issue(input) {
      const value = random(16).toString('base64url');
      const ttl = (input.ttlSeconds ?? 86_400) * 1000;
      if (!(ttl > 0)) return Promise.reject(new TypeError('ttlSeconds must be > 0'));
      if (entries.size >= max) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(digest(value), {
        enrollmentId: input.enrollmentId,
        ...(input.expectedUdid === undefined ? {} : { expectedUdid: input.expectedUdid }),
        ...(input.expectedSerial === undefined ? {} : { expectedSerial: input.expectedSerial }),
        expiresAt: clock().getTime() + ttl,
      });
      return Promise.resolve(value);
    },
    authorize({ identifier, accountId }: { identifier: AcmeIdentifier; accountId: string }) {
      const entry = live(identifier.value);
      if (entry === undefined) return Promise.resolve(undefined);
      // The first account to order the value owns it; the device may retry, nobody else may.
      if (entry.accountId !== undefined && entry.accountId !== accountId)
        return Promise.resolve(undefined);
      entry.accountId = accountId;
      const grant: AcmeIdentifierGrant = { enrollmentId: entry.enrollmentId };
      return Promise.resolve(grant);
    },
    checkAttested(identifier, device) {
      const entry = live(identifier);
      return entry !== undefined && expectedDevice(entry, device);
    },
    onIssued(event) {
      for (const identifier of event.order.identifiers) {
        const entry = entries.get(digest(identifier.value));
        if (entry !== undefined) entry.usedAt = clock().getTime();
      }
      const authz = event.authorizations.find(
        (a) => a.attestedUdid !== undefined || a.attestedSerial !== undefined,
      );
      if (authz !== undefined)
        attested.set(normalSerial(event.certificate.serial), {
          ...(authz.attestedSerial === undefined ? {} : { serial: authz.attestedSerial }),
          ...(authz.attestedUdid === undefined ? {} : { udid: authz.attestedUdid }),
        });
      return Promise.resolve();
    },
    attestedDeviceOf(certificateSerial) {
      return Promise.resolve(attested.get(normalSerial(certificateSerial)));
    },
  };
}

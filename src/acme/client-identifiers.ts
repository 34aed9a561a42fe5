/**
 * One-time ACME ClientIdentifiers: each enrollment-profile download that carries the
 * `com.apple.security.acme` payload gets a fresh opaque value (128 random bits, base64url), which
 * the device then orders as its `permanent-identifier`. The port ties the ACME server to
 * enrollment: new-order is allowed only for an issued, unexpired, unused value (and binds it to
 * the first account that orders it); the attestation must name the device the download named,
 * when it named one; the first finalize of an order for the value uses it up (so two orders for
 * one value never both issue); the issued certificate's attested device is recorded by serial,
 * for as long as the certificate lives, which the MDM core checks when the certificate
 * authenticates. Values are kept as SHA-256 digests, never in clear, in an
 * {@link AcmeClientIdStore}, so every daemon on one database shares them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../logger.js';
import type {
  AcmeClientIdPurgeResult,
  AcmeClientIdRecord,
  AcmeClientIdStore,
  AcmeIdentifier,
  AcmeOrderRecord,
} from '../storage/ports.js';
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
 * `checkAttested` the attestation verifier's `checkIdentifier`, `use` its `useIdentifiers`,
 * `onIssued` its `onIssued` hook and `attestedDeviceOf` what the MDM core's attested-device
 * check reads.
 */
export interface AcmeClientIdentifiers {
  /** A fresh one-time value for one profile download. */
  issue(input: ClientIdentifierIssue): Promise<string>;
  authorize: AcmeIdentifierPolicy;
  checkAttested: AttestationIdentifierCheck;
  /** Uses up the order's values at its first finalize; false when one was used or expired. */
  use(order: AcmeOrderRecord): Promise<boolean>;
  onIssued(event: AcmeIssuedEvent): Promise<void>;
  /** The attested device an ACME certificate was issued on (serial hex, any case), if any. */
  attestedDeviceOf(certificateSerial: string): Promise<AttestedDevice | undefined>;
  /** Deletes expired values and the attested devices of expired certificates. */
  purge(): Promise<AcmeClientIdPurgeResult>;
}

/** Dependencies of {@link createAcmeClientIdentifiers}. */
export interface ClientIdentifierDeps {
  store: AcmeClientIdStore;
  clock?: () => Date;
  random?: (size: number) => Buffer;
  logger?: Logger;
  /** Purge expired rows after every this many issued values; default 1000. */
  purgeEvery?: number;
}

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

function normalSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** True when the attestation names the device a download named (or none was named). */
function expectedDevice(entry: AcmeClientIdRecord, device: AttestedDevice): boolean {
  if (entry.expectedUdid !== undefined && device.udid !== entry.expectedUdid) {
    // A Mac attests its ProvisioningUDID: the serial then decides.
    if (entry.expectedSerial === undefined || device.serial !== entry.expectedSerial) return false;
  }
  if (entry.expectedSerial !== undefined && device.serial !== entry.expectedSerial) return false;
  return device.udid !== undefined || device.serial !== undefined;
}

/** The device the order's authorizations attested, if one did. */
function attestedOf(event: AcmeIssuedEvent): AttestedDevice | undefined {
  const authz = event.authorizations.find(
    (a) => a.attestedUdid !== undefined || a.attestedSerial !== undefined,
  );
  if (authz === undefined) return undefined;
  return {
    ...(authz.attestedSerial === undefined ? {} : { serial: authz.attestedSerial }),
    ...(authz.attestedUdid === undefined ? {} : { udid: authz.attestedUdid }),
  };
}

/**
 * The {@link AcmeClientIdentifiers} over a store (memory for one process; SQLite or PostgreSQL
 * for daemons sharing a database). Every one-time step is one conditional store call.
 */
export function createAcmeClientIdentifiers(deps: ClientIdentifierDeps): AcmeClientIdentifiers {
  const { store } = deps;
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? randomBytes;
  const logger = deps.logger ?? silentLogger;
  const purgeEvery = deps.purgeEvery ?? 1000;
  let issued = 0;
  const purge = () => store.purgeClientIds(clock());
  const sweep = (): void => {
    issued += 1;
    if (issued % purgeEvery !== 0) return;
    purge().catch((error: unknown) => {
      logger.warn({ err: error }, 'purging expired ACME ClientIdentifiers failed');
    });
  };
  return {
    async issue(input) {
      const ttl = (input.ttlSeconds ?? 86_400) * 1000;
      if (!(ttl > 0)) throw new TypeError('ttlSeconds must be > 0');
      const value = random(16).toString('base64url');
      const now = clock();
      await store.putClientId({
        digest: digest(value),
        enrollmentId: input.enrollmentId,
        ...(input.expectedUdid === undefined ? {} : { expectedUdid: input.expectedUdid }),
        ...(input.expectedSerial === undefined ? {} : { expectedSerial: input.expectedSerial }),
        createdAt: now,
        expiresAt: new Date(now.getTime() + ttl),
      });
      sweep();
      return value;
    },
    async authorize({ identifier, accountId }: { identifier: AcmeIdentifier; accountId: string }) {
      // The first account to order the value owns it; the device may retry, nobody else may.
      const entry = await store.claimClientId(digest(identifier.value), accountId, clock());
      if (entry === undefined) return undefined;
      const grant: AcmeIdentifierGrant = { enrollmentId: entry.enrollmentId };
      return grant;
    },
    async checkAttested(identifier, device) {
      const entry = await store.findLiveClientId(digest(identifier), clock());
      return entry !== undefined && expectedDevice(entry, device);
    },
    async use(order) {
      const now = clock();
      for (const identifier of order.identifiers)
        if (!(await store.useClientId(digest(identifier.value), order.accountId, now)))
          return false;
      return order.identifiers.length > 0;
    },
    async onIssued(event) {
      // Already used at finalize when the server calls `use`; otherwise used here (no-op if so).
      for (const identifier of event.order.identifiers)
        await store.useClientId(digest(identifier.value), event.order.accountId, clock());
      const device = attestedOf(event);
      if (device !== undefined)
        await store.putAttestedDevice({
          certificateSerial: normalSerial(event.certificate.serial),
          ...device,
          expiresAt: event.certificate.notAfter,
        });
    },
    async attestedDeviceOf(certificateSerial) {
      const record = await store.findAttestedDevice(normalSerial(certificateSerial));
      if (record === undefined) return undefined;
      return {
        ...(record.serial === undefined ? {} : { serial: record.serial }),
        ...(record.udid === undefined ? {} : { udid: record.udid }),
      };
    },
    purge,
  };
}

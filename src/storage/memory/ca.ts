/**
 * The certificate authority's records and the one-time SCEP challenges in memory, with the
 * SQLite adapter's semantics (one conformance suite runs against both): serials unique in their
 * normalised spelling, listed in numeric order; a challenge consumed at most once.
 */
import { CertificateAuthorityError } from '../../errors.js';
import { compareSerials, normaliseSerial } from '../../identity/ca/store.js';
import type {
  CertificateStore,
  ChallengeStore,
  IssuedCertificate,
  ListIssuedOptions,
  StoredChallenge,
} from '../ports.js';
import { closedError } from '../support.js';

/** The stores {@link createMemoryCaStorage} returns, and a `close`. */
export interface MemoryCaStorage {
  certificates: CertificateStore;
  challenges: ChallengeStore;
  /** Ends both stores: later calls reject with StorageError. */
  close(): void;
}

/** Runs `fn` as a promise: rejects with StorageError once closed, or with what `fn` throws. */
function guarded<T>(closed: () => boolean, fn: () => T): Promise<T> {
  try {
    if (closed()) throw closedError();
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** What the store keeps of a record: its fields as issued (revocation comes from `revoke`). */
function issued(given: IssuedCertificate): IssuedCertificate {
  const r: IssuedCertificate = {
    serial: normaliseSerial(given.serial),
    subject: given.subject,
    notBefore: new Date(given.notBefore.getTime()),
    notAfter: new Date(given.notAfter.getTime()),
    issuedAt: new Date(given.issuedAt.getTime()),
    der: Buffer.from(given.der),
  };
  if (given.enrollmentId !== undefined) r.enrollmentId = given.enrollmentId;
  if (given.certId !== undefined) r.certId = given.certId;
  if (given.renewalOf !== undefined) r.renewalOf = given.renewalOf;
  return r;
}

function copy(r: IssuedCertificate): IssuedCertificate {
  const out = { ...issued(r), serial: r.serial };
  if (r.revokedAt !== undefined) out.revokedAt = new Date(r.revokedAt.getTime());
  if (r.revocationReason !== undefined) out.revocationReason = r.revocationReason;
  return out;
}

function list(
  records: Map<string, IssuedCertificate>,
  options: ListIssuedOptions,
): IssuedCertificate[] {
  const after = options.after === undefined ? undefined : normaliseSerial(options.after);
  return [...records.values()]
    .filter((r) => options.enrollmentId === undefined || r.enrollmentId === options.enrollmentId)
    .filter((r) => after === undefined || compareSerials(r.serial, after) > 0)
    .sort((a, b) => compareSerials(a.serial, b.serial))
    .slice(0, options.limit ?? 100)
    .map(copy);
}

function memoryCertificates(closed: () => boolean): CertificateStore {
  const records = new Map<string, IssuedCertificate>();
  return {
    recordIssued: (given) =>
      guarded(closed, () => {
        const r = issued(given);
        if (records.has(r.serial))
          throw new CertificateAuthorityError('ERR_CA_SERIAL_CONFLICT', 'serial already issued');
        records.set(r.serial, r);
      }),
    findIssued: (serial) =>
      guarded(closed, () => {
        const r = records.get(normaliseSerial(serial));
        return r && copy(r);
      }),
    isRevoked: (serial) =>
      guarded(closed, () => records.get(normaliseSerial(serial))?.revokedAt !== undefined),
    // Like SQLite's coalesce: the first revocation time stays; a missing reason is filled later.
    revoke: (serial, at, reason) =>
      guarded(closed, () => {
        const r = records.get(normaliseSerial(serial));
        if (r === undefined) return false;
        r.revokedAt ??= new Date(at.getTime());
        if (reason !== undefined) r.revocationReason ??= reason;
        return true;
      }),
    listIssued: (options) => guarded(closed, () => list(records, options ?? {})),
    countIssued: () => guarded(closed, () => records.size),
  };
}

function memoryChallenges(closed: () => boolean): ChallengeStore {
  const map = new Map<string, StoredChallenge>();
  return {
    put: (c) =>
      guarded(closed, () => {
        const expiresAt = new Date(c.expiresAt.getTime());
        const stored: StoredChallenge = { digest: Buffer.from(c.digest), expiresAt };
        if (c.enrollmentId !== undefined) stored.enrollmentId = c.enrollmentId;
        map.set(c.digest.toString('hex'), stored);
      }),
    consume: (digest, now) =>
      guarded(closed, () => {
        const key = digest.toString('hex');
        const found = map.get(key);
        map.delete(key);
        if (found === undefined || found.expiresAt.getTime() <= now.getTime()) return undefined;
        const out: StoredChallenge = { digest, expiresAt: new Date(found.expiresAt.getTime()) };
        if (found.enrollmentId !== undefined) out.enrollmentId = found.enrollmentId;
        return out;
      }),
    purgeExpired: (now) =>
      guarded(closed, () => {
        let n = 0;
        for (const [key, c] of map) {
          if (c.expiresAt.getTime() <= now.getTime()) {
            map.delete(key);
            n++;
          }
        }
        return n;
      }),
  };
}

/**
 * A {@link CertificateStore} and a {@link ChallengeStore} held in process memory, lost on exit,
 * with the SQLite adapter's semantics. A duplicate serial rejects with `ERR_CA_SERIAL_CONFLICT`,
 * a serial that is not hex with TypeError; after `close()` every call rejects with StorageError.
 */
export function createMemoryCaStorage(): MemoryCaStorage {
  let closed = false;
  const isClosed = (): boolean => closed;
  return {
    certificates: memoryCertificates(isClosed),
    challenges: memoryChallenges(isClosed),
    close() {
      closed = true;
    },
  };
}

/**
 * One-time ACME ClientIdentifiers and attested devices in process memory, with the SQL adapters'
 * semantics (one conformance suite runs against all three): a value binds to its first account
 * only and is used up once; lookups see only live values.
 */
import type { AcmeAttestedDeviceRecord, AcmeClientIdRecord, AcmeClientIdStore } from '../ports.js';
import { checkDate, checkId, closedError } from '../support.js';

/** The {@link AcmeClientIdStore} {@link createMemoryAcmeClientIdStore} returns, with a `close`. */
export interface MemoryAcmeClientIdStore extends AcmeClientIdStore {
  /** Ends the store: later calls reject with StorageError. */
  close(): void;
}

/** Options of {@link createMemoryAcmeClientIdStore}. */
export interface MemoryAcmeClientIdStoreOptions {
  /** Most values kept; the oldest go first. Default 100,000. */
  maxEntries?: number;
}

function guarded<T>(closed: () => boolean, fn: () => T): Promise<T> {
  try {
    if (closed()) throw closedError();
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

const copy = <T extends object>(value: T): T => structuredClone(value);

const isLive = (r: AcmeClientIdRecord, now: Date): boolean =>
  r.usedAt === undefined && r.expiresAt.getTime() > now.getTime();

/** A fresh, empty in-memory {@link AcmeClientIdStore}. */
export function createMemoryAcmeClientIdStore(
  options: MemoryAcmeClientIdStoreOptions = {},
): MemoryAcmeClientIdStore {
  const max = options.maxEntries ?? 100_000;
  const ids = new Map<string, AcmeClientIdRecord>();
  const attested = new Map<string, AcmeAttestedDeviceRecord>();
  let closed = false;
  const run = <T>(fn: () => T): Promise<T> => guarded(() => closed, fn);
  const live = (digest: string, now: Date): AcmeClientIdRecord | undefined => {
    checkDate(now, 'now');
    const r = ids.get(digest);
    return r !== undefined && isLive(r, now) ? r : undefined;
  };
  return {
    putClientId: (record) =>
      run(() => {
        checkId(record.digest, 'digest');
        checkDate(record.expiresAt, 'expiresAt');
        if (ids.has(record.digest)) throw new TypeError('the ClientIdentifier exists');
        if (ids.size >= max) {
          const oldest = ids.keys().next();
          if (oldest.done !== true) ids.delete(oldest.value);
        }
        ids.set(record.digest, copy(record));
      }),
    claimClientId: (digest, accountId, now) =>
      run(() => {
        checkId(accountId, 'accountId');
        const r = live(digest, now);
        if (r === undefined) return undefined;
        r.accountId ??= accountId;
        return r.accountId === accountId ? copy(r) : undefined;
      }),
    findLiveClientId: (digest, now) =>
      run(() => {
        const r = live(digest, now);
        return r && copy(r);
      }),
    useClientId: (digest, accountId, now) =>
      run(() => {
        const r = live(digest, now);
        if (r?.accountId !== accountId) return false;
        r.usedAt = new Date(now.getTime());
        return true;
      }),
    putAttestedDevice: (record) =>
      run(() => {
        checkId(record.certificateSerial, 'certificateSerial');
        checkDate(record.expiresAt, 'expiresAt');
        attested.set(record.certificateSerial, copy(record));
      }),
    findAttestedDevice: (serial) =>
      run(() => {
        const r = attested.get(serial);
        return r && copy(r);
      }),
    purgeClientIds: (now) =>
      run(() => {
        checkDate(now, 'now');
        let clientIds = 0;
        let attestedDevices = 0;
        for (const [k, r] of ids)
          if (r.expiresAt.getTime() <= now.getTime()) {
            ids.delete(k);
            clientIds += 1;
          }
        for (const [k, r] of attested)
          if (r.expiresAt.getTime() <= now.getTime()) {
            attested.delete(k);
            attestedDevices += 1;
          }
        return { clientIds, attestedDevices };
      }),
    close() {
      closed = true;
    },
  };
}

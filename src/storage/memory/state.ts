/** The memory adapter's state, shared by its per-concern modules. */
import type {
  CertBinding,
  CommandStatus,
  EnrollmentRecord,
  OutboxEntry,
  PushInfo,
  PushOutcomeRecord,
} from '../ports.js';
import { closedError } from '../support.js';

/** One enrollment's state for one command. */
export interface TargetState {
  enrollmentId: string;
  uuid: string;
  /** Global enqueue order; doubles as the paging cursor. */
  seq: number;
  status: CommandStatus;
  result?: Uint8Array;
  updatedAt: Date;
  lastPush?: PushOutcomeRecord;
}

/** A command stored once with its targets. */
export interface StoredCommand {
  uuid: string;
  requestType: string;
  body: Uint8Array;
  expiresAt?: Date;
  createdAt: Date;
  targets: Map<string, TargetState>;
}

// Field by field rather than structuredClone, whose Dates belong to the host realm and fail
// `instanceof Date` inside vm contexts (jest).
/** A copy of `record` no caller can change the stored one through. */
export function cloneRecord(record: EnrollmentRecord): EnrollmentRecord {
  const copy: EnrollmentRecord = {
    ...record,
    facts: structuredClone(record.facts),
    createdAt: new Date(record.createdAt.getTime()),
    updatedAt: new Date(record.updatedAt.getTime()),
  };
  if (record.lastSeenAt !== undefined) copy.lastSeenAt = new Date(record.lastSeenAt.getTime());
  return copy;
}

/** Everything the memory adapter holds. */
export interface MemoryState {
  clock: () => Date;
  closed: boolean;
  seq: number;
  enrollments: Map<string, EnrollmentRecord>;
  unlockTokens: Map<string, Uint8Array>;
  push: Map<string, PushInfo>;
  certs: Map<string, CertBinding>;
  /** hash -> enrollment ids, most recently bound last. */
  certIndex: Map<string, Set<string>>;
  bootstrap: Map<string, Uint8Array>;
  commands: Map<string, StoredCommand>;
  /** enrollment -> every target, in queue order. */
  queues: Map<string, Map<string, TargetState>>;
  /** enrollment -> pending targets only (queued, sent, NotNow), in queue order. */
  active: Map<string, Map<string, TargetState>>;
  outbox: Map<string, OutboxEntry>;
}

/** A fresh, empty state. */
export function createState(clock: () => Date): MemoryState {
  return {
    clock,
    closed: false,
    seq: 0,
    enrollments: new Map(),
    unlockTokens: new Map(),
    push: new Map(),
    certs: new Map(),
    certIndex: new Map(),
    bootstrap: new Map(),
    commands: new Map(),
    queues: new Map(),
    active: new Map(),
    outbox: new Map(),
  };
}

/** Throws StorageError when the store was closed. */
export function assertOpen(state: MemoryState): void {
  if (state.closed) throw closedError();
}

/** The map stored under `key`, created empty when absent. */
export function mapFor<K, V>(outer: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/**
 * Runs a synchronous store operation as a promise: rejects (never throws synchronously) with
 * StorageError when closed, or with whatever `fn` throws.
 */
export function op<T>(state: MemoryState, fn: () => T): Promise<T> {
  try {
    assertOpen(state);
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

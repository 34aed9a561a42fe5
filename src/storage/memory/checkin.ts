/** Memory adapter: enrollments, push info, certificate bindings and bootstrap tokens. */
import type {
  AuthenticateInput,
  BootstrapTokenStore,
  CertBinding,
  CertBindingStore,
  CheckinStore,
  EnrollmentIdentity,
  EnrollmentRecord,
  PushInfo,
  PushInfoStore,
  StateChangeOptions,
  TokenUpdateInput,
} from '../ports.js';
import { checkId, checkPage, copyBytes, decodeCursor, encodeCursor } from '../support.js';
import { outboxEntryOf } from './outbox.js';
import { memoryCheckinFacts } from './checkin-facts.js';
import type { MemoryState } from './state.js';
import { cloneRecord, op } from './state.js';

function identityOf(input: EnrollmentIdentity): EnrollmentIdentity {
  checkId(input.id, 'enrollment id');
  checkId(input.deviceId, 'deviceId');
  const out: EnrollmentIdentity = { id: input.id, type: input.type, deviceId: input.deviceId };
  if (input.parentId !== undefined) out.parentId = input.parentId;
  if (input.userId !== undefined) out.userId = input.userId;
  if (input.userShortName !== undefined) out.userShortName = input.userShortName;
  if (input.userLongName !== undefined) out.userLongName = input.userLongName;
  return out;
}

/** The record `input` and `update` make of the stored one; not stored yet. */
function nextRecord(
  state: MemoryState,
  input: EnrollmentIdentity,
  update: (previous: EnrollmentRecord | undefined) => Partial<EnrollmentRecord>,
): EnrollmentRecord {
  const now = state.clock();
  const previous = state.enrollments.get(input.id);
  return {
    enrolled: false,
    facts: {},
    tokenUpdateCount: 0,
    createdAt: now,
    ...previous,
    ...identityOf(input),
    ...update(previous),
    updatedAt: now,
  };
}

/**
 * Stores `record` and its event, and runs `apply` for the rest of the change, atomically: the
 * event is built and checked first (a bad or duplicate one throws before anything changes), and
 * nothing after that can fail.
 */
function commit(
  state: MemoryState,
  record: EnrollmentRecord,
  options: StateChangeOptions | undefined,
  apply: () => void = () => undefined,
): EnrollmentRecord {
  const event = options?.event?.(cloneRecord(record));
  const entry = event === undefined ? undefined : outboxEntryOf(state, event);
  state.enrollments.set(record.id, record);
  apply();
  if (entry !== undefined) state.outbox.set(entry.id, entry);
  return cloneRecord(record);
}

/** The {@link CheckinStore} half of the memory adapter. */
export function memoryCheckin(state: MemoryState): CheckinStore {
  return {
    ...memoryCheckinFacts(state),
    storeAuthenticate(input: AuthenticateInput, options?: StateChangeOptions) {
      return op(state, () => {
        const facts = structuredClone(input.facts);
        const record = nextRecord(state, input, () => ({
          enrolled: false,
          tokenUpdateCount: 0,
          facts,
        }));
        return commit(state, record, options);
      });
    },
    storeTokenUpdate(input: TokenUpdateInput, options?: StateChangeOptions) {
      return op(state, () => {
        const record = nextRecord(state, input, (prev) => ({
          enrolled: true,
          tokenUpdateCount: (prev?.tokenUpdateCount ?? 0) + 1,
          facts: { ...prev?.facts, ...structuredClone(input.facts ?? {}) },
        }));
        return commit(state, record, options, () => {
          const { token, pushMagic, topic } = input.push;
          state.push.set(input.id, { enrollmentId: input.id, token, pushMagic, topic });
          if (input.unlockToken !== undefined) {
            state.unlockTokens.set(input.id, copyBytes(input.unlockToken));
          }
        });
      });
    },
    markCheckedOut(id, options) {
      return op(state, () => {
        const previous = state.enrollments.get(id);
        if (previous === undefined) return false;
        const record = { ...previous, enrolled: false, updatedAt: state.clock() };
        commit(state, record, options, () => endBinding(state, id, record.updatedAt));
        return true;
      });
    },
    findEnrollment(id) {
      return op(state, () => {
        const record = state.enrollments.get(id);
        return record === undefined ? undefined : cloneRecord(record);
      });
    },
    listEnrollments(options) {
      return op(state, () => {
        checkPage(options);
        const after =
          options.cursor === undefined ? undefined : decodeCursor(options.cursor, 'string');
        const ids = [...state.enrollments.keys()].sort();
        const items: EnrollmentRecord[] = [];
        for (const id of ids) {
          if (after !== undefined && id <= after) continue;
          const record = state.enrollments.get(id);
          if (record === undefined) continue;
          if (options.enrolled === undefined || record.enrolled === options.enrolled) {
            items.push(cloneRecord(record));
          }
          if (items.length > options.limit) break;
        }
        return pageOf(items, options.limit);
      });
    },
    touchLastSeen(ids, at) {
      return op(state, () => {
        for (const id of ids) {
          const record = state.enrollments.get(id);
          if (record !== undefined && at.getTime() > (record.lastSeenAt?.getTime() ?? 0)) {
            record.lastSeenAt = new Date(at.getTime());
          }
        }
        return;
      });
    },
    findUnlockToken(id) {
      return op(state, () => {
        const token = state.unlockTokens.get(id);
        return token === undefined ? undefined : copyBytes(token);
      });
    },
  };
}

function pageOf(
  items: EnrollmentRecord[],
  limit: number,
): { items: EnrollmentRecord[]; nextCursor?: string } {
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return last === undefined ? { items: page } : { items: page, nextCursor: encodeCursor(last.id) };
}

function cloneBinding(binding: CertBinding): CertBinding {
  const copy: CertBinding = { ...binding, boundAt: new Date(binding.boundAt) };
  for (const key of ['notAfter', 'endedAt', 'reenrollUntil'] as const) {
    const at = binding[key];
    if (at !== undefined) copy[key] = new Date(at);
  }
  if (binding.renewal !== undefined)
    copy.renewal = { ...binding.renewal, requestedAt: new Date(binding.renewal.requestedAt) };
  return copy;
}

/** The enrollment most recently bound to `certHash` (the index keeps binding order). */
function lastBoundTo(state: MemoryState, certHash: string): string | undefined {
  let last: string | undefined;
  for (const id of state.certIndex.get(certHash) ?? []) last = id;
  return last;
}

/** Ends the binding of `id` at `at` unless already ended; false when there is none. */
function endBinding(state: MemoryState, id: string, at: Date): boolean {
  const binding = state.certs.get(id);
  if (binding === undefined) return false;
  binding.endedAt ??= new Date(at);
  return true;
}

function clonePush(state: MemoryState, info: PushInfo): PushInfo {
  const copy = { ...info };
  if (info.invalidatedAt !== undefined) copy.invalidatedAt = new Date(info.invalidatedAt.getTime());
  // The oldest target never offered to the device (`PushInfo.queueHead`).
  for (const target of state.active.get(info.enrollmentId)?.values() ?? []) {
    if (target.status !== 'queued') continue;
    copy.queueHead = target.uuid;
    break;
  }
  return copy;
}

/** The push, certificate and bootstrap-token ports of the memory adapter. */
export function memoryDeviceSecrets(
  state: MemoryState,
): PushInfoStore & CertBindingStore & BootstrapTokenStore {
  return {
    findPushInfo(ids) {
      return op(state, () => {
        const out: PushInfo[] = [];
        for (const id of new Set(ids)) {
          const info = state.push.get(id);
          if (info !== undefined) out.push(clonePush(state, info));
        }
        return out;
      });
    },
    invalidatePushToken(enrollmentId, at) {
      return op(state, () => {
        const info = state.push.get(enrollmentId);
        if (info === undefined) return false;
        info.invalidatedAt = new Date(at.getTime());
        return true;
      });
    },
    bindCertificate(enrollmentId, certHash, details = {}) {
      return op(state, () => {
        checkId(enrollmentId, 'enrollment id');
        checkId(certHash, 'certHash');
        const previous = state.certs.get(enrollmentId);
        if (previous !== undefined) state.certIndex.get(previous.certHash)?.delete(enrollmentId);
        const binding: CertBinding = { enrollmentId, certHash, boundAt: state.clock() };
        if (details.serial !== undefined) binding.serial = details.serial;
        if (details.notAfter !== undefined) binding.notAfter = new Date(details.notAfter);
        state.certs.set(enrollmentId, binding);
        let ids = state.certIndex.get(certHash);
        if (ids === undefined) {
          ids = new Set();
          state.certIndex.set(certHash, ids);
        }
        ids.delete(enrollmentId);
        ids.add(enrollmentId);
        return;
      });
    },
    findCertificateBinding(enrollmentId) {
      return op(state, () => {
        const binding = state.certs.get(enrollmentId);
        return binding === undefined ? undefined : cloneBinding(binding);
      });
    },
    findEnrollmentByCertificate(certHash) {
      return op(state, () => lastBoundTo(state, certHash));
    },
    findBindingFacts(enrollmentId, certHash) {
      return op(state, () => {
        const binding = state.certs.get(enrollmentId);
        return {
          binding: binding === undefined ? undefined : cloneBinding(binding),
          boundTo: lastBoundTo(state, certHash),
        };
      });
    },
    endCertificateBinding(enrollmentId, at) {
      return op(state, () => endBinding(state, enrollmentId, at));
    },
    allowReenrollment(enrollmentId, until) {
      return op(state, () => {
        const binding = state.certs.get(enrollmentId);
        if (binding === undefined) return false;
        if (until === undefined) delete binding.reenrollUntil;
        else binding.reenrollUntil = new Date(until);
        return true;
      });
    },
    recordIdentityRenewal(enrollmentId, renewal) {
      return op(state, () => {
        const binding = state.certs.get(enrollmentId);
        if (binding === undefined) return false;
        if (renewal === undefined) delete binding.renewal;
        else binding.renewal = { ...renewal, requestedAt: new Date(renewal.requestedAt) };
        return true;
      });
    },
    listExpiringBindings(before, { limit, renewalRequestedBefore }) {
      return op(state, () => {
        checkPage({ limit });
        const due = (b: CertBinding): boolean =>
          renewalRequestedBefore === undefined ||
          b.renewal === undefined ||
          b.renewal.requestedAt < renewalRequestedBefore;
        return [...state.certs.values()]
          .filter((b) => b.endedAt === undefined && b.notAfter !== undefined && b.notAfter < before)
          .filter(due)
          .sort((a, b) => (a.notAfter?.getTime() ?? 0) - (b.notAfter?.getTime() ?? 0))
          .slice(0, limit)
          .map(cloneBinding);
      });
    },
    storeBootstrapToken(enrollmentId, sealed) {
      return op(state, () => {
        checkId(enrollmentId, 'enrollment id');
        if (sealed === undefined) state.bootstrap.delete(enrollmentId);
        else state.bootstrap.set(enrollmentId, copyBytes(sealed));
        return;
      });
    },
    findBootstrapToken(enrollmentId) {
      return op(state, () => {
        const sealed = state.bootstrap.get(enrollmentId);
        return sealed === undefined ? undefined : copyBytes(sealed);
      });
    },
  };
}

/** Memory adapter: the event outbox. */
import type { OutboxEntry, OutboxEvent, OutboxStore } from '../ports.js';
import { checkDate, checkId } from '../support.js';
import type { MemoryState } from './state.js';
import { op } from './state.js';

const DATE_KEYS = ['createdAt', 'nextAttemptAt', 'leaseUntil', 'deliveredAt', 'deadAt'] as const;

// Field by field rather than structuredClone, whose Dates fail `instanceof Date` in vm contexts.
function cloneEntry(entry: OutboxEntry): OutboxEntry {
  const copy = { ...entry };
  for (const key of DATE_KEYS) {
    const value = entry[key];
    if (value !== undefined) copy[key] = new Date(value.getTime());
  }
  return copy;
}

function isDue(entry: OutboxEntry, now: number): boolean {
  if (entry.deliveredAt !== undefined || entry.deadAt !== undefined) return false;
  if (entry.nextAttemptAt.getTime() > now) return false;
  return entry.leaseUntil === undefined || entry.leaseUntil.getTime() <= now;
}

function claimDue(state: MemoryState, limit: number, now: Date, leaseMs: number): OutboxEntry[] {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('limit must be a positive integer');
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new TypeError('leaseMs must be positive');
  checkDate(now, 'now');
  const due = [...state.outbox.values()]
    .filter((entry) => isDue(entry, now.getTime()))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    .slice(0, limit);
  for (const entry of due) {
    entry.attempts += 1;
    entry.leaseUntil = new Date(now.getTime() + leaseMs);
  }
  return due.map((entry) => cloneEntry(entry));
}

function settle(state: MemoryState, id: string, change: (entry: OutboxEntry) => void): void {
  const entry = state.outbox.get(id);
  if (entry === undefined) return;
  delete entry.leaseUntil;
  change(entry);
}

/**
 * The entry `event` becomes, checked but not stored: throws TypeError on a bad field or an id
 * already stored, so a caller can check before changing anything and then store it with no
 * failure left (see the check-in store's state changes).
 */
export function outboxEntryOf(state: MemoryState, event: OutboxEvent): OutboxEntry {
  checkId(event.id, 'event id');
  checkId(event.type, 'event type');
  checkDate(event.createdAt, 'createdAt');
  if (state.outbox.has(event.id)) throw new TypeError(`event ${event.id} is already stored`);
  const createdAt = new Date(event.createdAt.getTime());
  return {
    id: event.id,
    type: event.type,
    payload: event.payload,
    createdAt,
    attempts: 0,
    nextAttemptAt: createdAt,
  };
}

/** The {@link OutboxStore} of the memory adapter. */
export function memoryOutbox(state: MemoryState): OutboxStore {
  return {
    enqueueEvent: (event) =>
      op(state, () => {
        state.outbox.set(event.id, outboxEntryOf(state, event));
      }),
    claimDue: (limit, now, leaseMs) => op(state, () => claimDue(state, limit, now, leaseMs)),
    markDelivered: (id, at) =>
      op(state, () => {
        settle(state, id, (entry) => {
          entry.deliveredAt = new Date(at.getTime());
        });
      }),
    markFailed: (id, nextAttemptAt, error) =>
      op(state, () => {
        settle(state, id, (entry) => {
          entry.lastError = error;
          if (nextAttemptAt === undefined) entry.deadAt = state.clock();
          else entry.nextAttemptAt = new Date(nextAttemptAt.getTime());
        });
      }),
    findOutboxEntry: (id) =>
      op(state, () => {
        const entry = state.outbox.get(id);
        return entry === undefined ? undefined : cloneEntry(entry);
      }),
    purgeDelivered: (olderThan) =>
      op(state, () => {
        let count = 0;
        for (const entry of [...state.outbox.values()]) {
          if (
            entry.deliveredAt !== undefined &&
            entry.deliveredAt.getTime() < olderThan.getTime()
          ) {
            state.outbox.delete(entry.id);
            count += 1;
          }
        }
        return count;
      }),
  };
}

/** Memory adapter: the command queue. */
import type {
  CommandQueue,
  CommandRecord,
  CommandResultInput,
  CommandTarget,
  EnrollmentCommand,
  NewCommand,
  Page,
  PushOutcomeRecord,
  QueuedCommand,
  StoreResultOptions,
  TargetPushOutcome,
} from '../ports.js';
import {
  checkDate,
  checkNewCommand,
  checkPage,
  checkPushOutcomes,
  copyBytes,
  decodeCursor,
  encodeCursor,
  isFinished,
} from '../support.js';
import type { MemoryState, StoredCommand, TargetState } from './state.js';
import { outboxEntryOf } from './outbox.js';
import { mapFor, op } from './state.js';

function setStatus(state: MemoryState, target: TargetState, status: TargetState['status']): void {
  target.status = status;
  target.updatedAt = state.clock();
  if (isFinished(status)) state.active.get(target.enrollmentId)?.delete(target.uuid);
}

function viewTarget(target: TargetState): CommandTarget {
  const view: CommandTarget = {
    enrollmentId: target.enrollmentId,
    status: target.status,
    updatedAt: new Date(target.updatedAt.getTime()),
  };
  if (target.result !== undefined) view.result = copyBytes(target.result);
  if (target.lastPush !== undefined) view.lastPush = copyPush(target.lastPush);
  return view;
}

function copyPush(push: PushOutcomeRecord): PushOutcomeRecord {
  const copy: PushOutcomeRecord = { outcome: push.outcome, at: new Date(push.at.getTime()) };
  if (push.reason !== undefined) copy.reason = push.reason;
  if (push.apnsId !== undefined) copy.apnsId = push.apnsId;
  return copy;
}

function recordPushOutcomes(
  state: MemoryState,
  uuid: string,
  outcomes: readonly TargetPushOutcome[],
): number {
  checkPushOutcomes(uuid, outcomes);
  const command = state.commands.get(uuid);
  if (command === undefined) return 0;
  let count = 0;
  for (const outcome of outcomes) {
    const target = command.targets.get(outcome.enrollmentId);
    if (target === undefined) continue;
    target.lastPush = copyPush(outcome);
    count += 1;
  }
  return count;
}

function isExpired(command: StoredCommand, now: Date): boolean {
  return command.expiresAt !== undefined && command.expiresAt.getTime() <= now.getTime();
}

/** Queues `command` for every enrollment enrolled now, in id order; `[]` stores nothing. */
function enqueueEnrolled(state: MemoryState, command: NewCommand): string[] {
  checkNewCommand(command);
  if (state.commands.has(command.uuid)) {
    throw new TypeError(`command ${command.uuid} is already stored`);
  }
  const ids = [...state.enrollments.values()]
    .filter((e) => e.enrolled)
    .map((e) => e.id)
    .sort();
  if (ids.length > 0) enqueue(state, command, ids);
  return ids;
}

function enqueue(state: MemoryState, command: NewCommand, ids: readonly string[]): void {
  checkNewCommand(command, ids);
  if (state.commands.has(command.uuid)) {
    throw new TypeError(`command ${command.uuid} is already stored`);
  }
  const now = state.clock();
  const stored: StoredCommand = {
    uuid: command.uuid,
    requestType: command.requestType,
    body: copyBytes(command.body),
    createdAt: now,
    targets: new Map(),
  };
  if (command.expiresAt !== undefined) stored.expiresAt = new Date(command.expiresAt.getTime());
  state.commands.set(command.uuid, stored);
  for (const enrollmentId of new Set(ids)) {
    state.seq += 1;
    const target: TargetState = {
      enrollmentId,
      uuid: command.uuid,
      seq: state.seq,
      status: 'queued',
      updatedAt: now,
    };
    stored.targets.set(enrollmentId, target);
    mapFor(state.queues, enrollmentId).set(command.uuid, target);
    mapFor(state.active, enrollmentId).set(command.uuid, target);
  }
}

function nextCommand(
  state: MemoryState,
  enrollmentId: string,
  options: { skipNotNow: boolean; now: Date },
): QueuedCommand | undefined {
  checkDate(options.now, 'now');
  const active = state.active.get(enrollmentId);
  if (active === undefined) return undefined;
  for (const target of [...active.values()]) {
    const command = state.commands.get(target.uuid);
    if (command === undefined) continue;
    if (isExpired(command, options.now)) {
      setStatus(state, target, 'expired');
      continue;
    }
    if (options.skipNotNow && target.status === 'NotNow') continue;
    setStatus(state, target, 'sent');
    return { uuid: command.uuid, requestType: command.requestType, body: copyBytes(command.body) };
  }
  return undefined;
}

function listForEnrollment(
  state: MemoryState,
  enrollmentId: string,
  options: Parameters<CommandQueue['listForEnrollment']>[1],
): Page<EnrollmentCommand> {
  checkPage(options);
  const after = options.cursor === undefined ? 0 : decodeCursor(options.cursor, 'number');
  const items: EnrollmentCommand[] = [];
  let last = 0;
  for (const target of state.queues.get(enrollmentId)?.values() ?? []) {
    if (target.seq <= after) continue;
    if (options.status !== undefined && target.status !== options.status) continue;
    const command = state.commands.get(target.uuid);
    if (command === undefined) continue;
    if (items.length === options.limit) return { items, nextCursor: encodeCursor(last) };
    items.push({
      ...viewTarget(target),
      uuid: command.uuid,
      requestType: command.requestType,
      createdAt: new Date(command.createdAt.getTime()),
    });
    last = target.seq;
  }
  return { items };
}

function findCommand(state: MemoryState, uuid: string): CommandRecord | undefined {
  const command = state.commands.get(uuid);
  if (command === undefined) return undefined;
  const record: CommandRecord = {
    uuid: command.uuid,
    requestType: command.requestType,
    body: copyBytes(command.body),
    createdAt: new Date(command.createdAt.getTime()),
    targets: [...command.targets.values()].map(viewTarget),
  };
  if (command.expiresAt !== undefined) record.expiresAt = new Date(command.expiresAt.getTime());
  return record;
}

function purgeFinished(state: MemoryState, olderThan: Date): number {
  checkDate(olderThan, 'olderThan');
  let count = 0;
  for (const command of state.commands.values()) {
    for (const target of command.targets.values()) {
      if (!isFinished(target.status) || target.updatedAt.getTime() >= olderThan.getTime()) continue;
      command.targets.delete(target.enrollmentId);
      state.queues.get(target.enrollmentId)?.delete(command.uuid);
      count += 1;
    }
    if (command.targets.size === 0) state.commands.delete(command.uuid);
  }
  return count;
}

function expireCommands(state: MemoryState, now: Date): number {
  checkDate(now, 'now');
  let count = 0;
  for (const command of state.commands.values()) {
    if (!isExpired(command, now)) continue;
    for (const target of command.targets.values()) {
      if (isFinished(target.status)) continue;
      setStatus(state, target, 'expired');
      count += 1;
    }
  }
  return count;
}

function storeResult(
  state: MemoryState,
  enrollmentId: string,
  input: CommandResultInput,
  options: StoreResultOptions | undefined,
): boolean {
  const target = state.commands.get(input.uuid)?.targets.get(enrollmentId);
  if (target === undefined) return false;
  // Built and checked first: a bad or duplicate event throws before anything changes.
  const entry = options?.event === undefined ? undefined : outboxEntryOf(state, options.event);
  if (entry !== undefined) state.outbox.set(entry.id, entry);
  target.result = copyBytes(input.result);
  // A late NotNow must not revive a canceled or expired target.
  if (input.status === 'NotNow' && isFinished(target.status)) target.updatedAt = state.clock();
  else setStatus(state, target, input.status);
  return true;
}

/** The {@link CommandQueue} of the memory adapter. */
export function memoryCommands(state: MemoryState): CommandQueue {
  return {
    enqueueEnrolled: (command) => op(state, () => enqueueEnrolled(state, command)),
    enqueue: (command, ids) =>
      op(state, () => {
        enqueue(state, command, ids);
      }),
    nextCommand: (id, options) => op(state, () => nextCommand(state, id, options)),
    storeResult: (enrollmentId, input, options) =>
      op(state, () => storeResult(state, enrollmentId, input, options)),
    reportAndNext: (enrollmentId, input, options) =>
      op(state, () => {
        checkDate(options.now, 'now'); // before anything changes
        const stored = storeResult(state, enrollmentId, input, options);
        return { stored, next: nextCommand(state, enrollmentId, options) };
      }),
    cancel: (enrollmentId, uuid) =>
      op(state, () => {
        const target = state.active.get(enrollmentId)?.get(uuid);
        if (target === undefined) return false;
        setStatus(state, target, 'canceled');
        return true;
      }),
    clearQueue: (enrollmentId) =>
      op(state, () => {
        const active = [...(state.active.get(enrollmentId)?.values() ?? [])];
        for (const target of active) setStatus(state, target, 'canceled');
        return active.length;
      }),
    findCommand: (uuid) => op(state, () => findCommand(state, uuid)),
    listForEnrollment: (id, options) => op(state, () => listForEnrollment(state, id, options)),
    recordPushOutcomes: (uuid, outcomes) =>
      op(state, () => recordPushOutcomes(state, uuid, outcomes)),
    expireCommands: (now) => op(state, () => expireCommands(state, now)),
    purgeFinished: (olderThan) => op(state, () => purgeFinished(state, olderThan)),
  };
}

/**
 * Helpers shared by every storage adapter: argument checks, cursors and the retention sweep.
 * Internal to `src/storage/`; not exported from the package.
 */
import { StorageError } from '../errors.js';
import type {
  CommandStatus,
  MdmStorage,
  NewCommand,
  PageOptions,
  RetentionOptions,
  TargetPushOutcome,
} from './ports.js';
import { FINISHED_STATUSES } from './ports.js';

/** Largest page an adapter hands out. */
export const MAX_PAGE = 1000;

/** Throws TypeError unless `limit` is an integer in 1..{@link MAX_PAGE}. */
export function checkPage(options: PageOptions): void {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new TypeError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${String(limit)}`);
  }
}

/** Throws TypeError unless `id` is a non-empty string. */
export function checkId(id: unknown, what = 'id'): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new TypeError(`${what} must be a non-empty string`);
  }
}

/** Throws TypeError unless `at` is a valid Date. */
export function checkDate(at: unknown, what: string): asserts at is Date {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new TypeError(`${what} must be a valid Date`);
  }
}

/** Checks the arguments of `enqueue` (both adapters); throws `TypeError` on misuse. */
export function checkNewCommand(command: NewCommand, ids?: readonly string[]): void {
  checkId(command.uuid, 'command uuid');
  checkId(command.requestType, 'requestType');
  if (!(command.body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array');
  if (command.expiresAt !== undefined) checkDate(command.expiresAt, 'expiresAt');
  if (ids === undefined) return;
  if (ids.length === 0) throw new TypeError('enqueue needs at least one enrollment id');
  for (const id of ids) checkId(id, 'enrollment id');
}

const PUSH_OUTCOMES: readonly string[] = ['accepted', 'failed', 'deferred', 'no-token'];

/** Checks the arguments of `recordPushOutcomes` (both adapters); throws `TypeError` on misuse. */
export function checkPushOutcomes(uuid: string, outcomes: readonly TargetPushOutcome[]): void {
  checkId(uuid, 'command uuid');
  for (const o of outcomes) {
    checkId(o.enrollmentId, 'enrollment id');
    if (!PUSH_OUTCOMES.includes(o.outcome))
      throw new TypeError(`push outcome must be one of ${PUSH_OUTCOMES.join(', ')}`);
    checkDate(o.at, 'at');
  }
}

/** True when the status is final (the command is never offered again). */
export function isFinished(status: CommandStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/** A defensive copy, so callers never share a buffer with the store. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Encodes a cursor (opaque to callers). */
export function encodeCursor(value: string | number): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; a foreign or mistyped one throws TypeError. */
export function decodeCursor(cursor: string, kind: 'string'): string;
export function decodeCursor(cursor: string, kind: 'number'): number;
export function decodeCursor(cursor: string, kind: 'string' | 'number'): string | number {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new TypeError('invalid cursor');
  }
  if (typeof value === 'string' && kind === 'string') return value;
  if (typeof value === 'number' && kind === 'number') return value;
  throw new TypeError('invalid cursor');
}

/** Throws the StorageError a closed store answers with. */
export function closedError(): StorageError {
  return new StorageError('storage is closed');
}

/**
 * Starts the periodic retention sweep when any retention is configured; resolves to a stop
 * function. Failures are swallowed (the next sweep retries) because a sweep has no caller.
 */
export function startRetentionSweep(
  storage: Pick<MdmStorage, 'purgeFinished' | 'purgeDelivered' | 'expireCommands'>,
  retention: RetentionOptions | undefined,
  clock: () => Date,
): () => void {
  if (retention === undefined) return () => undefined;
  const { finishedCommandsMs, deliveredEventsMs, sweepIntervalMs = 600_000 } = retention;
  if (finishedCommandsMs === undefined && deliveredEventsMs === undefined) return () => undefined;
  const sweep = async (): Promise<void> => {
    const now = clock();
    await storage.expireCommands(now);
    if (finishedCommandsMs !== undefined) {
      await storage.purgeFinished(new Date(now.getTime() - finishedCommandsMs));
    }
    if (deliveredEventsMs !== undefined) {
      await storage.purgeDelivered(new Date(now.getTime() - deliveredEventsMs));
    }
  };
  const timer = setInterval(() => {
    sweep().catch(() => undefined);
  }, sweepIntervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}

/**
 * One connection of a simulated device: Idle, then answer each command the server sends until
 * it sends none (or answers other than 200), counting statuses, request types and latencies.
 */
import { isDict } from '../protocol/checkin.js';
import type { PlistDict } from '../protocol/plist.js';
import type { SimAnswer } from './commands.js';
import type { SimExchange } from './transport.js';
import type { SimSessionResult } from './types.js';

/** What a session needs: a way to send a report and a way to answer a command. */
export interface SimSessionDeps {
  send(message: PlistDict): Promise<SimExchange>;
  answer(command: PlistDict): Promise<SimAnswer>;
  /** Upper bound of round trips in one session (default 10,000), against a server that loops. */
  maxRoundTrips?: number;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A report to send next, with the work to run once it has been answered. */
interface Pending {
  message: PlistDict;
  after?: () => Promise<void>;
}

/**
 * The message of `error`, with its cause's code and message when it has one: fetch rejects with
 * a bare `fetch failed` whose cause (`ECONNRESET`, `UND_ERR_SOCKET`, ...) says what went wrong.
 */
export function describeError(error: unknown): string {
  // Duck-typed: errors from another realm (node's fetch under a test VM) fail `instanceof Error`.
  const { message, cause } = (error ?? {}) as { message?: unknown; cause?: unknown };
  if (typeof message !== 'string') return String(error);
  const { message: why, code } = (cause ?? {}) as { message?: unknown; code?: unknown };
  if (typeof why !== 'string') return message;
  return `${message} (${typeof code === 'string' ? `${code}: ` : ''}${why})`;
}

/** Runs one session; never throws for protocol errors, which land in `errors`. */
export async function runSession(deps: SimSessionDeps): Promise<SimSessionResult> {
  const result: SimSessionResult = { commands: {}, requestTypes: {}, latenciesMs: [], errors: [] };
  let pending: Pending | undefined = { message: { Status: 'Idle' } };
  for (let trip = 0; pending !== undefined; trip += 1) {
    if (trip >= (deps.maxRoundTrips ?? 10_000)) {
      result.errors.push('too many round trips in one session');
      break;
    }
    let res: SimExchange;
    try {
      res = await deps.send(pending.message);
      // Work after a report (identity renewal) starts once the server has the report.
      await pending.after?.();
    } catch (error) {
      result.errors.push(`request failed: ${describeError(error)}`);
      break;
    }
    result.latenciesMs.push(res.latencyMs);
    if (res.retried === true) result.retries = (result.retries ?? 0) + 1;
    if (res.status !== 200) {
      result.errors.push(
        `server answered ${res.status} to a ${pending.message.CommandUUID === undefined ? 'poll' : 'report'}`,
      );
      break;
    }
    if (res.undecodable === true) {
      result.errors.push('server answered an undecodable body');
      break;
    }
    pending = await nextReport(res.body, deps, result);
  }
  return result;
}

async function nextReport(
  body: PlistDict | undefined,
  deps: SimSessionDeps,
  result: SimSessionResult,
): Promise<Pending | undefined> {
  if (body === undefined) return undefined;
  const command = body.Command;
  const uuid = body.CommandUUID;
  if (typeof uuid !== 'string' || !isDict(command)) {
    result.errors.push('server sent a command without CommandUUID or Command');
    return undefined;
  }
  bump(result.requestTypes, typeof command.RequestType === 'string' ? command.RequestType : '?');
  const answer = await deps.answer(command);
  bump(result.commands, answer.status);
  const message: PlistDict = { ...(answer.fields ?? {}), CommandUUID: uuid, Status: answer.status };
  return answer.after === undefined ? { message } : { message, after: answer.after };
}

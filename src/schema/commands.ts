/**
 * MDM commands and check-in messages against Apple's schema: validation of the
 * `Command` dictionary we send, lenient validation of what devices send, and a typed
 * command builder. Facts come from `generated/command-facts.ts` and `generated/checkin-facts.ts`.
 */
import type { ValidationIssue } from '../errors.js';
import { ValidationError } from '../errors.js';
import type { PlistDict } from '../protocol/plist.js';
import type { EntryFacts, OsTable, SchemaArea } from './facts.js';
import { checkinFacts } from './generated/checkin-facts.js';
import { commandFacts } from './generated/command-facts.js';
import type { CheckinMessages } from './generated/checkin-types.js';
import type { CommandRequests, CommandResponses } from './generated/command-types.js';
import { judgeLifecycleAnywhere, judgeMissingAnywhere, judgeUsages } from './judge.js';
import type { Target } from './target.js';
import { SchemaWalker } from './walk.js';

export type * from './generated/command-types.js';
export type { CheckinMessages, CheckinResponses } from './generated/checkin-types.js';

/** Every `RequestType` in the schema. */
export type RequestType = keyof CommandRequests;
/** The keys of a command other than `RequestType`. */
export type CommandKeys<R extends RequestType> = Omit<CommandRequests[R], 'RequestType'>;
/** A check-in `MessageType`. */
export type MessageType = keyof CheckinMessages;

/** Facts of a command by `RequestType`; undefined when the schema has no such command. */
export function findCommandFacts(requestType: string): EntryFacts | undefined {
  return Object.hasOwn(commandFacts.entries, requestType)
    ? commandFacts.entries[requestType]
    : undefined;
}

/** Facts of a check-in message by `MessageType`; undefined when unknown. */
export function findCheckinFacts(messageType: string): EntryFacts | undefined {
  return Object.hasOwn(checkinFacts.entries, messageType)
    ? checkinFacts.entries[messageType]
    : undefined;
}

function tableOf(area: SchemaArea, entry: EntryFacts): OsTable | undefined {
  return entry.os === undefined ? undefined : area.osTables[entry.os];
}

function walkEntry(
  area: SchemaArea,
  name: string,
  entry: EntryFacts,
  dict: PlistDict,
  keys: readonly number[],
  target: Target | undefined,
  lenient: boolean,
): ValidationIssue[] {
  const walker = new SchemaWalker(area, { lenient });
  const table = tableOf(area, entry);
  walker.use('', name, table);
  walker.dict(dict, keys, '', table);
  if (!target) {
    // Deprecations concern what we send; a device's own keys are its business.
    const lifecycle = lenient ? [] : judgeLifecycleAnywhere(walker.usages);
    return [...walker.issues, ...judgeMissingAnywhere(walker.usages), ...lifecycle];
  }
  // What a device sends is judged leniently: only a missing required key stays an error.
  const judged = judgeUsages(walker.usages, target).map((i) =>
    lenient && i.code !== 'missing-key' ? { ...i, severity: 'warning' as const } : i,
  );
  return [...walker.issues, ...judged];
}

/**
 * Checks a `Command` dictionary (`{ RequestType, ...keys }`) against the schema: unknown
 * keys, types, required keys, rangelists, ranges, formats, nested structures and, with a
 * `target`, availability on that device. Paths are relative to the `Command` dictionary.
 * Returns every issue (empty when valid); never throws on bad input.
 */
export function validateCommand(command: PlistDict, target?: Target): ValidationIssue[] {
  const { RequestType: requestType, ...keys } = command;
  if (requestType === undefined) {
    return [
      {
        path: 'RequestType',
        code: 'missing-key',
        message: 'required key RequestType is missing',
        severity: 'error',
      },
    ];
  }
  if (typeof requestType !== 'string') {
    return [
      {
        path: 'RequestType',
        code: 'wrong-type',
        message: 'RequestType must be a string',
        severity: 'error',
      },
    ];
  }
  const entry = findCommandFacts(requestType);
  if (!entry) {
    const message = `${requestType} is not a RequestType in Apple's schema`;
    return [{ path: 'RequestType', code: 'unknown-request-type', message, severity: 'error' }];
  }
  return walkEntry(commandFacts, requestType, entry, keys, entry.keys, target, false);
}

/**
 * Checks a device's reply to a `requestType` command against the command's response keys.
 * Lenient, as for everything a device sends: unknown keys (including the common reply keys
 * `Status`, `UDID`, `ErrorChain`...) are not reported; wrong types are. Unknown commands give `unknown-request-type`.
 */
export function validateCommandResponse(
  requestType: string,
  response: PlistDict,
): ValidationIssue[] {
  const entry = findCommandFacts(requestType);
  if (!entry) {
    return [
      {
        path: '',
        code: 'unknown-request-type',
        message: `${requestType} is not a RequestType in Apple's schema`,
        severity: 'error',
      },
    ];
  }
  const issues = walkEntry(
    commandFacts,
    requestType,
    entry,
    response,
    entry.responseKeys ?? [],
    undefined,
    true,
  );
  return issues.filter(
    (i) => !(i.code === 'unknown-key' && !i.path.includes('.') && !i.path.includes('[')),
  );
}

/**
 * Checks a check-in message (`{ MessageType, ... }`) leniently: unknown keys are warnings,
 * because devices add identity keys the schema does not list. Unknown or missing
 * `MessageType` gives an `unknown-message-type` or `missing-key` error.
 */
export function validateCheckin(message: PlistDict, target?: Target): ValidationIssue[] {
  const messageType = message.MessageType;
  if (typeof messageType !== 'string') {
    return [
      {
        path: 'MessageType',
        code: 'missing-key',
        message: 'MessageType is missing or not a string',
        severity: 'error',
      },
    ];
  }
  const entry = findCheckinFacts(messageType);
  if (!entry) {
    return [
      {
        path: 'MessageType',
        code: 'unknown-message-type',
        message: `${messageType} is not a check-in message in Apple's schema`,
        severity: 'error',
      },
    ];
  }
  return walkEntry(checkinFacts, messageType, entry, message, entry.keys, target, true);
}

/**
 * Builds the `Command` dictionary of a `requestType` command from typed keys and checks it
 * against the schema. Throws `ValidationError` (code `ERR_VALIDATION`, `issues` listing every
 * problem) when it is invalid, and `TypeError` for an unknown request type.
 */
export function buildCommand<R extends RequestType>(
  requestType: R,
  keys: CommandKeys<R>,
): CommandRequests[R] {
  if (!findCommandFacts(requestType)) throw new TypeError(`unknown RequestType ${requestType}`);
  const command: PlistDict = { RequestType: requestType, ...(keys as PlistDict) };
  command.RequestType = requestType;
  const issues = validateCommand(command).filter((i) => i.severity === 'error');
  if (issues.length > 0) throw new ValidationError(`invalid ${requestType} command`, issues);
  return command as unknown as CommandRequests[R];
}

/** Response keys type of a command, e.g. `CommandResponses['DeviceInformation']`. */
export type CommandResponse<R extends keyof CommandResponses> = CommandResponses[R];

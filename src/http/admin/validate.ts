/**
 * Request validation of the admin API: bodies read as JSON (or, where a route allows it, a
 * property list), zod issues turned into today's refusals, and the checks zod cannot express.
 * Every refusal is AdminError `ERR_BAD_REQUEST` (400) whose `field` names the part at fault
 * (`body` for the body as a whole); a malformed body is `ERR_BAD_JSON`, another media type 415.
 */
import type { z } from '@hono/zod-openapi';
import { AdminError, PlistJsonError } from '../../errors.js';
import { PlistReal, decodePlist, fromTypedJson, type PlistValue } from '../../protocol/plist.js';

/** AdminError `ERR_BAD_REQUEST` naming `field`. */
export function badField(field: string, message: string, cause?: unknown): AdminError {
  return new AdminError('ERR_BAD_REQUEST', message, {
    field,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The field of the first string (value or key) in `value` holding U+0000, or `undefined`. JSON
 * and forms can carry it, PostgreSQL cannot store it: input holding one is refused up front.
 */
export function nulField(value: unknown, path = ''): string | undefined {
  // Iterative (a deeply nested body must not exhaust the stack), depth first in document order.
  const stack: { value: unknown; path: string }[] = [{ value, path }];
  while (stack.length > 0) {
    const next = stack.pop() as { value: unknown; path: string };
    const here = next.path === '' ? 'body' : next.path;
    if (typeof next.value === 'string') {
      if (next.value.includes('\u0000')) return here;
    } else if (Array.isArray(next.value)) {
      for (let i = next.value.length - 1; i >= 0; i--)
        stack.push({ value: next.value[i], path: `${next.path}[]` });
    } else if (isJsonObject(next.value)) {
      const entries = Object.entries(next.value);
      if (entries.some(([key]) => key.includes('\u0000'))) return here;
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i] as [string, unknown];
        stack.push({ value: item, path: within(next.path, key) });
      }
    }
  }
  return undefined;
}

/** Throws AdminError `ERR_BAD_REQUEST` naming the field when `value` holds U+0000 anywhere. */
export function refuseNul(value: unknown, path = ''): void {
  const field = nulField(value, path);
  if (field !== undefined)
    throw badField(field, `${field} holds a NUL character (U+0000), which Orchard does not accept`);
}

/**
 * Whether `value` is a plain object: a JSON object or a plist dictionary (not `null`, an array,
 * or a plist's data, date or real).
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Which part of the request a schema validated. */
export type RequestPart = 'query' | 'param' | 'json';

/** Joins a field prefix and a path inside it: `command` + `Payload` is `command.Payload`. */
function within(prefix: string, path: string): string {
  if (prefix === '') return path;
  return path === '' || path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/** A zod issue path as a field name: `command.Payload`, `enrollmentIds[]` for an array item. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out = typeof key === 'number' ? `${out}[]` : within(out, String(key));
  return out;
}

/**
 * The refusal for the zod issues of one request part: an unknown query parameter or body field
 * first (naming it), then the first issue, with the message the schema gave it.
 */
export function refusalOf(part: RequestPart, issues: readonly z.core.$ZodIssue[]): AdminError {
  const strange = issues.find((i) => i.code === 'unrecognized_keys');
  if (strange?.code === 'unrecognized_keys' && strange.path.length === 0) {
    const first = strange.keys[0] ?? part;
    return part === 'query'
      ? badField(first, `unknown query parameter ${first}`)
      : badField(first, `unknown field(s): ${strange.keys.join(', ')}`);
  }
  const issue = issues[0];
  if (issue === undefined) return badField(part === 'json' ? 'body' : part, 'invalid request');
  if (issue.path.length === 0 && part === 'json')
    return badField(
      'body',
      issue.code === 'invalid_type' ? 'the body must be a JSON object' : issue.message,
    );
  // A command without a RequestType string is refused as a whole, naming the command.
  if (part === 'json' && issue.path.at(-1) === 'RequestType') {
    const field = fieldName(issue.path.slice(0, -1)) || 'body';
    return badField(field, `${field} must be a dictionary with a RequestType string`);
  }
  return badField(fieldName(issue.path), issue.message);
}

/**
 * Validates `value` against `schema`: the parsed value, or AdminError `ERR_BAD_REQUEST` naming
 * the field at fault (see {@link refusalOf}).
 */
export function validatePart<T>(part: RequestPart, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw refusalOf(part, result.error.issues);
  return result.data;
}

/** Media type of a property-list body (XML or binary, told apart by the `bplist` magic). */
export const PLIST_MEDIA_TYPE = 'application/x-apple-plist';

/**
 * Deepest nesting of a command body, root included: the stored `{CommandUUID, Command}` envelope
 * adds one level and must still decode within `decodePlist`'s default depth of 64 plus one.
 */
export const COMMAND_BODY_DEPTH = 64;

const mediaOf = (contentType: string | undefined): string | undefined =>
  contentType?.split(';')[0]?.trim().toLowerCase();

/** Parses a JSON request body: `undefined` when empty, 415 unless `application/json`, 400 when malformed. */
export function parseJsonBody(contentType: string | undefined, body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  if (mediaOf(contentType) !== 'application/json')
    throw new AdminError('ERR_UNSUPPORTED_MEDIA', 'the body must be application/json');
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  } catch (cause) {
    throw new AdminError('ERR_BAD_JSON', 'the body is not valid JSON', { cause });
  }
}

/**
 * Reads a body that may be CSV (`text/csv`, UTF-8) or JSON: CSV becomes `{ csv: text }`, so one
 * JSON schema (`{ csv: string, ... }`) validates both. `undefined` when empty; 415 for another
 * type; `ERR_BAD_REQUEST` naming `body` when the CSV is not UTF-8.
 */
export function parseCsvOrJsonBody(contentType: string | undefined, body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  const type = mediaOf(contentType);
  if (type === 'application/json') return parseJsonBody(contentType, body);
  if (type !== 'text/csv')
    throw new AdminError('ERR_UNSUPPORTED_MEDIA', 'the body must be text/csv or application/json');
  try {
    return { csv: new TextDecoder('utf-8', { fatal: true }).decode(body) };
  } catch (cause) {
    throw new AdminError('ERR_BAD_REQUEST', 'the CSV body is not UTF-8', { cause, field: 'body' });
  }
}

/**
 * Reads a body that may be a property list (`application/x-apple-plist`) or JSON in the typed
 * encoding (docs/plist.md), into plist values either way; `undefined` when empty. Throws
 * `ERR_UNSUPPORTED_MEDIA` (415) for another type, `ERR_BAD_JSON` or a `PlistError` (400) when
 * malformed, and `ERR_BAD_REQUEST` naming the path of a value the typed encoding refuses.
 */
export function parsePlistOrJsonBody(contentType: string | undefined, body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  const type = mediaOf(contentType);
  if (type === PLIST_MEDIA_TYPE)
    return decodePlist(body, { maxBytes: body.length, maxDepth: COMMAND_BODY_DEPTH });
  if (type !== 'application/json')
    throw new AdminError(
      'ERR_UNSUPPORTED_MEDIA',
      `the body must be application/json or ${PLIST_MEDIA_TYPE}`,
    );
  const parsed = parseJsonBody(contentType, body);
  try {
    return fromTypedJson(parsed, { maxDepth: COMMAND_BODY_DEPTH });
  } catch (error) {
    if (error instanceof PlistJsonError)
      throw badField(error.path === '' ? 'body' : error.path, error.message, error);
    throw error;
  }
}

/**
 * Runs a list call for a page that may carry a client's cursor. Storage ports refuse a foreign or
 * mistyped cursor with TypeError (their contract for a caller's mistake); here the caller is a
 * client, so that becomes `ERR_BAD_REQUEST` naming `cursor`. Other errors pass through.
 */
export async function listWithCursor<T>(
  page: { cursor?: string },
  list: () => Promise<T> | T,
): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (page.cursor !== undefined && error instanceof TypeError)
      throw badField('cursor', 'cursor is not one this list returned', error);
    throw error;
  }
}

/** The path of the first `Date` with a fraction of a second inside `value`, if any. */
function subsecondDate(value: PlistValue, path: string): string | undefined {
  if (value instanceof Date) return value.getTime() % 1000 === 0 ? undefined : path;
  if (value instanceof Uint8Array || value instanceof PlistReal) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = subsecondDate(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = subsecondDate(item, within(path, key));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * A command dictionary (plist values, from JSON or a plist body) with a `RequestType` string.
 * `field` names where it was: `body`, or `command` inside a batch. Throws `ERR_BAD_REQUEST`
 * naming `field`, or the path of a date with a fraction of a second (commands travel as XML,
 * whose dates carry whole seconds, so it would not arrive as sent).
 */
export function commandField(value: unknown, field: string): Record<string, PlistValue> {
  if (!isJsonObject(value) || typeof value.RequestType !== 'string')
    throw badField(field, `${field} must be a dictionary with a RequestType string`);
  const command = value as Record<string, PlistValue>;
  const at = subsecondDate(command, field === 'body' ? '' : field);
  if (at !== undefined)
    throw badField(at, 'dates in a command carry whole seconds (XML plist dates have no fraction)');
  return command;
}

/** How results are rendered: `typed` (default, exact) or `readable` (the lossy form of old). */
export type ResultEncoding = 'typed' | 'readable';

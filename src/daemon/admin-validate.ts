/**
 * Request validation of the admin API: bodies are objects with known keys of the right types,
 * path parameters follow a strict grammar, and paging parameters are in range. Every refusal is
 * AdminError `ERR_BAD_REQUEST` (400) whose `field` names the part at fault (`body` for the body
 * as a whole).
 */
import {
  PlistJsonError,
  PlistReal,
  decodePlist,
  fromTypedJson,
  type PlistValue,
} from '../index.js';
import { AdminError } from './errors.js';
import { parseJsonBody } from './http-util.js';

/** AdminError `ERR_BAD_REQUEST` naming `field`. */
export function badField(field: string, message: string, cause?: unknown): AdminError {
  return new AdminError('ERR_BAD_REQUEST', message, {
    field,
    ...(cause === undefined ? {} : { cause }),
  });
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

/** The body as an object with only `allowed` keys; `undefined` body is `{}` when `optional`. */
export function objectBody(
  body: unknown,
  allowed: readonly string[],
  optional = false,
): Record<string, unknown> {
  if (body === undefined && optional) return {};
  if (!isJsonObject(body)) throw badField('body', 'the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw badField(unknown[0] ?? 'body', `unknown field(s): ${unknown.join(', ')}`);
  return body;
}

/** A string field of at most `max` characters; `undefined` when absent and not `required`. */
export function stringField(
  obj: Record<string, unknown>,
  key: string,
  options: { required?: boolean; max?: number; pattern?: RegExp } = {},
): string | undefined {
  const value = obj[key];
  if (value === undefined) {
    if (options.required === true) throw badField(key, `${key} is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0)
    throw badField(key, `${key} must be a non-empty string`);
  if (value.length > (options.max ?? 256)) throw badField(key, `${key} is too long`);
  if (options.pattern && !options.pattern.test(value))
    throw badField(key, `${key} has an invalid format`);
  return value;
}

/** A boolean field, or `fallback` when absent. */
export function boolField(obj: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw badField(key, `${key} must be a boolean`);
  return value;
}

/** An integer field in `[min, max]`, or `undefined` when absent. */
export function intField(
  obj: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw badField(key, `${key} must be an integer from ${min} to ${max}`);
  return value;
}

/** Grammar of ids in paths: enrollment ids (`UDID:UserID`), command UUIDs, key and token ids. */
export const ID_PATTERN = /^[A-Za-z0-9._@:-]{1,256}$/;

/** Checks a decoded path parameter against {@link ID_PATTERN}. */
export function idParam(name: string, value: string | undefined): string {
  if (value === undefined || !ID_PATTERN.test(value) || value === '.' || value === '..')
    throw badField(name, `${name} has an invalid format`);
  return value;
}

/** Paging query parameters: `limit` 1..1000 (default 100) and an opaque `cursor`. */
export function pageQuery(query: URLSearchParams): { limit: number; cursor?: string } {
  const raw = query.get('limit');
  const limit = raw === null ? 100 : Number(raw);
  if (!/^\d{1,4}$/.test(raw ?? '100') || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw badField('limit', 'limit must be an integer from 1 to 1000');
  const cursor = query.get('cursor');
  if (cursor === null) return { limit };
  if (cursor.length === 0 || cursor.length > 512) throw badField('cursor', 'cursor is invalid');
  return { limit, cursor };
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

/** Only the listed query parameters may appear. */
export function knownQuery(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of query.keys())
    if (!allowed.includes(key)) throw badField(key, `unknown query parameter ${key}`);
}

/** Media type of a property-list body (XML or binary, told apart by the `bplist` magic). */
export const PLIST_MEDIA_TYPE = 'application/x-apple-plist';

/**
 * Deepest nesting of a command body, root included: the stored `{CommandUUID, Command}` envelope
 * adds one level and must still decode within `decodePlist`'s default depth of 64 plus one.
 */
export const COMMAND_BODY_DEPTH = 64;

/**
 * Reads a body that may be a property list (`application/x-apple-plist`) or JSON in the typed
 * encoding (docs/plist.md), into plist values either way; `undefined` when empty. Throws
 * `ERR_UNSUPPORTED_MEDIA` (415) for another type, `ERR_BAD_JSON` or a `PlistError` (400) when
 * malformed, and `ERR_BAD_REQUEST` naming the path of a value the typed encoding refuses.
 */
export function parsePlistOrJsonBody(contentType: string | undefined, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
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

/** Joins a field prefix and a path inside it: `command` + `Payload` is `command.Payload`. */
function within(prefix: string, path: string): string {
  if (prefix === '') return path;
  return path === '' || path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
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

/** The `encoding` query parameter: `typed` (default) or `readable`. */
export function encodingQuery(query: URLSearchParams): ResultEncoding {
  const value = query.get('encoding');
  if (value === null || value === 'typed') return 'typed';
  if (value === 'readable') return 'readable';
  throw badField('encoding', 'encoding must be typed or readable');
}

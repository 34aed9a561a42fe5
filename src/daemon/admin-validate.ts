/**
 * Request validation of the admin API: bodies are objects with known keys of the right types,
 * path parameters follow a strict grammar, and paging parameters are in range. Every refusal is
 * AdminError `ERR_BAD_REQUEST` (400) whose `field` names the part at fault (`body` for the body
 * as a whole).
 */
import { AdminError } from './errors.js';

/** AdminError `ERR_BAD_REQUEST` naming `field`. */
export function badField(field: string, message: string, cause?: unknown): AdminError {
  return new AdminError('ERR_BAD_REQUEST', message, {
    field,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Whether `value` is a plain JSON object (not `null`, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

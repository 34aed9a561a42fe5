/**
 * Request validation of the admin API: bodies are objects with known keys of the right types,
 * path parameters follow a strict grammar, and paging parameters are in range. Every refusal is
 * AdminError `ERR_BAD_REQUEST` (400) naming the field.
 */
import { AdminError } from './errors.js';

const bad = (message: string): AdminError => new AdminError('ERR_BAD_REQUEST', message);

/** The body as an object with only `allowed` keys; `undefined` body is `{}` when `optional`. */
export function objectBody(
  body: unknown,
  allowed: readonly string[],
  optional = false,
): Record<string, unknown> {
  if (body === undefined && optional) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw bad(`unknown field(s): ${unknown.join(', ')}`);
  return body as Record<string, unknown>;
}

/** A string field of at most `max` characters; `undefined` when absent and not `required`. */
export function stringField(
  obj: Record<string, unknown>,
  key: string,
  options: { required?: boolean; max?: number; pattern?: RegExp } = {},
): string | undefined {
  const value = obj[key];
  if (value === undefined) {
    if (options.required === true) throw bad(`${key} is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0)
    throw bad(`${key} must be a non-empty string`);
  if (value.length > (options.max ?? 256)) throw bad(`${key} is too long`);
  if (options.pattern && !options.pattern.test(value)) throw bad(`${key} has an invalid format`);
  return value;
}

/** A boolean field, or `fallback` when absent. */
export function boolField(obj: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw bad(`${key} must be a boolean`);
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
    throw bad(`${key} must be an integer from ${min} to ${max}`);
  return value;
}

/** Grammar of ids in paths: enrollment ids (`UDID:UserID`), command UUIDs, key and token ids. */
export const ID_PATTERN = /^[A-Za-z0-9._@:-]{1,256}$/;

/** Checks a decoded path parameter against {@link ID_PATTERN}. */
export function idParam(name: string, value: string | undefined): string {
  if (value === undefined || !ID_PATTERN.test(value) || value === '.' || value === '..')
    throw bad(`${name} has an invalid format`);
  return value;
}

/** Paging query parameters: `limit` 1..1000 (default 100) and an opaque `cursor`. */
export function pageQuery(query: URLSearchParams): { limit: number; cursor?: string } {
  const raw = query.get('limit');
  const limit = raw === null ? 100 : Number(raw);
  if (!/^\d{1,4}$/.test(raw ?? '100') || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw bad('limit must be an integer from 1 to 1000');
  const cursor = query.get('cursor');
  if (cursor === null) return { limit };
  if (cursor.length === 0 || cursor.length > 512) throw bad('cursor is invalid');
  return { limit, cursor };
}

/** Only the listed query parameters may appear. */
export function knownQuery(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of query.keys())
    if (!allowed.includes(key)) throw bad(`unknown query parameter ${key}`);
}

/**
 * The zod schemas of the admin API: path parameters, paging and other query parameters, and the
 * JSON views every route answers. Routes declare them once; the router validates requests with
 * them and the OpenAPI document is generated from them.
 */
import { z } from '@hono/zod-openapi';

/** Grammar of ids in paths: enrollment ids (`UDID:UserID`), command UUIDs, key and token ids. */
export const ID_PATTERN = /^[A-Za-z0-9._@:-]{1,256}$/;

/** An id path or query parameter named `name` ({@link ID_PATTERN}, never `.` or `..`). */
export function idSchema(name: string) {
  const error = `${name} has an invalid format`;
  return z
    .string()
    .regex(/^(?!\.\.?$)[A-Za-z0-9._@:-]{1,256}$/, { error })
    .openapi({ description: 'an id: letters, digits and . _ @ : -' });
}

/** Path parameters `{id}`. */
export const IdParams = z.object({
  id: idSchema('id').openapi({ param: { name: 'id', in: 'path' } }),
});

/** Path parameters `{uuid}`. */
export const UuidParams = z.object({
  uuid: idSchema('uuid').openapi({ param: { name: 'uuid', in: 'path' } }),
});

/** Path parameters `{id}` and `{uuid}`. */
export const IdUuidParams = IdParams.extend(UuidParams.shape);

/** Hex serials as written by `openssl x509 -serial` or with colons; at most 20 octets (RFC 5280). */
export const SERIAL_PATTERN = /^(?:[0-9A-Fa-f]{1,40}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){0,19})$/;

/** Path parameters `{serial}`. */
export const SerialParams = z.object({
  serial: z
    .string()
    .regex(SERIAL_PATTERN, { error: 'serial must be a hexadecimal serial number' })
    .openapi({ param: { name: 'serial', in: 'path' }, description: 'hexadecimal serial' }),
});

/** `limit`: an integer from 1 to 1000 (default 100), as a query string. */
const limit = z
  .string()
  .regex(/^(?=\d{1,4}$)0*(?:1000|[1-9]\d{0,2})$/, {
    error: 'limit must be an integer from 1 to 1000',
  })
  .optional()
  .openapi({ description: 'page size, 1 to 1000 (default 100)', example: '100' });

/** `cursor`: the opaque `nextCursor` of the previous page. */
const cursor = z
  .string()
  .min(1, { error: 'cursor is invalid' })
  .max(512, { error: 'cursor is invalid' })
  .optional()
  .openapi({ description: 'the nextCursor of the previous page' });

/** Paging query parameters only; any other parameter is refused. */
export const PageQuery = z.strictObject({ limit, cursor });

/** The `encoding` query parameter of routes that render plists. */
export const encodingParam = z
  .enum(['typed', 'readable'], { error: 'encoding must be typed or readable' })
  .optional()
  .openapi({
    description:
      'results and command bodies as typed JSON (default: exact, $data/$date/$real/$integer/$dict forms) or readable (data as base64 strings, dates as ISO strings; lossy)',
  });

/** An optional instant: ISO 8601, or `null` when absent. */
export const Instant = z.string().nullable().openapi({ format: 'date-time' });

/** The JSON error every refusal answers. */
export const ErrorBody = z
  .object({
    code: z.string().openapi({ description: 'stable machine-readable code, e.g. ERR_NOT_FOUND' }),
    message: z.string(),
    field: z.string().optional().openapi({
      description: 'on ERR_BAD_REQUEST: the query parameter, path parameter or body field at fault',
    }),
    group: z.string().optional().openapi({
      description:
        'on management refusals: the organization group that blocks the change (e.g. the Inherit-Only ancestor)',
    }),
    issues: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .openapi('Error');

const VALUE_REF = { $ref: '#/components/schemas/PlistValue' };
const form = (name: string, schema: Record<string, unknown>) => ({
  type: 'object',
  required: [name],
  properties: { [name]: schema },
  additionalProperties: false,
});

/**
 * A property-list value in the typed JSON encoding of docs/plist.md. Validation is the typed
 * decoder's (`fromTypedJson`), which refuses what this documents as invalid.
 */
export const PlistValue = z.unknown().openapi('PlistValue', {
  description:
    'A property-list value as typed JSON: strings, booleans and arrays as themselves; a whole number is an <integer> (within ±2^53), any other number a <real>; an object without "$" keys is a <dict>; one-key objects carry the rest. An object with a "$" key that is not exactly one of these forms is refused (400).',
  oneOf: [
    { type: 'string' },
    { type: 'boolean' },
    { type: 'number' },
    { type: 'array', items: VALUE_REF },
    form('$data', { type: 'string', contentEncoding: 'base64', description: '<data>' }),
    form('$date', { type: 'string', format: 'date-time', description: '<date>' }),
    form('$real', {
      description: '<real>, also when whole; nan, +infinity, -infinity, -0 as strings',
      oneOf: [{ type: 'number' }, { type: 'string' }],
    }),
    form('$integer', {
      type: 'string',
      pattern: '^-?[0-9]{1,20}$',
      description: '<integer> beyond 2^53, within the signed/unsigned 64-bit range',
    }),
    form('$dict', {
      type: 'object',
      additionalProperties: VALUE_REF,
      description: 'a <dict> whose keys are literal, so they may start with "$"',
    }),
    {
      type: 'object',
      propertyNames: { not: { pattern: '^\\$' } },
      additionalProperties: VALUE_REF,
    },
  ],
} as never);

/** A list page: the items and the cursor of the next page (`null` on the last). */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

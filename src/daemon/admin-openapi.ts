/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table so it cannot drift
 * from what the router serves: paths, parameters, security per route, and the error shape.
 */
import type { AdminRoute } from './admin-routes.js';
import { PLIST_MEDIA_TYPE } from './admin-validate.js';

const ERROR = {
  type: 'object',
  required: ['code'],
  properties: {
    code: { type: 'string', description: 'stable machine-readable code, e.g. ERR_NOT_FOUND' },
    message: { type: 'string' },
    field: {
      type: 'string',
      description: 'on ERR_BAD_REQUEST: the query parameter, path parameter or body field at fault',
    },
    issues: { type: 'array', items: { type: 'object' } },
  },
};

const VALUE_REF = { $ref: '#/components/schemas/PlistValue' };
const form = (name: string, schema: Record<string, unknown>) => ({
  type: 'object',
  required: [name],
  properties: { [name]: schema },
  additionalProperties: false,
});

/** A plist value in the typed JSON encoding (docs/plist.md). */
const PLIST_VALUE = {
  description:
    'A property-list value as typed JSON: strings, booleans and arrays as themselves; a whole number is an <integer> (within ±2^53), any other number a <real>; an object without "$" keys is a <dict>; one-key objects carry the rest. An object with a "$" key that is not exactly one of these forms is refused (400).',
  oneOf: [
    { type: 'string' },
    { type: 'boolean' },
    { type: 'number' },
    { type: 'array', items: VALUE_REF },
    form('$data', { type: 'string', contentEncoding: 'base64', description: '<data>' }),
    form('$date', {
      type: 'string',
      format: 'date-time',
      description: '<date>, whole seconds in commands',
    }),
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
};

function requestBody(route: AdminRoute, fields: readonly string[]): Record<string, unknown> {
  const schema = {
    type: 'object',
    properties: Object.fromEntries(
      fields.filter((f) => f !== '...').map((f) => [f, route.plistBody === true ? VALUE_REF : {}]),
    ),
    additionalProperties: fields.includes('...')
      ? route.plistBody === true
        ? VALUE_REF
        : true
      : false,
  };
  if (route.plistBody !== true)
    return { required: true, content: { 'application/json': { schema } } };
  return {
    required: true,
    description: `JSON in the typed encoding of property lists, or the same dictionary as an XML or binary plist (${PLIST_MEDIA_TYPE}). Past the body limit (${route.bodyLimit ?? 1024 * 1024} bytes): 413.`,
    content: {
      'application/json': { schema },
      [PLIST_MEDIA_TYPE]: { schema: { type: 'string', format: 'binary' } },
    },
  };
}

function operation(route: AdminRoute): Record<string, unknown> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const parameters: Record<string, unknown>[] = names.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9._@:-]{1,256}$' },
  }));
  if (route.method === 'GET' && route.summary.includes('paginated'))
    parameters.push(
      {
        name: 'limit',
        in: 'query',
        schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    );
  for (const q of route.query ?? [])
    parameters.push({
      name: q.name,
      in: 'query',
      description: q.description,
      schema: {
        type: 'string',
        ...(q.values === undefined ? {} : { enum: q.values, default: q.values[0] }),
      },
    });
  const op: Record<string, unknown> = {
    summary: route.summary,
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
    parameters,
    security: route.auth === 'public' ? [] : [{ apiKey: [] }],
    'x-orchard-scope': route.auth,
    responses: {
      '2XX': {
        description: 'success',
        content: { 'application/json': { schema: { type: 'object' } } },
      },
      default: {
        description: 'error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
  if (route.bodyFields) op.requestBody = requestBody(route, route.bodyFields);
  return op;
}

/** Builds the document for `routes`. */
export function openApiDocument(routes: readonly AdminRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const entry = (paths[route.path] ??= {});
    entry[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orchard admin API',
      version: '1',
      description:
        'Authorization: Bearer <API key>. Keys have read or write scope. Missing, empty, unknown or under-scoped keys get 403 with a JSON error.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR, PlistValue: PLIST_VALUE },
    },
    paths,
  };
}

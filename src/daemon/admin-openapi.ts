/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table so it cannot drift
 * from what the router serves: paths, parameters, security per route, and the error shape.
 */
import type { AdminRoute } from './admin-routes.js';

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
  if (route.bodyFields)
    op.requestBody = {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: Object.fromEntries(
              route.bodyFields.filter((f) => f !== '...').map((f) => [f, {}]),
            ),
            additionalProperties: route.bodyFields.includes('...'),
          },
        },
      },
    };
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
      schemas: { Error: ERROR },
    },
    paths,
  };
}

/**
 * Reading and validating an admin request: the body within its limit, parsed as the route
 * allows (JSON, or a plist where `plistBody`), then query, path parameters and body validated
 * against the route's zod schemas, in that order.
 */
import type { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { RequestError } from '../../errors.js';
import type { AdminEnv } from './app.js';
import type { AdminRoute, RouteRequest } from './route.js';
import {
  badField,
  isJsonObject,
  parseCsvOrJsonBody,
  parseJsonBody,
  parsePlistOrJsonBody,
  refuseNul,
  validatePart,
} from './validate.js';

function tooLarge(limit: number): RequestError {
  return new RequestError('ERR_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
}

/** The whole body of `request`, refused with 413 past `limit` bytes (declared or read). */
async function bytesOf(request: Request, limit: number): Promise<Uint8Array> {
  if (Number(request.headers.get('content-length') ?? '0') > limit) throw tooLarge(limit);
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Every body the API takes is an object (JSON, or a plist dictionary where the route says
 * `plistBody`), and only on POST, PUT and PATCH; such a route that declares no body takes none
 * (or `{}`).
 * Refusals are `ERR_BAD_REQUEST` naming `body`.
 */
function checkBody(route: AdminRoute, body: unknown): unknown {
  if (body === undefined) return undefined;
  if (route.method === 'GET' || route.method === 'DELETE')
    throw badField('body', `${route.method} takes no body`);
  if (!isJsonObject(body))
    throw badField(
      'body',
      route.plistBody === true
        ? 'the body must be a JSON object or a plist dictionary'
        : 'the body must be a JSON object',
    );
  if (route.route.request?.body === undefined && Object.keys(body).length > 0)
    throw badField('body', 'this route takes no body');
  return body;
}

/**
 * Receives the body of a request to `route` before authentication, as the daemon always did: at
 * most the route's `bodyLimit` when `mayUseLimit` (the caller's key may call the route), else
 * `limit`, so only an authorized caller can send a large body. Sets the `bytes` variable.
 */
export function receiveBody(
  route: AdminRoute,
  limit: number,
  mayUseLimit: (c: Context<AdminEnv>) => Promise<boolean>,
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const max = route.bodyLimit !== undefined && (await mayUseLimit(c)) ? route.bodyLimit : limit;
    const raw = c.req.raw;
    const bytes =
      raw.method === 'GET' || raw.method === 'HEAD'
        ? ((c.env as AdminEnv['Bindings'] | undefined)?.getBody ?? new Uint8Array(0))
        : await bytesOf(raw, max);
    if (bytes.length > max) throw tooLarge(max);
    c.set('bytes', bytes);
    await next();
  };
}

/** Parses the received body as the route allows (after authentication). Sets `body`. */
export function parseBody(route: AdminRoute): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const type = c.req.header('content-type');
    const bytes = c.get('bytes');
    const parsed =
      route.plistBody === true
        ? parsePlistOrJsonBody(type, bytes)
        : route.csvBody === true
          ? parseCsvOrJsonBody(type, bytes)
          : parseJsonBody(type, bytes);
    // A plist body is stored as bytes (U+0000 fits); anything else may land in a text column.
    if (route.plistBody !== true) refuseNul(parsed);
    c.set('body', checkBody(route, parsed));
    await next();
  };
}

/** The query as a record of each parameter's first value. */
function queryOf(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(url).searchParams) if (!(k in out)) out[k] = v;
  return out;
}

/** The JSON body schema a route declares, if any. */
function bodySchema(route: AdminRoute): z.ZodType | undefined {
  const content = route.route.request?.body?.content as
    Record<string, { schema?: unknown }> | undefined;
  return content?.['application/json']?.schema as z.ZodType | undefined;
}

/**
 * Validates query, path parameters and body of a request against `route`'s schemas. Throws
 * AdminError `ERR_BAD_REQUEST` naming the field at fault. A plist route's handler gets the body
 * as parsed (plist values kept as they are); others get the schema's output.
 */
export function validateRequest(
  route: AdminRoute,
  c: Context<AdminEnv>,
  body: unknown,
): Omit<RouteRequest, 'actor' | 'caller'> {
  const request = route.route.request;
  const query = request?.query ? validatePart('query', request.query, queryOf(c.req.url)) : {};
  const params = request?.params ? validatePart('param', request.params, c.req.param()) : {};
  const schema = bodySchema(route);
  let valid: unknown = body;
  if (schema !== undefined && (body !== undefined || request?.body?.required === true)) {
    const out = validatePart('json', schema, body);
    if (route.plistBody !== true) valid = out;
  }
  return {
    query: query as Record<string, string>,
    params: params as Record<string, string>,
    body: valid,
  };
}

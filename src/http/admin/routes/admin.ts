/**
 * Admin routes over the administrative domain: enrollment links, API keys and the audit log,
 * plus the public OpenAPI document.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { createApiKey } from '../../../admin/api-keys.js';
import { notFound } from './enrollments.js';
import { audit, defineRoute, json, jsonResponse } from '../route.js';
import { IdParams, page, PageQuery } from '../schemas.js';
import { listWithCursor } from '../validate.js';
import { ApiKeyView, AuditView, TokenView, apiKeyView, auditView, tokenView } from '../views.js';

const MAX_TOKEN_SECONDS = 365 * 86_400;
const expiresError = `expiresInSeconds must be an integer from 0 to ${MAX_TOKEN_SECONDS}`;

/** A non-empty string field of at most `max` characters, refused with today's messages. */
function text(name: string, max: number) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${name} is required` : `${name} must be a non-empty string`,
    })
    .min(1, { error: `${name} must be a non-empty string` })
    .max(max, { error: `${name} is too long` });
}

/** Body of `POST /api/v1/enrollment-tokens`. */
export const TokenBody = z
  .strictObject({
    singleUse: z.boolean({ error: 'singleUse must be a boolean' }).optional(),
    expiresInSeconds: z
      .number({ error: expiresError })
      .int({ error: expiresError })
      .min(0, { error: expiresError })
      .max(MAX_TOKEN_SECONDS, { error: expiresError })
      .optional(),
    user: text('user', 128).optional(),
  })
  .openapi('EnrollmentTokenBody');

/** Body of `POST /api/v1/api-keys`. */
export const ApiKeyBody = z
  .strictObject({
    name: text('name', 64),
    scope: z.enum(['read', 'write'], {
      error: (issue) =>
        issue.input === undefined ? 'scope is required' : 'scope has an invalid format',
    }),
  })
  .openapi('ApiKeyBody');

const Revoked = z.object({ revoked: z.literal(true) });

const createToken = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollment-tokens',
    summary: 'Create an enrollment link (single or multi-use, expiring, optionally for a user)',
    request: {
      body: { required: false, content: { 'application/json': { schema: TokenBody } } },
    },
    responses: {
      201: jsonResponse(
        'the link; its URL appears in this answer only',
        TokenView.extend({ url: z.string() }),
      ),
    },
  }),
  async handle(deps, req) {
    const body = req.body ?? {};
    const { record, url } = await deps.enrollment.createToken({
      singleUse: body.singleUse ?? true,
      ...(body.expiresInSeconds === undefined ? {} : { expiresInSeconds: body.expiresInSeconds }),
      ...(body.user === undefined ? {} : { user: body.user }),
    });
    await audit(deps, req, 'enrollment-token.create', record.id, { singleUse: record.singleUse });
    return json(201, { ...tokenView(record), url });
  },
});

const listTokens = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollment-tokens',
    summary: 'List enrollment tokens (without their secrets)',
    request: { query: PageQuery },
    responses: { 200: jsonResponse('a page of links', page(TokenView)) },
  }),
  async handle(deps, req) {
    const paging = {
      limit: Number(req.query.limit ?? 100),
      ...(req.query.cursor === undefined ? {} : { cursor: req.query.cursor }),
    };
    const result = await listWithCursor(paging, () => deps.admin.listEnrollmentTokens(paging));
    return json(200, { items: result.items.map(tokenView), nextCursor: result.nextCursor ?? null });
  },
});

const revokeToken = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'delete',
    path: '/api/v1/enrollment-tokens/{id}',
    summary: 'Revoke an enrollment token',
    request: { params: IdParams },
    responses: { 200: jsonResponse('revoked', Revoked) },
  }),
  async handle(deps, req) {
    if (!(await deps.admin.revokeEnrollmentToken(req.params.id)))
      throw notFound('active enrollment token');
    await audit(deps, req, 'enrollment-token.revoke', req.params.id);
    return json(200, { revoked: true });
  },
});

const listKeys = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/api-keys',
    summary: 'List API keys (without their secrets)',
    responses: {
      200: jsonResponse('every key', z.object({ items: z.array(ApiKeyView) })),
    },
  }),
  handle: async (deps) => json(200, { items: (await deps.admin.listApiKeys()).map(apiKeyView) }),
});

const createKey = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/api-keys',
    summary: "Create an API key for the caller's own administrator; the key is in this answer only",
    request: {
      body: { required: true as const, content: { 'application/json': { schema: ApiKeyBody } } },
    },
    responses: {
      201: jsonResponse('the key, shown once', ApiKeyView.extend({ key: z.string() })),
    },
  }),
  async handle(deps, req) {
    const { name, scope } = req.body;
    const principalId = req.caller?.principal.id;
    const { record, key } = await createApiKey(deps.admin, name, scope, principalId);
    await audit(deps, req, 'api-key.create', record.id, { name, scope, principalId });
    return json(201, { ...apiKeyView(record), key });
  },
});

const revokeKey = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'delete',
    path: '/api/v1/api-keys/{id}',
    summary: 'Revoke an API key',
    request: { params: IdParams },
    responses: { 200: jsonResponse('revoked', Revoked) },
  }),
  async handle(deps, req) {
    if (!(await deps.admin.revokeApiKey(req.params.id))) throw notFound('active API key');
    await audit(deps, req, 'api-key.revoke', req.params.id);
    return json(200, { revoked: true });
  },
});

const auditLog = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/audit',
    summary: 'The audit log, newest first (paginated)',
    request: { query: PageQuery },
    responses: { 200: jsonResponse('a page of entries', page(AuditView)) },
  }),
  async handle(deps, req) {
    const paging = {
      limit: Number(req.query.limit ?? 100),
      ...(req.query.cursor === undefined ? {} : { cursor: req.query.cursor }),
    };
    const result = await listWithCursor(paging, () => deps.admin.listAudit(paging));
    return json(200, { items: result.items.map(auditView), nextCursor: result.nextCursor ?? null });
  },
});

/** The routes over links, keys and the audit log. */
export const adminRoutes = [
  createToken,
  listTokens,
  revokeToken,
  listKeys,
  createKey,
  revokeKey,
  auditLog,
];

/**
 * Admin routes over users' personal enrollment links (rule M9): show the link and its QR code,
 * rotate it (the old one answers 410), mail it again. A user is seen only by administrators
 * scoped at its group or above (404 `ERR_USER_NOT_FOUND` otherwise); rotating and sending need
 * write access to the user's group. Every change is audited.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  callerOf,
  audit,
  defineRoute,
  json,
  jsonResponse,
  raw,
  type AdminRoute,
} from '../route.js';
import { IdParams } from '../schemas.js';
import { authorizeUser, LinkSchema, linkJson, qrResponse, qrType } from './user-links-views.js';

const BASE = '/api/v1/users/{id}/enrollment-link';

const readLink = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: BASE,
    summary:
      "The user's personal enrollment link (made on first use); 409 while the user has no policy",
    request: { params: IdParams },
    responses: { 200: jsonResponse('the link, its status and expiry', LinkSchema) },
  }),
  async handle(deps, req) {
    const user = await authorizeUser(deps, callerOf(req), req.params.id, 'read');
    return json(200, linkJson(await deps.userLinks.personal(user.id)));
  },
});

const qrRoutes = (['png', 'svg'] as const).map((format) =>
  defineRoute({
    auth: 'read',
    scoped: true,
    route: createRoute({
      method: 'get',
      path: `${BASE}/qr.${format}`,
      summary: `The user's personal enrollment link as a QR code (${format.toUpperCase()})`,
      request: { params: IdParams },
      responses: { 200: qrResponse(format) },
    }),
    async handle(deps, req) {
      const user = await authorizeUser(deps, callerOf(req), req.params.id, 'read');
      const { url } = await deps.userLinks.personal(user.id);
      return raw(200, qrType(format), await deps.userLinks.qr(url, format));
    },
  }),
);

const rotateLink = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: `${BASE}/rotate`,
    summary: "Replace the user's personal link with a new one; the old link then answers 410",
    request: { params: IdParams },
    responses: { 200: jsonResponse('the new link', LinkSchema) },
  }),
  async handle(deps, req) {
    const user = await authorizeUser(deps, callerOf(req), req.params.id, 'write');
    const link = await deps.userLinks.rotate(user.id);
    await audit(deps, req, 'user.enrollment-link.rotate', user.id, { linkId: link.record.id });
    return json(200, linkJson(link));
  },
});

const sendLink = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: `${BASE}/send`,
    summary:
      "Mail the user's personal link (the same link) with its QR code; 503 without --smtp-url",
    request: { params: IdParams },
    responses: {
      200: jsonResponse(
        'the link, marked sent',
        z.object({ sent: z.literal(true), link: LinkSchema }),
      ),
    },
  }),
  async handle(deps, req) {
    const user = await authorizeUser(deps, callerOf(req), req.params.id, 'write');
    const link = await deps.userLinks.send(user.id);
    await audit(deps, req, 'user.enrollment-link.send', user.id, { linkId: link.record.id });
    return json(200, { sent: true, link: linkJson(link) });
  },
});

/** The personal enrollment-link routes. */
export const userLinkRoutes: readonly AdminRoute[] = [readLink, ...qrRoutes, rotateLink, sendLink];

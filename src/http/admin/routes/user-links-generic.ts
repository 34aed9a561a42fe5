/**
 * Admin routes over a group's generic enrollment links (rule M10): devices without a named user
 * enroll through them, each becoming a generic user of the group. Only administrators scoped at
 * the group or above see them; making and revoking need write access. Every change is audited.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ManagementError } from '../../../errors.js';
import type { LinkView } from '../../../management/user-links.js';
import {
  callerOf,
  audit,
  defineRoute,
  json,
  jsonResponse,
  raw,
  type AdminApiDeps,
  type AdminRoute,
} from '../route.js';
import { GroupParams } from './groups-views.js';
import {
  authorizeGroupLinks,
  GroupLinkParams,
  LinkSchema,
  linkJson,
  qrResponse,
  qrType,
} from './user-links-views.js';

const BASE = '/api/v1/groups/{id}/enrollment-links';

const CreateBody = z.strictObject({
  policy: z
    .string({ error: 'policy must be a string of 1 to 128 characters' })
    .min(1, { error: 'policy must be a string of 1 to 128 characters' })
    .max(128, { error: 'policy must be a string of 1 to 128 characters' })
    .optional()
    .openapi({
      description:
        'the policy (id or name) the users it creates get; absent, the group default policy applies',
    }),
  expiresInSeconds: z
    .number({ error: 'expiresInSeconds must be an integer from 86400 to 31536000' })
    .int({ error: 'expiresInSeconds must be an integer from 86400 to 31536000' })
    .min(86_400, { error: 'links live at least 24 hours (86400 seconds)' })
    .max(365 * 86_400, { error: 'expiresInSeconds must be an integer from 86400 to 31536000' })
    .optional()
    .openapi({ description: "lifetime; default the group's enrollment page linkLifetimeSeconds" }),
});

/** The generic link `linkId` of group `groupId`; 404 `ERR_LINK_NOT_FOUND` for another group's. */
async function groupLink(deps: AdminApiDeps, groupId: string, linkId: string): Promise<LinkView> {
  const link = await deps.userLinks.generic(linkId);
  if (link.record.groupId !== groupId)
    throw new ManagementError('ERR_LINK_NOT_FOUND', `no generic enrollment link ${linkId}`);
  return link;
}

const createLink = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'post',
    path: BASE,
    summary: 'Make a generic enrollment link of the group for devices without a named user',
    request: {
      params: GroupParams,
      body: { required: false, content: { 'application/json': { schema: CreateBody } } },
    },
    responses: { 201: jsonResponse('the link', LinkSchema) },
  }),
  async handle(deps, req) {
    const { id } = req.params;
    const caller = callerOf(req);
    await authorizeGroupLinks(deps, caller, id, 'write');
    const { policy, expiresInSeconds } = req.body ?? {};
    const link = await deps.userLinks.createGeneric(id, {
      ...(policy === undefined ? {} : { policy }),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
      scope: caller.principal.groupId,
    });
    await audit(deps, req, 'group.enrollment-link.create', id, {
      linkId: link.record.id,
      ...(link.record.policy === undefined ? {} : { policyId: link.record.policy }),
    });
    return json(201, linkJson(link));
  },
});

const listLinks = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: BASE,
    summary: "The group's generic enrollment links, revoked and expired ones too",
    request: { params: GroupParams },
    responses: { 200: jsonResponse('the links', z.object({ items: z.array(LinkSchema) })) },
  }),
  async handle(deps, req) {
    await authorizeGroupLinks(deps, callerOf(req), req.params.id, 'read');
    const links = await deps.userLinks.listGeneric(req.params.id);
    return json(200, { items: links.map(linkJson) });
  },
});

const qrRoutes = (['png', 'svg'] as const).map((format) =>
  defineRoute({
    auth: 'read',
    scoped: true,
    route: createRoute({
      method: 'get',
      path: `${BASE}/{linkId}/qr.${format}`,
      summary: `A generic enrollment link as a QR code (${format.toUpperCase()})`,
      request: { params: GroupLinkParams },
      responses: { 200: qrResponse(format) },
    }),
    async handle(deps, req) {
      const { id, linkId } = req.params;
      await authorizeGroupLinks(deps, callerOf(req), id, 'read');
      const { url } = await groupLink(deps, id, linkId);
      return raw(200, qrType(format), await deps.userLinks.qr(url, format));
    },
  }),
);

const revokeLink = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: `${BASE}/{linkId}`,
    summary: 'Revoke a generic enrollment link: it answers 404 from then on',
    request: { params: GroupLinkParams },
    responses: { 200: jsonResponse('revoked', z.object({ revoked: z.literal(true) })) },
  }),
  async handle(deps, req) {
    const { id, linkId } = req.params;
    await authorizeGroupLinks(deps, callerOf(req), id, 'write');
    await groupLink(deps, id, linkId);
    await deps.userLinks.revokeGeneric(linkId);
    await audit(deps, req, 'group.enrollment-link.revoke', id, { linkId });
    return json(200, { revoked: true });
  },
});

/** The generic enrollment-link routes. */
export const genericLinkRoutes: readonly AdminRoute[] = [
  createLink,
  listLinks,
  ...qrRoutes,
  revokeLink,
];

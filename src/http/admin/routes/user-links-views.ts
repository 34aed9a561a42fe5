/**
 * The schemas, views and scope checks of the enrollment-link routes: a link as the API shows it,
 * QR image responses, and who may see a user or a group's generic links.
 */
import { z } from '@hono/zod-openapi';
import { authorizeGroup, type Access, type Caller } from '../../../admin/principals.js';
import { ManagementError } from '../../../errors.js';
import { userNotFound, type LinkView } from '../../../management/user-links.js';
import type { GroupTree } from '../../../management/tree.js';
import type { UserRecord } from '../../../storage/ports.js';
import type { AdminApiDeps } from '../route.js';
import { idSchema, Instant } from '../schemas.js';
import { iso } from '../views.js';

/** An enrollment link as the API shows it. */
export const LinkSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['single', 'personal', 'generic']),
    url: z.string().openapi({ description: 'the link; it enrolls while `state` is active' }),
    status: z.enum(['created', 'sent', 'opened', 'enrolled']).openapi({
      description: 'the furthest step reached (S9)',
    }),
    state: z.enum(['active', 'expired', 'revoked', 'rotated']),
    userId: z.string().nullable(),
    groupId: z.string().nullable(),
    policy: z.string().nullable().openapi({
      description:
        "the name of the link's policy: a generic link's, or a personal link's user's own (null: none; the group default applies)",
    }),
    policyId: z.string().nullable().openapi({ description: 'the id of that policy' }),
    uses: z.number().int().openapi({ description: 'profile downloads' }),
    enrollments: z.number().int(),
    createdAt: Instant,
    expiresAt: Instant,
    sentAt: Instant,
    openedAt: Instant,
    enrolledAt: Instant,
    rotatedAt: Instant,
    revokedAt: Instant,
  })
  .openapi('EnrollmentLink');

/** The JSON of a link. */
export function linkJson(link: LinkView): z.infer<typeof LinkSchema> {
  const r = link.record;
  return {
    ...{ id: r.id, kind: r.kind, url: link.url, status: link.status, state: link.state },
    ...{ userId: r.userId ?? null, groupId: r.groupId ?? null },
    ...{ policy: link.policy?.name ?? r.policy ?? null, policyId: r.policy ?? null },
    ...{ uses: r.uses, enrollments: r.enrollments, createdAt: iso(r.createdAt) },
    ...{ expiresAt: iso(r.expiresAt), sentAt: iso(r.sentAt), openedAt: iso(r.openedAt) },
    ...{ enrolledAt: iso(r.enrolledAt), rotatedAt: iso(r.rotatedAt), revokedAt: iso(r.revokedAt) },
  };
}

/** Path parameters `{id}` and `{linkId}`. */
export const GroupLinkParams = z.object({
  id: idSchema('id').openapi({ param: { name: 'id', in: 'path' } }),
  linkId: idSchema('linkId').openapi({ param: { name: 'linkId', in: 'path' } }),
});

/** A QR code response of `format`. */
export function qrResponse(format: 'png' | 'svg') {
  const type = format === 'png' ? 'image/png' : 'image/svg+xml';
  return {
    description: `the link as a QR code (${type})`,
    content: { [type]: { schema: z.string().openapi({ format: 'binary' }) } },
  };
}

/** The content type of a QR code of `format`. */
export const qrType = (format: 'png' | 'svg') =>
  format === 'png' ? 'image/png' : 'image/svg+xml; charset=utf-8';

/**
 * The user when the caller may `access` it: users are seen only in the caller's scope group and
 * below (people's data does not flow down from ancestors), else 404 `ERR_USER_NOT_FOUND`; a
 * change also needs write access to the user's group (403 `ERR_ADMIN_SCOPE`).
 */
export async function authorizeUser(
  deps: Pick<AdminApiDeps, 'admin' | 'groups'>,
  caller: Caller,
  id: string,
  access: Access,
): Promise<UserRecord> {
  const [user, tree] = await Promise.all([deps.admin.findUser(id), deps.groups.tree()]);
  if (user === undefined || !within(tree, user.groupId, caller)) throw userNotFound(id);
  if (access === 'write') authorizeGroup(tree, caller, user.groupId, 'write');
  return user;
}

function within(tree: GroupTree, groupId: string, caller: Caller): boolean {
  return tree.get(groupId) !== undefined && tree.isWithin(groupId, caller.principal.groupId);
}

/**
 * Throws unless the caller may `access` the generic links of `groupId`: the group must be the
 * caller's scope group or below it (a generic link enrolls devices into the group, so an
 * ancestor's links are not handed to a narrower administrator): 404 `ERR_GROUP_NOT_FOUND` when
 * out of sight, 403 `ERR_ADMIN_SCOPE` for an ancestor or a read-only caller writing.
 */
export async function authorizeGroupLinks(
  deps: Pick<AdminApiDeps, 'groups'>,
  caller: Caller,
  groupId: string,
  access: Access,
): Promise<void> {
  const tree = await deps.groups.tree();
  authorizeGroup(tree, caller, groupId, access);
  if (!within(tree, groupId, caller))
    throw new ManagementError(
      'ERR_ADMIN_SCOPE',
      `the enrollment links of group ${groupId} are outside this administrator's scope (${caller.principal.groupId})`,
      { group: groupId },
    );
}

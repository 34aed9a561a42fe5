/**
 * `GET /api/v1/users/{id}/enrollments`: the enrollments a user owns (rules M9, M10), each with
 * the link it enrolled through and the enrollment as the list shows it. Users are seen only in
 * the caller's scope group and below: anything else is the same 404 as an unknown user.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ManagementError } from '../../../errors.js';
import type { EnrollmentOwner } from '../../../storage/ports.js';
import { callerOf, defineRoute, json, jsonResponse, type AdminApiDeps } from '../route.js';
import { IdParams, Instant } from '../schemas.js';
import { EnrollmentSummary, enrollmentSummary, iso } from '../views.js';

/** One enrollment a user owns. */
const OwnedEnrollment = z
  .object({
    enrollmentId: z.string(),
    userId: z.string(),
    groupId: z.string(),
    linkId: z.string().nullable().openapi({ description: 'the link it enrolled through' }),
    assignedAt: Instant,
    enrollment: EnrollmentSummary.nullable().openapi({
      description: 'the enrollment, or null when its record is gone',
    }),
  })
  .openapi('OwnedEnrollment');

async function ownedView(deps: Pick<AdminApiDeps, 'storage'>, owner: EnrollmentOwner) {
  const record = await deps.storage.findEnrollment(owner.enrollmentId);
  return {
    enrollmentId: owner.enrollmentId,
    userId: owner.userId,
    groupId: owner.groupId,
    linkId: owner.linkId ?? null,
    assignedAt: iso(owner.assignedAt),
    enrollment: record === undefined ? null : enrollmentSummary(record, owner),
  };
}

const userEnrollments = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/users/{id}/enrollments',
    summary: 'The enrollments a user owns, in the order they were assigned',
    request: { params: IdParams },
    responses: {
      200: jsonResponse("the user's enrollments", z.object({ items: z.array(OwnedEnrollment) })),
    },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const [user, tree] = await Promise.all([
      deps.admin.findUser(req.params.id),
      deps.groups.tree(),
    ]);
    // People's data does not flow down from ancestors: only the caller's subtree is visible.
    if (user === undefined || !tree.isWithin(user.groupId, caller.principal.groupId))
      throw new ManagementError('ERR_USER_NOT_FOUND', `no user ${req.params.id}`);
    const owners = await deps.admin.listUserEnrollments(user.id);
    const sorted = [...owners].sort((a, b) => a.assignedAt.getTime() - b.assignedAt.getTime());
    return json(200, { items: await Promise.all(sorted.map((o) => ownedView(deps, o))) });
  },
});

/** The user-enrollment routes. */
export const userEnrollmentRoutes = [userEnrollments];

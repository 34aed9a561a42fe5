/**
 * Admin routes over commands: one command for many enrollments (listed, every enrolled one, or a
 * group's), and one command's state.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { PlistValue } from '../../../protocol/plist.js';
import {
  audit,
  defineRoute,
  json,
  jsonResponse,
  type AdminApiDeps,
  type RouteRequest,
} from '../route.js';
import { encodingParam, idSchema, UuidParams } from '../schemas.js';
import { commandField } from '../validate.js';
import { CommandView, commandView } from '../views.js';
import {
  COMMAND_BODY_LIMIT,
  CommandBody,
  commandContent,
  enqueueAudited,
  notFound,
} from './enrollments.js';

const idsError = 'enrollmentIds must be an array of 1 to 1000 ids';
const eitherError = 'give either enrollmentIds or target, not both';

/** A target naming enrollments without listing them: every enrolled one, or a group's. */
export const CommandTarget = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('enrolled') }),
      z.strictObject({ kind: z.literal('group'), groupId: idSchema('target.groupId') }),
    ],
    { error: 'target must be {"kind":"enrolled"} or {"kind":"group","groupId":…}' },
  )
  .openapi('CommandTarget', {
    description:
      '`enrolled`: every enrollment enrolled when the command is queued; `group`: the enrolled devices owned by users of the group and of every group below it',
  });

/** Body of `POST /api/v1/commands`: listed enrollment ids, or a {@link CommandTarget}. */
export const BatchBody = z
  .strictObject({
    enrollmentIds: z
      .array(idSchema('enrollmentIds[]'), { error: idsError })
      .min(1, { error: idsError })
      .max(1000, { error: idsError })
      .optional(),
    target: CommandTarget.optional(),
    command: CommandBody,
  })
  .superRefine((body, ctx) => {
    if (body.enrollmentIds === undefined && body.target === undefined)
      ctx.addIssue({ code: 'custom', path: ['enrollmentIds'], message: idsError });
    else if (body.enrollmentIds !== undefined && body.target !== undefined)
      ctx.addIssue({ code: 'custom', path: ['target'], message: eitherError });
  })
  .openapi('BatchCommandBody');

/** Owned enrollments read per storage call for a group target. */
const GROUP_PAGE = 10_000;

/** The enrolled devices owned by users of `groupId` and its subtree, one read per page; 404 for an unknown group. */
async function groupEnrollments(
  deps: Pick<AdminApiDeps, 'admin' | 'groups' | 'storage'>,
  groupId: string,
): Promise<string[]> {
  const { tree } = await deps.groups.state();
  if (tree.get(groupId) === undefined) throw notFound('group');
  const groupIds = tree.subtree(groupId);
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const paging = { limit: GROUP_PAGE, ...(cursor === undefined ? {} : { cursor }) };
    const page = await deps.admin.listOwnedEnrollments({ groupIds }, paging);
    const found = await deps.storage.findEnrollments(page.items.map((o) => o.enrollmentId));
    for (const e of found) if (e.enrolled) ids.push(e.id);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

/** Queues `command` to a target, audited with the target's name (not its ids) and count. */
async function enqueueTarget(
  deps: Pick<AdminApiDeps, 'admin' | 'core' | 'groups' | 'storage'>,
  req: Pick<RouteRequest, 'actor'>,
  target: z.infer<typeof CommandTarget>,
  command: Record<string, PlistValue>,
) {
  let queued: { uuid: string; enrollmentIds: readonly string[] } | undefined;
  if (target.kind === 'enrolled') {
    queued = await deps.core.enqueueToEnrolled(command as never);
  } else {
    const ids = await groupEnrollments(deps, target.groupId);
    if (ids.length > 0)
      queued = { uuid: await deps.core.enqueue(ids, command as never), enrollmentIds: ids };
  }
  if (queued === undefined) throw notFound('enrolled enrollment of the target');
  const name = target.kind === 'enrolled' ? 'enrolled' : `group:${target.groupId}`;
  await audit(deps, req, 'command.create', name, {
    commandUuid: queued.uuid,
    requestType: command.RequestType,
    targets: queued.enrollmentIds.length,
  });
  return json(201, { commandUuid: queued.uuid, targets: queued.enrollmentIds.length });
}

const batch = defineRoute({
  auth: 'write',
  plistBody: true,
  bodyLimit: COMMAND_BODY_LIMIT,
  route: createRoute({
    method: 'post',
    path: '/api/v1/commands',
    summary:
      "Queue one command for listed enrollments (1 to 1,000 ids) or a target: every enrolled device, or a group's (typed JSON or a plist dictionary)",
    request: { body: commandContent(BatchBody) },
    responses: {
      201: jsonResponse(
        'queued',
        z
          .object({
            commandUuid: z.string(),
            targets: z.number().int().optional().openapi({
              description: 'with a target: how many enrollments it named',
            }),
          })
          .openapi('BatchQueued'),
      ),
    },
  }),
  async handle(deps, req) {
    const body = req.body;
    const command = commandField(body.command, 'command');
    if (body.target !== undefined) return enqueueTarget(deps, req, body.target, command);
    const ids = body.enrollmentIds ?? [];
    // One lookup for the batch (not one round trip per id: 1,000 on PostgreSQL).
    const found = new Set((await deps.storage.findEnrollments(ids)).map((e) => e.id));
    if (ids.some((id) => !found.has(id))) throw notFound('enrollment');
    return enqueueAudited(deps, req, ids, command);
  },
});

const one = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/commands/{uuid}',
    summary: 'A command with each target status and the decoded device result',
    request: { params: UuidParams, query: z.strictObject({ encoding: encodingParam }) },
    responses: { 200: jsonResponse('the command', CommandView) },
  }),
  async handle(deps, req) {
    const found = await deps.core.findCommand(req.params.uuid);
    if (!found) throw notFound('command');
    return json(200, commandView(found, req.query.encoding ?? 'typed'));
  },
});

/** The command routes. */
export const commandRoutes = [batch, one];

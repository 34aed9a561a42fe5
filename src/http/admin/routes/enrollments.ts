/**
 * Admin routes over enrollments: the list and one enrollment, its commands (list, queue,
 * cancel) and an APNs push now.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AdminError, RequestError } from '../../../errors.js';
import type { PlistValue } from '../../../protocol/plist.js';
import {
  defineRoute,
  json,
  jsonResponse,
  audit,
  type AdminApiDeps,
  type RouteRequest,
} from '../route.js';
import { encodingParam, IdParams, IdUuidParams, page, PageQuery } from '../schemas.js';
import { commandField, listWithCursor, PLIST_MEDIA_TYPE } from '../validate.js';
import {
  EnrollmentCommandView,
  EnrollmentDetail,
  EnrollmentSummary,
  PushResultView,
  enrollmentCommandView,
  enrollmentDetail,
  enrollmentSummary,
  pushResultView,
} from '../views.js';

/** Largest body of the command routes: a signed profile of several MiB fits, as JSON or plist. */
export const COMMAND_BODY_LIMIT = 8 * 1024 * 1024;

/** AdminError-shaped 404 for `what`. */
export const notFound = (what: string): RequestError =>
  new RequestError('ERR_NOT_FOUND', `${what} not found`);

/** The enrollment `id`, or 404. */
export async function existingEnrollment(deps: Pick<AdminApiDeps, 'storage'>, id: string) {
  const found = await deps.storage.findEnrollment(id);
  if (!found) throw notFound('enrollment');
  return found;
}

/**
 * Queues `command` to `ids` (already checked to exist), audits it as `command.create` and answers
 * 201 with the command's uuid: the one path of both command routes.
 */
export async function enqueueAudited(
  deps: Pick<AdminApiDeps, 'admin' | 'core'>,
  req: Pick<RouteRequest, 'actor'>,
  ids: readonly string[],
  command: Record<string, PlistValue>,
) {
  const uuid = await deps.core.enqueue(ids, command as never);
  await audit(deps, req, 'command.create', ids.join(','), {
    commandUuid: uuid,
    requestType: command.RequestType,
  });
  return json(201, { commandUuid: uuid });
}

/** A command dictionary in Apple's spelling: `RequestType` and the type's keys, as plist values. */
export const CommandBody = z.looseObject({ RequestType: z.string() }).openapi('CommandBody', {
  description:
    "A command dictionary in Apple's spelling, validated against Apple's schema (422 naming the keys otherwise); typed JSON (docs/plist.md) or the same dictionary as a plist",
  additionalProperties: { $ref: '#/components/schemas/PlistValue' },
} as never);

/** Request body of the command routes: typed JSON, or the same dictionary as a plist. */
export function commandContent<S extends z.ZodType>(schema: S) {
  return {
    required: true as const,
    description: `JSON in the typed encoding of property lists, or the same dictionary as an XML or binary plist (${PLIST_MEDIA_TYPE}). Past ${COMMAND_BODY_LIMIT} bytes: 413.`,
    content: {
      'application/json': { schema },
      [PLIST_MEDIA_TYPE]: { schema: z.string().openapi({ format: 'binary' }) },
    },
  };
}

const Queued = z.object({ commandUuid: z.string() }).openapi('Queued');

const list = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollments',
    summary: 'List enrollments (paginated; ?enrolled=true|false)',
    request: {
      query: PageQuery.extend({
        enrolled: z.enum(['true', 'false'], { error: 'enrolled must be true or false' }).optional(),
      }),
    },
    responses: { 200: jsonResponse('a page of enrollments', page(EnrollmentSummary)) },
  }),
  async handle(deps, req) {
    const paging = { limit: Number(req.query.limit ?? 100), ...cursorOf(req.query) };
    const { enrolled } = req.query;
    const result = await listWithCursor(paging, () =>
      deps.storage.listEnrollments({
        ...paging,
        ...(enrolled === undefined ? {} : { enrolled: enrolled === 'true' }),
      }),
    );
    const owners = await Promise.all(result.items.map((e) => deps.admin.findEnrollmentOwner(e.id)));
    return json(200, {
      items: result.items.map((e, i) => enrollmentSummary(e, owners[i])),
      nextCursor: result.nextCursor ?? null,
    });
  },
});

/** The `cursor` of validated paging parameters, as an optional property. */
export function cursorOf(query: { cursor?: string | undefined }): { cursor?: string } {
  return query.cursor === undefined ? {} : { cursor: query.cursor };
}

const one = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollments/{id}',
    summary: 'One enrollment with its device facts',
    request: { params: IdParams },
    responses: { 200: jsonResponse('the enrollment', EnrollmentDetail) },
  }),
  async handle(deps, req) {
    const e = await existingEnrollment(deps, req.params.id);
    return json(200, enrollmentDetail(e, await deps.admin.findEnrollmentOwner(e.id)));
  },
});

const commands = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollments/{id}/commands',
    summary: "An enrollment's commands in queue order, each with the device's result (paginated)",
    request: { params: IdParams, query: PageQuery.extend({ encoding: encodingParam }) },
    responses: { 200: jsonResponse('a page of commands', page(EnrollmentCommandView)) },
  }),
  async handle(deps, req) {
    const encoding = req.query.encoding ?? 'typed';
    const e = await existingEnrollment(deps, req.params.id);
    const paging = { limit: Number(req.query.limit ?? 100), ...cursorOf(req.query) };
    const result = await listWithCursor(paging, () => deps.core.listCommands(e.id, paging));
    return json(200, {
      items: result.items.map((c) => enrollmentCommandView(c, encoding)),
      nextCursor: result.nextCursor ?? null,
    });
  },
});

const queue = defineRoute({
  auth: 'write',
  plistBody: true,
  bodyLimit: COMMAND_BODY_LIMIT,
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollments/{id}/commands',
    summary:
      "Queue a command (Apple's spelling, validated against Apple's schema; typed JSON or a plist) and push",
    request: { params: IdParams, body: commandContent(CommandBody) },
    responses: { 201: jsonResponse('queued', Queued) },
  }),
  async handle(deps, req) {
    const command = commandField(req.body, 'body');
    const e = await existingEnrollment(deps, req.params.id);
    return enqueueAudited(deps, req, [e.id], command);
  },
});

const cancel = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'delete',
    path: '/api/v1/enrollments/{id}/commands/{uuid}',
    summary: 'Cancel a command not yet answered',
    request: { params: IdUuidParams },
    responses: {
      200: jsonResponse('canceled', z.object({ canceled: z.literal(true) })),
    },
  }),
  async handle(deps, req) {
    const e = await existingEnrollment(deps, req.params.id);
    const { uuid } = req.params;
    const command = await deps.core.findCommand(uuid);
    if (!command?.targets.some((t) => t.enrollmentId === e.id)) throw notFound('command');
    if (!(await deps.core.cancel(e.id, uuid)))
      throw new AdminError('ERR_CONFLICT', 'the command was already answered or canceled');
    await audit(deps, req, 'command.cancel', e.id, { commandUuid: uuid });
    return json(200, { canceled: true });
  },
});

const push = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollments/{id}/push',
    summary:
      'Send an APNs push now; per device: accepted, failed (with the reason), deferred or no-token',
    request: { params: IdParams },
    responses: {
      200: jsonResponse(
        'the outcome per device',
        z.object({
          pushed: z.number().int().openapi({ description: 'how many APNs accepted' }),
          results: z.array(PushResultView),
        }),
      ),
    },
  }),
  async handle(deps, req) {
    const e = await existingEnrollment(deps, req.params.id);
    if (!deps.pushEnabled)
      throw new AdminError('ERR_PUSH_DISABLED', 'no push certificate is configured');
    const results = await deps.core.pushWithResults([e.id]);
    // `pushed` stays for older clients: the number APNs accepted.
    const pushed = results.filter((r) => r.outcome === 'accepted').length;
    const outcome = results[0]?.outcome ?? null;
    await audit(deps, req, 'enrollment.push', e.id, { pushed, outcome });
    return json(200, { pushed, results: results.map(pushResultView) });
  },
});

/** The enrollment routes. */
export const enrollmentRoutes = [list, one, commands, queue, cancel, push];
